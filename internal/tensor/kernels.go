package tensor

import "math"

// Element-wise float32 kernels. The Go loops below build anywhere; a cgo
// build (kernels_cgo.go) replaces them with C loops that gcc vectorises for
// the CPU found at start-up (AVX-512, AVX2 or SSE2). Both compute the same
// float32 operations in the same order (no fused multiply-add), so they
// agree bit for bit (TestKernelsAgree). float64 always takes the Go loops:
// exactness is tested in float64, speed matters in float32.
type kernels32 struct {
	name         string
	act          map[string]func(y, d, x []float32)
	add, sub     func(dst, a, b []float32)
	mul          func(dst, a, b []float32)
	axpy         func(alpha float32, x, y []float32)
	scale        func(dst []float32, s float32, x []float32)
	valueStep    func(x, vel, eps, pull []float32, lr, m float32)
	valueStepAdd func(x, vel, eps, g []float32, lr, m float32)
	addRow       func(m []float32, cols int, v []float32)
	sumSq        func(x []float32) float64
	adam         func(p, g, m, v []float32, h AdamConsts32)
}

// AdamConsts32 are the per-step constants of one float32 Adam(W) update
// (see AdamStep32).
type AdamConsts32 struct {
	Step, InvSqrtBC2, Decay, L2, B1, B2, C1, C2, Eps float32
}

var goKernels32 = kernels32{
	name: "Go",
	act: map[string]func(y, d, x []float32){
		"tanh":       goTanhFD,
		"gelu":       func(y, d, x []float32) { fdSlice(GeluFD32, y, d, x) },
		"sigmoid":    func(y, d, x []float32) { fdSlice(SigmoidFD32, y, d, x) },
		"relu":       func(y, d, x []float32) { fdSlice(ReLUFD32, y, d, x) },
		"leaky-relu": func(y, d, x []float32) { fdSlice(LeakyReLUFD32, y, d, x) },
		"linear":     goLinearFD,
	},
	add:          goAdd[float32],
	sub:          goSub[float32],
	mul:          goMul[float32],
	axpy:         goAxpy[float32],
	scale:        goScale[float32],
	valueStep:    goValueStep[float32],
	valueStepAdd: goValueStepAdd[float32],
	addRow:       goAddRow[float32],
	sumSq:        goSumSq32,
	adam:         goAdam32,
}

// k32 is the float32 kernel set in use.
var k32 = goKernels32

// KernelsName names the element-wise kernels in use ("Go", or "C" and the
// instruction set the CPU offered).
func KernelsName() string { return k32.name }

// ActKernel32 returns the float32 kernel that writes y = f(x) and
// d = f'(x) for the named activation, or nil when there is none.
func ActKernel32(name string) func(y, d, x []float32) { return k32.act[name] }

func goAdd[T Float](dst, a, b []T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i, v := range a {
		dst[i] = v + b[i]
	}
}

func goSub[T Float](dst, a, b []T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i, v := range a {
		dst[i] = v - b[i]
	}
}

func goMul[T Float](dst, a, b []T) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i, v := range a {
		dst[i] = v * b[i]
	}
}

func goAxpy[T Float](alpha T, x, y []T) {
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}

// goScale sets dst = s·x (dst may be x).
func goScale[T Float](dst []T, s T, x []T) {
	dst = dst[:len(x)]
	for i := range x {
		dst[i] = s * x[i]
	}
}

func goValueStepAdd[T Float](x, vel, eps, d []T, lr, m T) {
	vel = vel[:len(x)]
	eps = eps[:len(x)]
	d = d[:len(x)]
	for i := range x {
		v := m*vel[i] + (eps[i] + d[i])
		vel[i] = v
		x[i] -= lr * v
	}
}

func goValueStep[T Float](x, vel, eps, pull []T, lr, m T) {
	vel = vel[:len(x)]
	eps = eps[:len(x)]
	pull = pull[:len(x)]
	for i := range x {
		v := m*vel[i] + (eps[i] - pull[i])
		vel[i] = v
		x[i] -= lr * v
	}
}

func goAddRow[T Float](m []T, cols int, v []T) {
	v = v[:cols]
	for i := 0; i+cols <= len(m); i += cols {
		r := m[i : i+cols]
		for j := range r {
			r[j] += v[j]
		}
	}
}

// goSumSq32 is Σ x² in float64 with 8 accumulators: lane j sums the
// elements i ≡ j (mod 8) of the whole 8-blocks, the tail goes to lane 0,
// and the lanes are added in order. Independent lanes let the C kernel
// vectorise with the same result.
func goSumSq32(x []float32) float64 {
	var acc [8]float64
	i := 0
	for ; i+8 <= len(x); i += 8 {
		b := x[i : i+8 : i+8]
		for j, v := range b {
			acc[j] += float64(v) * float64(v)
		}
	}
	for _, v := range x[i:] {
		acc[0] += float64(v) * float64(v)
	}
	s := 0.0
	for _, a := range acc {
		s += a
	}
	return s
}

func goAdam32(p, g, m, v []float32, h AdamConsts32) {
	g = g[:len(p)]
	m = m[:len(p)]
	v = v[:len(p)]
	for i := range p {
		pi := p[i]
		gi := g[i] + h.L2*pi
		pi *= h.Decay
		mi := h.B1*m[i] + h.C1*gi
		vi := h.B2*v[i] + h.C2*gi*gi
		m[i], v[i] = mi, vi
		p[i] = pi - h.Step*mi/(sqrt32(vi)*h.InvSqrtBC2+h.Eps)
	}
}

// Mul sets dst = a ⊙ b element-wise (dst may alias a or b).
func Mul[T Float](dst, a, b []T) {
	if d, ok := F32(dst); ok {
		a32, _ := F32(a)
		b32, _ := F32(b)
		k32.mul(d, a32, b32)
		return
	}
	goMul(dst, a, b)
}

// ValueStep is one fused value-node SGD step of PC inference with
// momentum m: g = eps − pull (∂F/∂x, pull being what the children send
// back), vel ← m·vel + g, x ← x − lr·vel.
func ValueStep[T Float](x, vel, eps, pull []T, lr, m T) {
	if x32, ok := F32(x); ok {
		v32, _ := F32(vel)
		e32, _ := F32(eps)
		p32, _ := F32(pull)
		k32.valueStep(x32, v32, e32, p32, float32(lr), float32(m))
		return
	}
	goValueStep(x, vel, eps, pull, lr, m)
}

// ValueStepAdd is ValueStep with g = eps + d: the same numbers as
// ValueStep with pull = −d (eps − (−d) is eps + d exactly), without the
// pass that negates d. x may be eps.
func ValueStepAdd[T Float](x, vel, eps, d []T, lr, m T) {
	if x32, ok := F32(x); ok {
		v32, _ := F32(vel)
		e32, _ := F32(eps)
		d32, _ := F32(d)
		k32.valueStepAdd(x32, v32, e32, d32, float32(lr), float32(m))
		return
	}
	goValueStepAdd(x, vel, eps, d, lr, m)
}

// AdamStep32 is one float32 Adam(W) update, PyTorch's formulas with the
// loop invariants hoisted: gi = g + L2·p, p ← Decay·p,
// m ← B1·m + C1·gi, v ← B2·v + C2·gi², p ← p − Step·m/(√v·InvSqrtBC2 + Eps).
func AdamStep32(p, g, m, v []float32, h AdamConsts32) { k32.adam(p, g, m, v, h) }

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
