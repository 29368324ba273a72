package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Label smoothing, against an independent computation: the loss is
// −Σ_j y_j log softmax(mu)_j (ce) or ½‖y − mu‖² (mse) with y = (1−ε)·onehot
// + ε/C, and eps = −∂ℓ/∂mu by central differences; a tiny ε agrees with
// the plain one-hot path.
func TestLabelSmoothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const rows, classes = 4, 5
	mu := tensor.New[float64](rows, classes)
	for i := range mu.Data {
		mu.Data[i] = rng.NormFloat64() * 2
	}
	labels := []int{0, 3, 4, 3}
	ref := func(name string, e float64, m *Mat[float64]) float64 {
		var sum float64
		for i := 0; i < rows; i++ {
			r := m.Row(i)
			var z float64
			for _, v := range r {
				z += math.Exp(v)
			}
			for j, v := range r {
				y := e / classes
				if j == labels[i] {
					y += 1 - e
				}
				if name == "ce" {
					sum -= y * (v - math.Log(z))
				} else {
					sum += 0.5 * (y - v) * (y - v)
				}
			}
		}
		return sum
	}
	for _, name := range []string{"ce", "mse"} {
		for _, e := range []float64{0.1, 0.5} {
			l, err := NewSmoothedLoss[float64](name, e)
			if err != nil {
				t.Fatal(err)
			}
			eps := tensor.New[float64](rows, classes)
			got := l.OutputError(eps, mu, labels)
			if want := ref(name, e, mu); math.Abs(got-want) > 1e-12*math.Abs(want) {
				t.Errorf("%s ε=%g: loss %v, want %v", name, e, got, want)
			}
			const h = 1e-6
			for k := range mu.Data {
				p, q := mu.Clone(), mu.Clone()
				p.Data[k] += h
				q.Data[k] -= h
				fd := (ref(name, e, p) - ref(name, e, q)) / (2 * h)
				if math.Abs(eps.Data[k]+fd) > 1e-7 {
					t.Errorf("%s ε=%g: eps[%d] = %v, want −∂ℓ/∂mu = %v", name, e, k, eps.Data[k], -fd)
				}
			}
		}
		plain, _ := NewLoss[float64](name)
		tiny, _ := NewSmoothedLoss[float64](name, 1e-12)
		e0, e1 := tensor.New[float64](rows, classes), tensor.New[float64](rows, classes)
		if a, b := plain.OutputError(e0, mu, labels), tiny.OutputError(e1, mu, labels); math.Abs(a-b) > 1e-9 {
			t.Errorf("%s: ε → 0 gives %v, the one-hot loss is %v", name, b, a)
		}
		for k := range e0.Data {
			if math.Abs(e0.Data[k]-e1.Data[k]) > 1e-9 {
				t.Errorf("%s: ε → 0: eps[%d] %v vs %v", name, k, e1.Data[k], e0.Data[k])
			}
		}
	}
	for _, e := range []float64{-0.1, 1, math.NaN()} {
		if _, err := NewSmoothedLoss[float64]("ce", e); err == nil {
			t.Errorf("ε = %v accepted", e)
		}
	}
}
