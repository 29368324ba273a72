package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernelInputs returns n float32 inputs: random values of several scales
// and, first, the special cases of the activation kernels (0, ±tiny, the
// ±2 switch of tanh, the ±87/88 ends of exp, ±Inf, NaN).
func kernelInputs(rng *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e-4, -1e-4, 1, -1, 2, -2,
		math.Nextafter32(2, 3), math.Nextafter32(-2, -3), 20, -20, 43.5, -43.5, 44, -44, 87, -87, 88, -88, 89, -89,
		1e30, -1e30, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	x := make([]float32, n)
	for i := range x {
		if i < len(special) {
			x[i] = special[i]
			continue
		}
		x[i] = float32(rng.NormFloat64() * []float64{0.1, 1, 3, 30}[i%4])
	}
	return x
}

// close32 reports whether got is within float32 rounding of want: equal,
// both NaN, or within 2 units in the last place. (The kernels compute the
// same operations in the same order and usually agree bit for bit; a Go
// build for GOAMD64=v3 may fuse multiply-adds, which moves the last bit.)
func close32(got, want float32) bool {
	if got == want || (got != got && want != want) {
		return true
	}
	return math.Abs(float64(got)-float64(want)) <= 2*ulp32(want)
}

func ulp32(x float32) float64 {
	a := float32(math.Abs(float64(x)))
	return float64(math.Nextafter32(a, float32(math.Inf(1))) - a)
}

func sameSlices(t *testing.T, what string, x, got, want []float32) {
	t.Helper()
	for i := range want {
		if !close32(got[i], want[i]) {
			t.Fatalf("%s: element %d (input %g): kernels %s give %g, Go gives %g", what, i, x[i], KernelsName(), got[i], want[i])
		}
	}
}

