package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemm times the float32 GEMMs of the reference MLP
// (784-256-256-10, batch 128) with the backend in use, in GFLOP/s:
// forward x·Wᵀ, input gradient dy·W and weight gradient dyᵀ·x.
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	fill := func(r, c int) *Mat[float32] {
		m := New[float32](r, c)
		for i := range m.Data {
			m.Data[i] = float32(rng.NormFloat64())
		}
		return m
	}
	const batch = 128
	for _, s := range []struct{ in, out int }{{784, 256}, {256, 256}, {256, 10}} {
		x, w, y := fill(batch, s.in), fill(s.out, s.in), fill(batch, s.out)
		gw, dx := New[float32](s.out, s.in), New[float32](batch, s.in)
		flops := float64(2 * batch * s.in * s.out)
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"forward", func() { Gemm(false, true, 1, x, w, 0, y) }},
			{"dx", func() { Gemm(false, false, 1, y, w, 0, dx) }},
			{"dw", func() { Gemm(true, false, 1, y, x, 1, gw) }},
		} {
			b.Run(fmt.Sprintf("%dx%d/%s", s.in, s.out, c.name), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					c.f()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmSkipMLP times the depth curve's hidden-layer GEMMs (width
// 128, batch 64): forward x·Wᵀ, input gradient dy·W (and the same product
// from a transposed copy of W, dy·(Wᵀ)ᵀ), weight gradient dyᵀ·x.
func BenchmarkGemmSkipMLP(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	fill := func(r, c int) *Mat[float32] {
		m := New[float32](r, c)
		for i := range m.Data {
			m.Data[i] = float32(rng.NormFloat64())
		}
		return m
	}
	const batch, n = 64, 128
	x, w, y := fill(batch, n), fill(n, n), fill(batch, n)
	wt := New[float32](n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			wt.Data[j*n+i] = w.Data[i*n+j]
		}
	}
	gw, dx := New[float32](n, n), New[float32](batch, n)
	flops := float64(2 * batch * n * n)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"forward", func() { Gemm(false, true, 1, x, w, 0, y) }},
		{"dx", func() { Gemm(false, false, 1, y, w, 0, dx) }},
		{"dx-cachedWT", func() { Gemm(false, true, 1, y, wt, 0, dx) }},
		{"dw", func() { Gemm(true, false, 1, y, x, 1, gw) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c.f()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
