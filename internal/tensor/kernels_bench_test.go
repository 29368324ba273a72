package tensor

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkKernels times the element-wise kernels in use on one
// batch-128 × 256 activation, in ns per element.
func BenchmarkKernels(b *testing.B) {
	const n = 128 * 256
	rng := rand.New(rand.NewPCG(1, 1))
	x, y, d, v, w := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	for i := range w {
		w[i] *= w[i]
	}
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
		})
	}
	for _, a := range []string{"tanh", "gelu", "sigmoid", "relu"} {
		k := ActKernel32(a)
		run(a, func() { k(y, d, x) })
	}
	run("sub", func() { k32.sub(y, x, d) })
	run("mul", func() { k32.mul(y, x, d) })
	run("valueStep", func() { k32.valueStep(y, v, x, d, 1e-9, 0.5) })
	run("sumSq", func() { k32.sumSq(x) })
	run("addRow", func() { k32.addRow(y, 256, x[:256]) })
	run("adam", func() {
		k32.adam(y, x, v, w, AdamConsts32{Step: 1e-9, InvSqrtBC2: 1, Decay: 1, B1: 0.9, B2: 0.999, C1: 0.1, C2: 0.001, Eps: 1e-8})
	})
}
