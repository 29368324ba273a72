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
	return g.backprop(ws, x, labels, loss, true)
}

// Adjoints is Backprop without parameter gradients: after it, ws.Delta(v)
// holds δ_v = ∂ℓ/∂mu_v per sample for every vertex (the adjoints ePC and
// DFA need); no Grad buffer is touched.
func (g *Graph[T]) Adjoints(ws *Workspace[T], x *Mat[T], labels []int, loss Loss[T]) (float64, int) {
	return g.backprop(ws, x, labels, loss, false)
}

func (g *Graph[T]) backprop(ws *Workspace[T], x *Mat[T], labels []int, loss Loss[T], grads bool) (float64, int) {
	out := g.Output()
	logits := g.Forward(ws, x)
	correct := CountCorrect(logits, labels)
	// OutputError gives eps = −∂ℓ/∂mu; negate for δ.
	sum := loss.OutputError(ws.delta[out], logits, labels)
	tensor.Scale(-1, ws.delta[out].Data)
	g.Backward(ws, grads, 1/T(x.Rows))
	return sum, correct
}

// Backward is the reverse sweep of backprop through the last forward pass
// held in ws (whatever values fed it), from ws.Delta(Output()), which the
// caller sets to ∂ℓ/∂mu_L: every other ws.Delta(v) becomes ∂ℓ/∂mu_v, the
// sum over v's uses in ascending child order. With grads it also adds
// alpha·∂⟨δ_v, mu_v⟩/∂θ_v to every vertex's parameter gradients.
func (g *Graph[T]) Backward(ws *Workspace[T], grads bool, alpha T) {
	out := g.Output()
	var want [4]bool
	for v := out; v >= 1; v-- {
		if v != out {
			g.GatherGrad(ws, ws.delta[v], v)
		}
		g.VJPVertex(ws, v, ws.delta[v], g.HiddenInputs(v, want[:0]), grads, alpha)
	}
}

// Delta returns the buffer of δ_v = ∂ℓ/∂mu_v that Backward fills.
func (ws *Workspace[T]) Delta(v int) *Mat[T] { return ws.delta[v] }
