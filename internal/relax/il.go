package relax

import (
	"context"

	"github.com/pctrain/pctrain/internal/tensor"
)

// ILSettings configures inference learning and the rules built on its
// loop (iPC, nudging).
type ILSettings struct {
	// Steps is the number of inference steps T.
	Steps int
	// LR is the value-node step size γ.
	LR float64
	// Momentum is the value-node SGD momentum (0 for plain gradient steps).
	Momentum float64
	// Beta nudges the output instead of clamping it (RULES.md §2): the
	// energy is F_β = Σ_hidden ½‖eps_v‖² + β·ℓ, the output error
	// eps_L = −β·∂ℓ/∂mu_L, and the parameter gradient (1/β)·∂F_β/∂θ. If
	// zero, 1 is used: IL's clamped output, bit for bit.
	Beta float64
	// GradWeight scales the parameter gradient (centred nudging averages
	// two phases with weight ½). If zero, 1 is used.
	GradWeight float64
	// Trace, if non-nil, receives the batch-mean energy F before the
	// first step and after every step (Steps+1 values; telemetry).
	Trace *[]float64
}

func (s ILSettings) beta() float64 {
	if s.Beta == 0 {
		return 1
	}
	return s.Beta
}

// GradCoef is c in the parameter gradient −(c/B)·Σ_b J_θᵀ eps_v,b: w/β,
// which is 1 for IL.
func (s ILSettings) GradCoef() float64 {
	w := s.GradWeight
	if w == 0 {
		w = 1
	}
	return w / s.beta()
}

// alpha is −c/B in T's arithmetic (exactly −1/B for c = 1).
func (il *IL[T]) alpha(c float64) T { return -T(c) / T(il.x[0].Rows) }

// IL is inference learning's own state over a shared State: the
// value-node momentum.
type IL[T tensor.Float] struct {
	*State[T]
	vel  []*Mat[T]
	beta T
}

// NewIL returns IL working on st.
func NewIL[T tensor.Float](st *State[T]) *IL[T] {
	return &IL[T]{State: st, vel: newMats[T](len(st.G.Vertices))}
}

// Begin starts a batch at C1 (every hidden x_v = mu_v, PC-SPEC §3) with
// the output nudged by beta (1: clamped), and zeroes the value-node
// momentum. It returns the summed feed-forward loss and the correct count.
func (il *IL[T]) Begin(in *Mat[T], labels []int, beta float64) (float64, int) {
	loss, correct := il.feedForward(in, labels)
	il.beta = T(beta)
	il.scaleOutput()
	for v := 1; v < il.G.Output(); v++ {
		il.vel[v].Resize(in.Rows, il.x[v].Cols)
		il.vel[v].Zero()
	}
	return loss, correct
}

// scaleOutput turns the clamped output error −∂ℓ/∂mu_L into the nudged
// one, −β·∂ℓ/∂mu_L.
func (il *IL[T]) scaleOutput() {
	if il.beta != 1 {
		tensor.Scale(il.beta, il.eps[il.G.Output()].Data)
	}
}

// Predict recomputes the errors from the current value nodes (and, with
// all, the predictions of the vertices fed by the clamped input, which
// change only when the parameters do). It returns the summed loss ℓ.
func (il *IL[T]) Predict(labels []int, all bool) float64 {
	var l float64
	if all {
		l = il.predictAll(labels)
	} else {
		l = il.predict(labels)
	}
	il.scaleOutput()
	return l
}

// Energy is the batch-mean F_β of the current errors, with outLoss the
// summed ℓ from the last Predict.
func (il *IL[T]) Energy(r *Result, outLoss float64, batch int) {
	il.energy(r, float64(il.beta)*outLoss, batch)
}

// Relax takes one synchronous value-node step from the current errors:
//
//	v_x ← m·v_x + ∂F/∂x,  x ← x − γ·v_x   (every hidden vertex)
//
// With coef ≠ 0 it also adds the parameter gradient −(coef/B)·J_θᵀ eps_v
// of every vertex at the same state (iPC's g_θ, in the same VJP pass).
func (il *IL[T]) Relax(lr, m float64, coef float64) {
	out := il.G.Output()
	var a T
	if coef != 0 {
		a = il.alpha(coef)
	}
	for c := 1; c <= out; c++ {
		switch {
		case !il.fromInput[c]:
			il.G.VJPVertex(il.ws, c, il.eps[c], il.hidden[c], coef != 0, a)
		case coef != 0:
			il.G.VJPVertex(il.ws, c, il.eps[c], nil, true, a)
		}
	}
	for v := 1; v < out; v++ {
		tensor.ValueStep(il.x[v].Data, il.vel[v].Data, il.eps[v].Data, il.pull(v).Data, T(lr), T(m))
	}
}

// ParamGrads adds −(coef/B)·Σ_b J_θᵀ eps_v,b to every vertex's parameter
// gradient at the current state (coef = 1: IL's batch-mean gradient).
func (il *IL[T]) ParamGrads(coef float64) {
	a := il.alpha(coef)
	for v := 1; v <= il.G.Output(); v++ {
		il.G.VJPVertex(il.ws, v, il.eps[v], nil, true, a)
	}
}

// Run runs inference learning on one batch (PC-SPEC §3): feed-forward
// initialisation, Steps synchronous value-node steps on F_β, and then adds
// (GradWeight/β)·∂F_β/∂θ at the final state to the graph's Grad buffers
// (callers zero them first). It stops early with ctx's error when ctx
// ends (checked before every step).
func (il *IL[T]) Run(ctx context.Context, in *Mat[T], labels []int, s ILSettings) (Result, error) {
	var r Result
	r.Loss, r.Correct = il.Begin(in, labels, s.beta())
	if s.Trace != nil {
		*s.Trace = append((*s.Trace)[:0], float64(il.beta)*r.Loss/float64(in.Rows))
	}
	for t := 0; t < s.Steps; t++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if t > 0 {
			outLoss := il.Predict(labels, false)
			if s.Trace != nil {
				var tr Result
				il.Energy(&tr, outLoss, in.Rows)
				*s.Trace = append(*s.Trace, tr.Energy)
			}
		}
		il.Relax(s.LR, s.Momentum, 0)
	}
	outLoss := il.Predict(labels, false)
	il.Energy(&r, outLoss, in.Rows)
	if s.Trace != nil && s.Steps > 0 {
		*s.Trace = append(*s.Trace, r.Energy)
	}
	il.ParamGrads(s.GradCoef())
	r.Steps = s.Steps
	return r, nil
}
