package model

import (
	"fmt"
	"math"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Loss is a per-sample loss ℓ(mu_L, y) on the logits with an integer label.
// OutputError sets eps = −∂ℓ/∂mu_L row by row (PC-SPEC §1) and returns the
// sum of the per-sample losses.
type Loss[T tensor.Float] interface {
	Name() string
	OutputError(eps, mu *Mat[T], labels []int) float64
}

// NewLoss returns "mse" (½‖y − mu‖² with one-hot y) or "ce" (softmax
// cross-entropy).
func NewLoss[T tensor.Float](name string) (Loss[T], error) { return NewSmoothedLoss[T](name, 0) }

// NewSmoothedLoss is NewLoss with the target smoothed by ε = smoothing:
// y = (1−ε)·onehot + ε/C (ε = 0 is the plain one-hot target, computed as
// before).
func NewSmoothedLoss[T tensor.Float](name string, smoothing float64) (Loss[T], error) {
	if !(smoothing >= 0 && smoothing < 1) {
		return nil, fmt.Errorf("label smoothing %v is not in [0, 1)", smoothing)
	}
	switch name {
	case "mse":
		return MSE[T]{Smoothing: smoothing}, nil
	case "ce":
		return CE[T]{Smoothing: smoothing}, nil
	}
	return nil, fmt.Errorf("unknown loss %q (valid: ce, mse)", name)
}

// target is the smoothed target of class j for label y among c classes.
func target(j, y, c int, eps float64) float64 {
	t := eps / float64(c)
	if j == y {
		t += 1 - eps
	}
	return t
}

// MSE is ℓ = ½‖y − mu‖² with y the (smoothed) one-hot label; eps = y − mu.
type MSE[T tensor.Float] struct{ Smoothing float64 }

func (MSE[T]) Name() string { return "mse" }

func (l MSE[T]) OutputError(eps, mu *Mat[T], labels []int) float64 {
	eps.Resize(mu.Rows, mu.Cols)
	var sum float64
	for i := 0; i < mu.Rows; i++ {
		m, e := mu.Row(i), eps.Row(i)
		for j, v := range m {
			y := T(0)
			if l.Smoothing != 0 {
				y = T(target(j, labels[i], len(m), l.Smoothing))
			} else if j == labels[i] {
				y = 1
			}
			e[j] = y - v
			sum += 0.5 * float64(e[j]) * float64(e[j])
		}
	}
	return sum
}

// CE is ℓ = −Σ_j y_j log softmax(mu)_j with y the (smoothed) one-hot
// label; eps = y − softmax(mu).
type CE[T tensor.Float] struct{ Smoothing float64 }

func (CE[T]) Name() string { return "ce" }

func (l CE[T]) OutputError(eps, mu *Mat[T], labels []int) float64 {
	if l.Smoothing != 0 {
		return l.smoothed(eps, mu, labels)
	}
	eps.Resize(mu.Rows, mu.Cols)
	var sum float64
	for i := 0; i < mu.Rows; i++ {
		m, e := mu.Row(i), eps.Row(i)
		mx := float64(m[0])
		for _, v := range m[1:] {
			if float64(v) > mx {
				mx = float64(v)
			}
		}
		// One exponential per class: e holds exp(mu − max) until the
		// normaliser z is known. (A NaN logit makes z, and so the loss, NaN.)
		var z float64
		for j, v := range m {
			x := math.Exp(float64(v) - mx)
			e[j] = T(x)
			z += float64(e[j])
		}
		for j := range e {
			p := float64(e[j]) / z
			if j == labels[i] {
				p -= 1
			}
			e[j] = T(-p)
		}
		sum += mx + math.Log(z) - float64(m[labels[i]])
	}
	return sum
}

// smoothed is OutputError with smoothed targets: ℓ = log z + max −
// Σ_j y_j mu_j (Σ_j y_j = 1), eps_j = y_j − p_j.
func (l CE[T]) smoothed(eps, mu *Mat[T], labels []int) float64 {
	eps.Resize(mu.Rows, mu.Cols)
	var sum float64
	for i := 0; i < mu.Rows; i++ {
		m, e := mu.Row(i), eps.Row(i)
		mx := float64(m[0])
		for _, v := range m[1:] {
			mx = math.Max(mx, float64(v))
		}
		var z float64
		for _, v := range m {
			z += math.Exp(float64(v) - mx)
		}
		sum += mx + math.Log(z)
		for j, v := range m {
			y := target(j, labels[i], len(m), l.Smoothing)
			e[j] = T(y - math.Exp(float64(v)-mx)/z)
			sum -= y * float64(v)
		}
	}
	return sum
}

// CountCorrect counts the rows whose argmax equals the label.
func CountCorrect[T tensor.Float](logits *Mat[T], labels []int) int {
	n := 0
	for i := 0; i < logits.Rows; i++ {
		if tensor.ArgMax(logits.Row(i)) == labels[i] {
			n++
		}
	}
	return n
}
