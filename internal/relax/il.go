package relax

import "github.com/pctrain/pctrain/internal/tensor"

// ILSettings configures inference learning.
type ILSettings struct {
	// Steps is the number of inference steps T.
	Steps int
	// LR is the value-node step size γ.
	LR float64
	// Momentum is the value-node SGD momentum (0 for plain gradient steps).
	Momentum float64
	// Trace, if non-nil, receives the batch-mean energy F before the
	// first step and after every step (Steps+1 values; telemetry).
	Trace *[]float64
}

// IL runs inference learning on one batch (PC-SPEC §3): feed-forward
// initialisation, Steps synchronous value-node updates
//
//	v_x ← m·v_x + ∂F/∂x,  x ← x − γ·v_x   (every hidden vertex from one state)
//
// and then adds the parameter gradients at the final state to the graph's
// Grad buffers (callers zero them first).
func (e *Engine[T]) IL(in *Mat[T], labels []int, s ILSettings) Result {
	var r Result
	r.Loss, r.Correct = e.feedForward(in, labels)
	out := e.G.Output()
	lr, m := T(s.LR), T(s.Momentum)
	for v := 1; v < out; v++ {
		e.vel[v].Resize(in.Rows, e.x[v].Cols)
		e.vel[v].Zero()
	}
	if s.Trace != nil {
		*s.Trace = append((*s.Trace)[:0], r.Loss/float64(in.Rows))
	}
	for t := 0; t < s.Steps; t++ {
		if t > 0 {
			outLoss := e.predict(labels)
			if s.Trace != nil {
				var tr Result
				e.energy(&tr, outLoss, in.Rows)
				*s.Trace = append(*s.Trace, tr.Energy)
			}
		}
		e.childVJPs()
		for v := 1; v < out; v++ {
			tensor.ValueStep(e.x[v].Data, e.vel[v].Data, e.eps[v].Data, e.pull(v).Data, lr, m)
		}
	}
	outLoss := e.predict(labels)
	e.energy(&r, outLoss, in.Rows)
	if s.Trace != nil && s.Steps > 0 {
		*s.Trace = append(*s.Trace, r.Energy)
	}
	for v := 1; v <= out; v++ {
		e.paramGrads(v, e.eps[v])
	}
	r.Steps = s.Steps
	return r
}
