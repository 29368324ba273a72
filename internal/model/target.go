package model

import "github.com/pctrain/pctrain/internal/tensor"

// TargetMSE is ℓ = ½‖y − mu‖² with y a real-valued target matrix (the
// image, in a generative network) instead of a one-hot label: eps = y − mu.
// Free, if set (same shape as Y), marks with a non-zero entry the output
// units that are not clamped: their error is 0 and they add nothing to ℓ
// (an unclamped output unit with no children sits at its prediction, so
// its error vanishes). The labels passed to OutputError are ignored.
type TargetMSE[T tensor.Float] struct {
	Y, Free *Mat[T]
}

func (*TargetMSE[T]) Name() string { return "mse" }

func (l *TargetMSE[T]) OutputError(eps, mu *Mat[T], _ []int) float64 {
	if l.Y == nil || l.Y.Rows != mu.Rows || l.Y.Cols != mu.Cols {
		panic("model: TargetMSE: the target does not match the output")
	}
	eps.Resize(mu.Rows, mu.Cols)
	var sum float64
	for i, m := range mu.Data[:len(eps.Data)] {
		e := l.Y.Data[i] - m
		if l.Free != nil && l.Free.Data[i] != 0 {
			e = 0
		}
		eps.Data[i] = e
		sum += 0.5 * float64(e) * float64(e)
	}
	return sum
}

var _ Loss[float64] = (*TargetMSE[float64])(nil)
