package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
)

// naiveGemm is the independent reference: the triple loop in float64.
func naiveGemm(transA, transB bool, alpha float64, a, b *Mat[float64], beta float64, c *Mat[float64]) {
	at := func(i, k int) float64 {
		if transA {
			return a.At(k, i)
		}
		return a.At(i, k)
	}
	bt := func(k, j int) float64 {
		if transB {
			return b.At(j, k)
		}
		return b.At(k, j)
	}
	k := a.Cols
	if transA {
		k = a.Rows
	}
	for i := 0; i < c.Rows; i++ {
		for j := 0; j < c.Cols; j++ {
			s := 0.0
			for l := 0; l < k; l++ {
				s += at(i, l) * bt(l, j)
			}
			c.Set(i, j, alpha*s+beta*c.At(i, j))
		}
	}
}

func randM(rng *rand.Rand, r, c int) *Mat[float64] {
	m := New[float64](r, c)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

func to32(m *Mat[float64]) *Mat[float32] {
	o := New[float32](m.Rows, m.Cols)
	for i, v := range m.Data {
		o.Data[i] = float32(v)
	}
	return o
}

// Every backend (the one in use and gonum's pure Go) agrees with the
// triple loop: to 1e-12 relative in float64 and to float32 rounding
// (1e-5 relative to the row scale) in float32, for every transpose.
func TestGemmBackendsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	backends := []Backend{backend, {Name: "gonum", F32: gonum.Implementation{}, F64: gonum.Implementation{}}}
	defer SetBackend(backends[0])
	for _, be := range backends {
		SetBackend(be)
		for _, sh := range [][3]int{{1, 1, 1}, {7, 5, 3}, {128, 784, 128}, {33, 10, 64}} {
			m, k, n := sh[0], sh[1], sh[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					a := randM(rng, m, k)
					if ta {
						a = randM(rng, k, m)
					}
					b := randM(rng, k, n)
					if tb {
						b = randM(rng, n, k)
					}
					c := randM(rng, m, n)
					want := c.Clone()
					naiveGemm(ta, tb, 0.75, a, b, 0.5, want)
					got := c.Clone()
					Gemm(ta, tb, 0.75, a, b, 0.5, got)
					scale := math.Sqrt(float64(k)) + 1
					if d := MaxAbsDiff(got.Data, want.Data); d > 1e-12*scale {
						t.Errorf("%s float64 %v ta=%v tb=%v: max diff %g", be.Name, sh, ta, tb, d)
					}
					c32 := to32(c)
					Gemm(ta, tb, 0.75, to32(a), to32(b), 0.5, c32)
					var d32 float64
					for i, v := range c32.Data {
						d32 = math.Max(d32, math.Abs(float64(v)-want.Data[i]))
					}
					if d32 > 1e-5*scale {
						t.Errorf("%s float32 %v ta=%v tb=%v: max diff %g", be.Name, sh, ta, tb, d32)
					}
				}
			}
		}
	}
	if BackendName() == "" {
		t.Error("backend has no name")
	}
}
