package model

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Slice keeps columns [From, To) of a vector sample (e.g. one time step of
// a sequence stored flat, or one gate of an LSTM's stacked gates).
type Slice[T tensor.Float] struct{ From, To int }

var _ Layer[float64] = (*Slice[float64])(nil)

func (s *Slice[T]) Kind() string        { return fmt.Sprintf("slice[%d:%d]", s.From, s.To) }
func (s *Slice[T]) Params() []*Param[T] { return nil }
func (s *Slice[T]) OutShape(in Shape) (Shape, error) {
	if s.From < 0 || s.To <= s.From || s.To > in.Size() {
		return nil, fmt.Errorf("slice [%d:%d] of a %d-value sample", s.From, s.To, in.Size())
	}
	return Shape{s.To - s.From}, nil
}

func (s *Slice[T]) Forward(y, x *Mat[T]) {
	n := s.To - s.From
	y.Resize(x.Rows, n)
	for r := 0; r < x.Rows; r++ {
		copy(y.Row(r), x.Row(r)[s.From:s.To])
	}
}

func (s *Slice[T]) VJP(dx, x, _, dy *Mat[T], _ bool, _ T) {
	if dx == nil {
		return
	}
	dx.Resize(x.Rows, x.Cols)
	dx.Zero()
	for r := 0; r < x.Rows; r++ {
		copy(dx.Row(r)[s.From:s.To], dy.Row(r))
	}
}

// Shared returns a dense layer computing with the parameters of d (tied
// weights): its own buffers, the same Param objects.
func (d *Dense[T]) Shared() *Dense[T] { c := *d; return &c }

// Shared returns a convolution computing with the parameters of c.
func (c *Conv2D[T]) Shared() *Conv2D[T] {
	s := &Conv2D[T]{InC: c.InC, OutC: c.OutC, K: c.K, Stride: c.Stride, Pad: c.Pad, H: c.H, W: c.W, OH: c.OH, OW: c.OW, Wt: c.Wt, B: c.B}
	return s
}
