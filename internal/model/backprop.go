package model

import "github.com/pctrain/pctrain/internal/tensor"

// Backprop runs the forward pass on x, the loss against labels, and the
// backward pass, adding the gradient of the batch-mean loss to every
// parameter's Grad (callers zero them first). It returns the summed
// per-sample loss and the number of correct predictions.
//
// It works with deltas δ_v = ∂ℓ/∂mu_v per sample, gathering each vertex's
// delta from its uses (GatherGrad); parameter gradients are scaled by 1/B
// (PC-SPEC §1, rule 2).
func (g *Graph[T]) Backprop(ws *Workspace[T], x *Mat[T], labels []int, loss Loss[T]) (float64, int) {
	out := g.Output()
	logits := g.Forward(ws, x)
	correct := CountCorrect(logits, labels)
	// OutputError gives eps = −∂ℓ/∂mu; negate for δ.
	sum := loss.OutputError(ws.delta[out], logits, labels)
	tensor.Scale(-1, ws.delta[out].Data)
	alpha := 1 / T(x.Rows)
	var want [4]bool
	for v := out; v >= 1; v-- {
		if v != out {
			g.GatherGrad(ws, ws.delta[v], v)
		}
		g.VJPVertex(ws, v, ws.delta[v], g.HiddenInputs(v, want[:0]), true, alpha)
	}
	return sum, correct
}
