// Package model holds pctrain's computational graph: vertices made of
// layers, each layer written once as a Forward and a vector–Jacobian
// product (VJP) that serves backprop and predictive coding alike.
//
// Every tensor is a batch matrix: one row per sample, the sample's values in
// row-major (for feature maps, NCHW) order.
package model

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Mat is the batch matrix type of the model package.
type Mat[T tensor.Float] = tensor.Mat[T]

// Shape is the shape of one sample's tensor, e.g. [784] or [C, H, W].
type Shape []int

// Size returns the number of values in one sample.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (s Shape) String() string { return fmt.Sprint([]int(s)) }

// Param is a trainable tensor and its gradient buffer.
type Param[T tensor.Float] struct {
	// Name is the checkpoint name, e.g. "layers.0.weight".
	Name string
	// Shape is the logical shape written to checkpoints, e.g. [out, in].
	Shape []int
	Value *Mat[T]
	Grad  *Mat[T]
}

func newParam[T tensor.Float](name string, rows, cols int, shape ...int) *Param[T] {
	return &Param[T]{Name: name, Shape: shape, Value: tensor.New[T](rows, cols), Grad: tensor.New[T](rows, cols)}
}

// Layer is one differentiable operation on a batch.
//
// Forward sets y = f(x). VJP, given dy (a vector in y's space), sets
// dx = Jᵀ·dy when dx is non-nil (dx is overwritten, not accumulated) and,
// when grads is true, adds alpha·∂⟨dy, f(x)⟩/∂θ to each parameter's Grad.
// x and y are the values Forward saw and produced. Inputs are never
// modified.
type Layer[T tensor.Float] interface {
	// Kind names the layer type as configs spell it ("dense", "act").
	Kind() string
	// OutShape returns the shape of a sample's output for a sample input
	// shape, or an error naming the mismatch.
	OutShape(in Shape) (Shape, error)
	Params() []*Param[T]
	Forward(y, x *Mat[T])
	VJP(dx, x, y, dy *Mat[T], grads bool, alpha T)
}

// FeedbackLayer is a layer with a weight whose input VJP can use another
// tensor of the weight's shape instead (dense and conv): feedback
// alignment and its kin (RULES.md §5). The parameter gradient is
// unchanged.
type FeedbackLayer[T tensor.Float] interface {
	Layer[T]
	Weight() *Param[T]
	// SetFeedback makes the input VJP use b in the weight's place; nil
	// restores the weight.
	SetFeedback(b *Mat[T])
}

var (
	_ FeedbackLayer[float64] = (*Dense[float64])(nil)
	_ FeedbackLayer[float64] = (*Conv2D[float64])(nil)
)
