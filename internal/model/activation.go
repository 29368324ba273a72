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
	// FDF32, if set, is a faster float32 form of FDF used by float32
	// models (within float32 rounding of FDF; tested).
	FDF32 func(float32) (float32, float32)
}

const leakySlope = 0.01

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
		FDF:   func(x float64) (float64, float64) { y := math.Tanh(x); return y, 1 - y*y },
		FDF32: func(x float32) (float32, float32) { y := tanh32(x); return y, 1 - y*y }},
	"sigmoid": {Name: "sigmoid", F: sigmoid, DF: func(x float64) float64 { s := sigmoid(x); return s * (1 - s) },
		FDF:   func(x float64) (float64, float64) { y := sigmoid(x); return y, y * (1 - y) },
		FDF32: func(x float32) (float32, float32) { y := 1 / (1 + exp32(-x)); return y, y * (1 - y) }},
	// gelu is the exact form x·Φ(x) (PyTorch's nn.GELU() default).
	"gelu": {Name: "gelu", F: func(x float64) float64 { y, _ := geluFDF(x); return y },
		DF: func(x float64) float64 { _, d := geluFDF(x); return d }, FDF: geluFDF, FDF32: geluFDF32},
}

// geluFDF returns x·Φ(x) and its derivative Φ(x) + x·φ(x).
func geluFDF(x float64) (float64, float64) {
	cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
	return x * cdf, cdf + x*math.Exp(-0.5*x*x)*(1/math.Sqrt(2*math.Pi))
}

// geluFDF32 evaluates gelu and its derivative in float32 with one
// exponential: with e = exp(−x²/2), erf(|x|/√2) = 1 − P(t)·e,
// t = 1/(1 + p|x|/√2) (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7),
// and φ(x) = e/√(2π).
func geluFDF32(x float32) (float32, float32) {
	const (
		p      = 0.3275911 / math.Sqrt2
		a1     = 0.254829592
		a2     = -0.284496736
		a3     = 1.421413741
		a4     = -1.453152027
		a5     = 1.061405429
		invS2p = 0.3989422804014327 // 1/√(2π)
	)
	ax := x
	if ax < 0 {
		ax = -ax
	}
	e := exp32(-0.5 * x * x)
	t := 1 / (1 + p*ax)
	erf := 1 - ((((a5*t+a4)*t+a3)*t+a2)*t+a1)*t*e
	if x < 0 {
		erf = -erf
	}
	cdf := 0.5 + 0.5*erf
	return x * cdf, cdf + x*e*invS2p
}

// tanh32 is tanh in float32 arithmetic: for |x| ≤ 2 the odd 13/6 rational
// approximation Eigen uses; beyond, 1 − 2e/(1+e) with e = exp(−2|x|),
// which keeps the last bits of values near ±1 (and so 1 − y²).
func tanh32(x float32) float32 {
	if x > 2 || x < -2 {
		ax := x
		if ax < 0 {
			ax = -ax
		}
		e := exp32(-2 * ax)
		y := 1 - 2*e/(1+e)
		if x < 0 {
			return -y
		}
		return y
	}
	const (
		a1  = 4.89352455891786e-03
		a3  = 6.37261928875436e-04
		a5  = 1.48572235717979e-05
		a7  = 5.12229709037114e-08
		a9  = -8.60467152213735e-11
		a11 = 2.00018790482477e-13
		a13 = -2.76076847742355e-16
		b0  = 4.89352518554385e-03
		b2  = 2.26843463243900e-03
		b4  = 1.18534705686654e-04
		b6  = 1.19825839466702e-06
	)
	x2 := x * x
	p := ((((((a13*x2+a11)*x2+a9)*x2+a7)*x2+a5)*x2+a3)*x2 + a1) * x
	q := ((b6*x2+b4)*x2+b2)*x2 + b0
	return p / q
}

// exp32 is exp in float32 arithmetic (Cephes expf: range reduction by
// ln 2 in two parts and a degree-6 polynomial; relative error ≈ 1e-7).
// Arguments below −87 return 0, above 88 return +Inf.
func exp32(x float32) float32 {
	switch {
	case x < -87:
		return 0
	case x > 88:
		return float32(math.Inf(1))
	}
	// floor(x·log2 e + ½) by truncation of a value made positive (x ≥ −87).
	fx := float32(int32(x*1.44269504088896341+0.5+128) - 128)
	x -= fx * 0.693359375
	x -= fx * -2.12194440e-4
	z := x * x
	y := ((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+1.6666665459e-1)*x + 5.0000001201e-1
	y = y*z + x + 1
	return y * math.Float32frombits(uint32(int32(fx)+127)<<23)
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
	if a.A.FDF32 != nil {
		if xs, ok := tensor.F32(x.Data); ok {
			y32, _ := tensor.F32(yd)
			d32, _ := tensor.F32(dd)
			switch a.A.Name {
			case "gelu":
				geluSlice32(y32, d32, xs)
			case "tanh":
				tanhSlice32(y32, d32, xs)
			default:
				fdf32(a.A.FDF32, y32, d32, xs)
			}
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
	dyd := dy.Data[:len(d.Data)]
	dxd := dx.Data[:len(d.Data)]
	for i, v := range d.Data {
		dxd[i] = v * dyd[i]
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

// geluSlice32 is geluFDF32 over slices, written out so the loop body
// inlines.
func geluSlice32(y, d, x []float32) {
	y = y[:len(x)]
	d = d[:len(x)]
	for i, v := range x {
		y[i], d[i] = geluFDF32(v)
	}
}

// tanhSlice32 writes tanh and 1 − tanh² over slices.
func tanhSlice32(y, d, x []float32) {
	y = y[:len(x)]
	d = d[:len(x)]
	for i, v := range x {
		t := tanh32(v)
		y[i], d[i] = t, 1-t*t
	}
}

func fdf32(f func(float32) (float32, float32), y, d, x []float32) {
	y = y[:len(x)]
	d = d[:len(x)]
	for i, v := range x {
		y[i], d[i] = f(v)
	}
}
