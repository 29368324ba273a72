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
	// FDF returns F and DF together, sharing their work.
	FDF func(float64) (float64, float64)
}

const leakySlope = tensor.LeakySlope

var activations = map[string]Activation{
	"linear": {Name: "linear", F: func(x float64) float64 { return x }, DF: func(float64) float64 { return 1 }},
	"relu": {Name: "relu", F: func(x float64) float64 {
		if x > 0 {
			return x
		}
		return 0
	}, DF: func(x float64) float64 {
		if x > 0 {
			return 1
		}
		return 0
	}},
	"leaky-relu": {Name: "leaky-relu", F: func(x float64) float64 {
		if x > 0 {
			return x
		}
		return leakySlope * x
	}, DF: func(x float64) float64 {
		if x > 0 {
			return 1
		}
		return leakySlope
	}},
	"tanh": {Name: "tanh", F: math.Tanh, DF: func(x float64) float64 { t := math.Tanh(x); return 1 - t*t },
		FDF: func(x float64) (float64, float64) { y := math.Tanh(x); return y, 1 - y*y }},
	"sigmoid": {Name: "sigmoid", F: sigmoid, DF: func(x float64) float64 { s := sigmoid(x); return s * (1 - s) },
		FDF: func(x float64) (float64, float64) { y := sigmoid(x); return y, y * (1 - y) }},
	// gelu is the exact form x·Φ(x) (PyTorch's nn.GELU() default).
	"gelu": {Name: "gelu", F: func(x float64) float64 { y, _ := geluFDF(x); return y },
		DF: func(x float64) float64 { _, d := geluFDF(x); return d }, FDF: geluFDF},
}

// geluFDF returns x·Φ(x) and its derivative Φ(x) + x·φ(x).
func geluFDF(x float64) (float64, float64) {
	cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
	return x * cdf, cdf + x*math.Exp(-0.5*x*x)*(1/math.Sqrt(2*math.Pi))
}

func init() {
	for name, a := range activations {
		if a.FDF == nil {
			f, df := a.F, a.DF
			a.FDF = func(x float64) (float64, float64) { return f(x), df(x) }
			activations[name] = a
		}
	}
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

// ForwardDeriv sets y = f(x) and d = f'(x) in one pass, so that a VJP at
// the same x (VJPDeriv) needs no further evaluation of f.
func (a *Act[T]) ForwardDeriv(y, d, x *Mat[T]) {
	y.Resize(x.Rows, x.Cols)
	d.Resize(x.Rows, x.Cols)
	yd := y.Data[:len(x.Data)]
	dd := d.Data[:len(x.Data)]
	if xs, ok := tensor.F32(x.Data); ok {
		if k := tensor.ActKernel32(a.A.Name); k != nil {
			y32, _ := tensor.F32(yd)
			d32, _ := tensor.F32(dd)
			k(y32, d32, xs)
			return
		}
	}
	fdf := a.A.FDF
	for i, v := range x.Data {
		fy, fd := fdf(float64(v))
		yd[i], dd[i] = T(fy), T(fd)
	}
}

// VJPDeriv sets dx = d ⊙ dy with d from ForwardDeriv.
func (a *Act[T]) VJPDeriv(dx, d, dy *Mat[T]) {
	dx.Resize(d.Rows, d.Cols)
	tensor.Mul(dx.Data, d.Data, dy.Data[:len(d.Data)])
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
