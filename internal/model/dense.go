package model

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Dense is the affine layer y = x Wᵀ + b with W stored [out][in], as in
// PyTorch's nn.Linear.
type Dense[T tensor.Float] struct {
	In, Out int
	W, B    *Param[T] // B is nil without bias
	// Feedback, if set, replaces W in the VJP with respect to the input
	// (dx = dy·Feedback): the feedback matrix of feedback alignment and
	// its kin (RULES.md §5). It has W's layout; nil means W (backprop).
	Feedback *Mat[T]
}

var _ Layer[float64] = (*Dense[float64])(nil)

// NewDense returns a zero-initialised dense layer whose parameters are
// named prefix+".weight" and prefix+".bias".
func NewDense[T tensor.Float](prefix string, in, out int, bias bool) *Dense[T] {
	d := &Dense[T]{In: in, Out: out, W: newParam[T](prefix+".weight", out, in, out, in)}
	if bias {
		d.B = newParam[T](prefix+".bias", 1, out, out)
	}
	return d
}

func (d *Dense[T]) Kind() string { return "dense" }

func (d *Dense[T]) OutShape(in Shape) (Shape, error) {
	if in.Size() != d.In {
		return nil, fmt.Errorf("dense layer expects %d inputs, got %d (shape %v)", d.In, in.Size(), in)
	}
	return Shape{d.Out}, nil
}

func (d *Dense[T]) Params() []*Param[T] {
	if d.B == nil {
		return []*Param[T]{d.W}
	}
	return []*Param[T]{d.W, d.B}
}

func (d *Dense[T]) Forward(y, x *Mat[T]) {
	y.Resize(x.Rows, d.Out)
	tensor.Gemm(false, true, 1, x, d.W.Value, 0, y)
	if d.B != nil {
		tensor.AddRowVector(y, d.B.Value.Data)
	}
}

func (d *Dense[T]) VJP(dx, x, _, dy *Mat[T], grads bool, alpha T) {
	if dx != nil {
		dx.Resize(dy.Rows, d.In)
		w := d.W.Value
		if d.Feedback != nil {
			w = d.Feedback
		}
		tensor.Gemm(false, false, 1, dy, w, 0, dx)
	}
	if grads {
		tensor.Gemm(true, false, alpha, dy, x, 1, d.W.Grad)
		if d.B != nil {
			tensor.SumRows(d.B.Grad.Data, alpha, dy)
		}
	}
}

// Weight returns the weight whose place Feedback takes in the input VJP.
func (d *Dense[T]) Weight() *Param[T] { return d.W }

// SetFeedback sets Feedback (nil: back to W).
func (d *Dense[T]) SetFeedback(b *Mat[T]) { d.Feedback = b }
