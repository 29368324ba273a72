package relax

import (
	"context"

	"github.com/pctrain/pctrain/internal/tensor"
)

// EPC is error-based predictive coding (RULES.md §3) over a shared State.
// The errors are the variables: every hidden vertex v (identity vertices
// included) has an error e_v (B × n_v), held in the State's eps[v], and
// the states follow from them by a forward pass, held in x[v]:
//
//	s_0 = input,   s_v = f_v(s_parents) + e_v (hidden),   mu_L = f_L(s_parents of L)
//	E(e) = Σ_hidden ½‖e_v‖² + ℓ(mu_L, y)   per sample
//
// An inference step is e ← e − η·∂E/∂e with ∂E/∂e_v = e_v + ∂ℓ/∂s_v, the
// adjoint of backprop at v for the current states (one forward and one
// reverse pass of the graph), with the same momentum form as IL:
// v_e ← m·v_e + ∂E/∂e, e ← e − η·v_e. Learning takes IL's parameter
// gradient at x = s, where eps_v = e_v.
type EPC[T tensor.Float] struct {
	*State[T]
	vel []*Mat[T]
}

// NewEPC returns ePC working on st.
func NewEPC[T tensor.Float](st *State[T]) *EPC[T] {
	return &EPC[T]{State: st, vel: newMats[T](len(st.G.Vertices))}
}

// Begin starts a batch with every error e_v = 0 (the states are the
// feed-forward values) and the momentum at zero. It returns the summed
// feed-forward loss and the correct count.
func (p *EPC[T]) Begin(in *Mat[T], labels []int) (float64, int) {
	loss, correct := p.feedForward(in, labels)
	for v := 1; v < p.G.Output(); v++ {
		p.vel[v].Resize(in.Rows, p.x[v].Cols)
		p.vel[v].Zero()
	}
	return loss, correct
}

// Forward recomputes the states from the current errors, s_v = f_v(s) +
// e_v, and the output error −∂ℓ/∂mu_L. It returns the summed loss ℓ. A
// vertex fed by the clamped input alone keeps the prediction of Begin's
// feed-forward pass (the parameters do not move within a batch), as IL
// hoists it: on the MLP, f_1 is most of a forward pass.
func (p *EPC[T]) Forward(labels []int) float64 {
	out := p.G.Output()
	for v := 1; v <= out; v++ {
		if !p.fromInput[v] {
			p.G.ForwardVertex(p.ws, v, p.inputs(v))
		}
		if v < out {
			tensor.Add(p.x[v], p.ws.Mu[v], p.eps[v])
		}
	}
	return p.Loss.OutputError(p.eps[out], p.ws.Mu[out], labels)
}

// Adjoints sets ws.Delta(v) = ∂ℓ/∂s_v (= ∂ℓ/∂mu_v, since s_v = mu_v + e_v)
// for every vertex, by backprop's reverse sweep through the last Forward.
func (p *EPC[T]) Adjoints() {
	out := p.G.Output()
	d := p.ws.Delta(out)
	d.CopyFrom(p.eps[out])
	tensor.Scale(-1, d.Data)
	p.G.Backward(p.ws, false, 0)
}

// Grad sets grad[v] = ∂E/∂e_v = e_v + ∂ℓ/∂s_v for every hidden vertex,
// after Forward (the probe's gradient; Relax fuses it into its step).
func (p *EPC[T]) Grad() {
	p.Adjoints()
	for v := 1; v < p.G.Output(); v++ {
		d := p.ws.Delta(v)
		tensor.Add(p.grad[v], p.eps[v], d)
	}
}

// Relax takes one error step from the states of the last Forward.
func (p *EPC[T]) Relax(lr, m float64) {
	p.Adjoints()
	for v := 1; v < p.G.Output(); v++ {
		d := p.ws.Delta(v)
		// Descends along e + δ (ValueStep's eps − pull with pull = −δ).
		tensor.ValueStepAdd(p.eps[v].Data, p.vel[v].Data, p.eps[v].Data, d.Data, T(lr), T(m))
	}
}

// ParamGrads adds IL's batch-mean parameter gradient at x = s,
// −(1/B)·Σ_b J_θᵀ eps_v,b with eps_v = e_v (hidden) and the output error,
// to every vertex's Grad, from the states of the last Forward.
func (p *EPC[T]) ParamGrads() {
	a := -1 / T(p.x[0].Rows)
	for v := 1; v <= p.G.Output(); v++ {
		p.G.VJPVertex(p.ws, v, p.eps[v], nil, true, a)
	}
}

// Run is ePC on one batch: e = 0, steps error steps, then the states are
// fixed and the parameter gradient at them is added to the graph's Grad
// buffers (callers zero them first). trace, if non-nil, receives the
// batch-mean E before the first step and after every step. It stops with
// ctx's error, before any gradient is added, when ctx ends.
func (p *EPC[T]) Run(ctx context.Context, in *Mat[T], labels []int, steps int, lr, m float64, trace *[]float64) (Result, error) {
	var r Result
	r.Loss, r.Correct = p.Begin(in, labels)
	if trace != nil {
		*trace = append((*trace)[:0], r.Loss/float64(in.Rows))
	}
	for t := 0; t < steps; t++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if t > 0 {
			outLoss := p.Forward(labels)
			if trace != nil {
				var tr Result
				p.energy(&tr, outLoss, in.Rows)
				*trace = append(*trace, tr.Energy)
			}
		}
		p.Relax(lr, m)
	}
	outLoss := p.Forward(labels)
	p.energy(&r, outLoss, in.Rows)
	if trace != nil && steps > 0 {
		*trace = append(*trace, r.Energy)
	}
	p.ParamGrads()
	r.Steps = steps
	return r, nil
}
