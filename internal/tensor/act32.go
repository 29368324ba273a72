package tensor

import "math"

// Float32 activation kernels in Go: the portable form of the element-wise
// kernels (kernels.go), and the definition the vectorised C kernels
// (kernels_body.h) follow operation by operation.

// Tanh32 is tanh in float32 arithmetic: for |x| ≤ 2 the odd 13/6 rational
// approximation Eigen uses; beyond, 1 − 2e/(1+e) with e = exp(−2|x|),
// which keeps the last bits of values near ±1 (and so 1 − y²).
func Tanh32(x float32) float32 {
	if x > 2 || x < -2 {
		ax := x
		if ax < 0 {
			ax = -ax
		}
		e := Exp32(-2 * ax)
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

// Exp32 is exp in float32 arithmetic (Cephes expf: range reduction by
// ln 2 in two parts and a degree-6 polynomial; relative error ≈ 1e-7).
// Arguments below −87 return 0, above 88 return +Inf.
func Exp32(x float32) float32 {
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

// GeluFD32 evaluates gelu and its derivative in float32 with one
// exponential: with e = exp(−x²/2), erf(|x|/√2) = 1 − P(t)·e,
// t = 1/(1 + p|x|/√2) (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7),
// and φ(x) = e/√(2π).
func GeluFD32(x float32) (float32, float32) {
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
	e := Exp32(-0.5 * x * x)
	t := 1 / (1 + p*ax)
	erf := 1 - ((((a5*t+a4)*t+a3)*t+a2)*t+a1)*t*e
	if x < 0 {
		erf = -erf
	}
	cdf := 0.5 + 0.5*erf
	return x * cdf, cdf + x*e*invS2p
}

// SigmoidFD32 returns 1/(1+e^−x) and its derivative y(1−y) in float32.
func SigmoidFD32(x float32) (float32, float32) {
	y := 1 / (1 + Exp32(-x))
	return y, y * (1 - y)
}

// ReLUFD32 returns max(x, 0) (0 for NaN, as the float64 form) and its
// derivative (0 at 0, as PyTorch).
func ReLUFD32(x float32) (float32, float32) {
	if x > 0 {
		return x, 1
	}
	return 0, 0
}

// LeakyReLUFD32 is ReLUFD32 with slope LeakySlope below 0.
func LeakyReLUFD32(x float32) (float32, float32) {
	if x > 0 {
		return x, 1
	}
	return LeakySlope * x, LeakySlope
}

// LeakySlope is leaky-relu's slope for x ≤ 0.
const LeakySlope = 0.01

func goTanhFD(y, d, x []float32) {
	y = y[:len(x)]
	d = d[:len(x)]
	for i, v := range x {
		t := Tanh32(v)
		y[i], d[i] = t, 1-t*t
	}
}

// fdSlice applies a scalar value-and-derivative function over slices
// (tanh, the hot one, has its own loop so that Tanh32 inlines).
func fdSlice(f func(float32) (float32, float32), y, d, x []float32) {
	y = y[:len(x)]
	d = d[:len(x)]
	for i, v := range x {
		y[i], d[i] = f(v)
	}
}

func goLinearFD(y, d, x []float32) {
	y = y[:len(x)]
	d = d[:len(x)]
	copy(y, x)
	for i := range d {
		d[i] = 1
	}
}