// sameBits checks got and want are the same float32s bit for bit (signed
// zeros included; any NaN matches any NaN).
func sameBits(t *testing.T, what string, x, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: element %d (input %g): %g (bits %08x), want %g (bits %08x)", what, i, x[i], got[i],
				math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// The element-wise kernels in use (C when cgo is on) agree with the Go
// loops, element by element, on every length from 0 to 70 (vector bodies
// and scalar tails) and on a long slice.
func TestKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range append([]int{4099}, func() []int {
		s := make([]int, 71)
		for i := range s {
			s[i] = i
		}
		return s
	}()...) {
		x := kernelInputs(rng, n)
		b := kernelInputs(rng, n)
		rng.Shuffle(n, func(i, j int) { b[i], b[j] = b[j], b[i] })
		for name, goK := range goKernels32.act {
			y1, d1 := make([]float32, n), make([]float32, n)
			y2, d2 := make([]float32, n), make([]float32, n)
			k32.act[name](y1, d1, x)
			goK(y2, d2, x)
			sameSlices(t, name, x, y1, y2)
			sameSlices(t, name+" derivative", x, d1, d2)
		}
		for _, op := range []struct {
			name   string
			k, ref func(dst, a, b []float32)
		}{{"add", k32.add, goKernels32.add}, {"sub", k32.sub, goKernels32.sub}, {"mul", k32.mul, goKernels32.mul}} {
			d1, d2 := make([]float32, n), make([]float32, n)
			op.k(d1, x, b)
			op.ref(d2, x, b)
			sameSlices(t, op.name, x, d1, d2)
		}
		y1, y2 := append([]float32(nil), b...), append([]float32(nil), b...)
		k32.axpy(-0.37, x, y1)
		goKernels32.axpy(-0.37, x, y2)
		sameSlices(t, "axpy", x, y1, y2)
		s1, s2 := make([]float32, n), make([]float32, n)
		k32.scale(s1, -0.37, x)
		goKernels32.scale(s2, -0.37, x)
		sameSlices(t, "scale", x, s1, s2)
		copy(s1, x)
		k32.scale(s1, -0.37, s1)
		sameSlices(t, "scale in place", x, s1, s2)

		vel1, x1 := kernelInputs(rng, n), kernelInputs(rng, n)
		vel2, x2 := append([]float32(nil), vel1...), append([]float32(nil), x1...)
		k32.valueStep(x1, vel1, x, b, 0.1, 0.65)
		goKernels32.valueStep(x2, vel2, x, b, 0.1, 0.65)
		sameSlices(t, "valueStep x", x, x1, x2)
		sameSlices(t, "valueStep vel", x, vel1, vel2)

		// ValueStepAdd(d) is ValueStep(pull = −d) bit for bit, in place on
		// eps as ePC runs it, in the kernels and in Go.
		negB := make([]float32, n)
		for i := range b {
			negB[i] = -b[i]
		}
		vel1, e1 := kernelInputs(rng, n), kernelInputs(rng, n)
		vel2, e2 := append([]float32(nil), vel1...), append([]float32(nil), e1...)
		vel3, e3 := append([]float32(nil), vel1...), append([]float32(nil), e1...)
		k32.valueStepAdd(e1, vel1, e1, b, 0.1, 0.65)
		goKernels32.valueStepAdd(e2, vel2, e2, b, 0.1, 0.65)
		goKernels32.valueStep(e3, vel3, e3, negB, 0.1, 0.65)
		sameBits(t, "valueStepAdd x", x, e1, e3)
		sameBits(t, "valueStepAdd vel", x, vel1, vel3)
		sameBits(t, "valueStepAdd x (Go)", x, e2, e3)

		fin := randSlice(rng, n)
		var plain float64
		for _, v := range fin {
			plain += float64(v) * float64(v)
		}
		if got, want := k32.sumSq(fin), goKernels32.sumSq(fin); got != want || math.Abs(got-plain) > 1e-12*plain {
			t.Fatalf("sumSq of %d elements: kernels %v, Go %v, plain sum %v", n, got, want, plain)
		}

		if n%7 == 0 && n > 0 {
			m1, m2 := append([]float32(nil), b...), append([]float32(nil), b...)
			k32.addRow(m1, 7, x[:7])
			goKernels32.addRow(m2, 7, x[:7])
			sameSlices(t, "addRow", b, m1, m2)
		}

		// Adam on finite values (v ≥ 0 as in training).
		p1, g := randSlice(rng, n), randSlice(rng, n)
		mo1, v1 := randSlice(rng, n), randSlice(rng, n)
		for i := range v1 {
			v1[i] *= v1[i]
		}
		p2, mo2, v2 := append([]float32(nil), p1...), append([]float32(nil), mo1...), append([]float32(nil), v1...)
		h := AdamConsts32{Step: 1e-3 / 0.1, InvSqrtBC2: float32(1 / math.Sqrt(0.001)), Decay: 1 - 1e-5, L2: 0.01,
			B1: 0.9, B2: 0.999, C1: 0.1, C2: 0.001, Eps: 1e-8}
		k32.adam(p1, g, mo1, v1, h)
		goKernels32.adam(p2, g, mo2, v2, h)
		sameSlices(t, "adam p", g, p1, p2)
		sameSlices(t, "adam m", g, mo1, mo2)
		sameSlices(t, "adam v", g, v1, v2)
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// The generic entry points take the kernels for float32 and the Go loops
// for float64, with the same results up to float32 rounding.
func TestKernelEntryPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	a64, b64 := randM(rng, 5, 9), randM(rng, 5, 9)
	a32, b32 := to32(a64), to32(b64)
	check := func(what string, got *Mat[float32], want *Mat[float64]) {
		t.Helper()
		for i := range want.Data {
			if math.Abs(float64(got.Data[i])-want.Data[i]) > 1e-5*(1+math.Abs(want.Data[i])) {
				t.Fatalf("%s: element %d: float32 %g, float64 %g", what, i, got.Data[i], want.Data[i])
			}
		}
	}
	d32, d64 := &Mat[float32]{}, &Mat[float64]{}
	Sub(d32, a32, b32)
	Sub(d64, a64, b64)
	check("Sub", d32, d64)
	Add(d32, a32, b32)
	Add(d64, a64, b64)
	check("Add", d32, d64)
	Mul(d32.Data, a32.Data, b32.Data)
	Mul(d64.Data, a64.Data, b64.Data)
	check("Mul", d32, d64)
	for i := range d64.Data {
		if d64.Data[i] != a64.Data[i]*b64.Data[i] {
			t.Fatal("Mul float64 is not a⊙b")
		}
	}
	AddRowVector(a32, b32.Data[:9])
	AddRowVector(a64, b64.Data[:9])
	check("AddRowVector", a32, a64)
	Axpy(2, b32.Data, a32.Data)
	Axpy(2, b64.Data, a64.Data)
	check("Axpy", a32, a64)
	v32, v64 := to32(b64), b64.Clone()
	ValueStep(a32.Data, v32.Data, b32.Data, d32.Data, 0.1, 0.5)
	ValueStep(a64.Data, v64.Data, b64.Data, d64.Data, 0.1, 0.5)
	check("ValueStep", a32, a64)
	AddRowVector(&Mat[float32]{Rows: 3}, nil) // zero columns: nothing to do
}

// AllFinite finds one NaN or ±Inf anywhere in a float32 slice, and passes
// the largest finite values.
func TestAllFinite32(t *testing.T) {
	v := make([]float32, 1000)
	for i := range v {
		v[i] = math.MaxFloat32
	}
	if !AllFinite(v) {
		t.Fatal("MaxFloat32 everywhere reported non-finite")
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for _, i := range []int{0, 7, 8, 999} {
			w := append([]float32(nil), v...)
			w[i] = bad
			if AllFinite(w) {
				t.Fatalf("%g at %d not found", bad, i)
			}
		}
	}
}
