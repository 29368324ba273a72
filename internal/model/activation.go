package model

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Activation is an element-wise function and its derivative.
// Derivatives at kinks follow PyTorch: relu'(0) = 0, leaky-relu'(0) = slope.
type Activation struct {
	Name string
	F    func(float64) float64
	DF   func(float64) float64
}

const leakySlope = 0.01

var activations = map[string]Activation{
	"linear": {"linear", func(x float64) float64 { return x }, func(float64) float64 { return 1 }},
	"relu": {"relu", func(x float64) float64 {
		if x > 0 {
			return x
		}
		return 0
	}, func(x float64) float64 {
		if x > 0 {
			return 1
		}
		return 0
	}},
	"leaky-relu": {"leaky-relu", func(x float64) float64 {
		if x > 0 {
			return x
		}
		return leakySlope * x
	}, func(x float64) float64 {
		if x > 0 {
			return 1
		}
		return leakySlope
	}},
	"tanh":    {"tanh", math.Tanh, func(x float64) float64 { t := math.Tanh(x); return 1 - t*t }},
	"sigmoid": {"sigmoid", sigmoid, func(x float64) float64 { s := sigmoid(x); return s * (1 - s) }},
	// gelu is the exact form x·Φ(x) (PyTorch's nn.GELU() default).
	"gelu": {"gelu", func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) },
		func(x float64) float64 {
			return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
		}},
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// ActivationNames lists the valid activation names, sorted.
func ActivationNames() []string {
	names := make([]string, 0, len(activations))
	for n := range activations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupActivation returns the named activation or an error listing the
// valid names.
func LookupActivation(name string) (Activation, error) {
	a, ok := activations[name]
	if !ok {
		return Activation{}, fmt.Errorf("unknown activation %q (valid: %s)", name, strings.Join(ActivationNames(), ", "))
	}
	return a, nil
}

// Act applies an activation element-wise.
type Act[T tensor.Float] struct{ A Activation }

var _ Layer[float64] = (*Act[float64])(nil)

func (a *Act[T]) Kind() string                     { return "act" }
func (a *Act[T]) OutShape(in Shape) (Shape, error) { return in, nil }
func (a *Act[T]) Params() []*Param[T]              { return nil }

func (a *Act[T]) Forward(y, x *Mat[T]) {
	y.Resize(x.Rows, x.Cols)
	f := a.A.F
	yd := y.Data[:len(x.Data)]
	for i, v := range x.Data {
		yd[i] = T(f(float64(v)))
	}
}

func (a *Act[T]) VJP(dx, x, _, dy *Mat[T], _ bool, _ T) {
	if dx == nil {
		return
	}
	dx.Resize(x.Rows, x.Cols)
	df := a.A.DF
	dyd := dy.Data[:len(x.Data)]
	dxd := dx.Data[:len(x.Data)]
	for i, v := range x.Data {
		dxd[i] = T(df(float64(v))) * dyd[i]
	}
}
