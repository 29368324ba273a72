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
func NewLoss[T tensor.Float](name string) (Loss[T], error) {
	switch name {
	case "mse":
		return MSE[T]{}, nil
	case "ce":
		return CE[T]{}, nil
	}
	return nil, fmt.Errorf("unknown loss %q (valid: ce, mse)", name)
}

// MSE is ℓ = ½‖y − mu‖² with y the one-hot label; eps = y − mu.
type MSE[T tensor.Float] struct{}

func (MSE[T]) Name() string { return "mse" }

func (MSE[T]) OutputError(eps, mu *Mat[T], labels []int) float64 {
	eps.Resize(mu.Rows, mu.Cols)
	var sum float64
	for i := 0; i < mu.Rows; i++ {
		m, e := mu.Row(i), eps.Row(i)
		for j, v := range m {
			y := T(0)
			if j == labels[i] {
				y = 1
			}
			e[j] = y - v
			sum += 0.5 * float64(e[j]) * float64(e[j])
		}
	}
	return sum
}

// CE is ℓ = −log softmax(mu)_y; eps = y − softmax(mu).
type CE[T tensor.Float] struct{}

func (CE[T]) Name() string { return "ce" }

func (CE[T]) OutputError(eps, mu *Mat[T], labels []int) float64 {
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
