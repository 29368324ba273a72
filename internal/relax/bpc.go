package relax

import (
	"context"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// BPC is bidirectional predictive coding (bPC, Oliviers, Tang & Bogacz
// 2025) on a chain g with a top-down graph h = g.TopDown (model.
// Bidirectional). Every vertex v < L of g has, besides its bottom-up
// prediction mu_v = f_v(x_{v−1}), a top-down prediction
//
//	nu_v = h_{L−v}(x_{v+1})   (x_L: the target y, one-hot, during training)
//
// with error delta_v = x_v − nu_v, and the energy of one sample is
//
//	F = Σ_{v=1}^{L−1} ½‖eps_v‖² + ℓ(mu_L, y) + α·Σ_{v=0}^{L−1} ½‖delta_v‖²
//
// (α = model.topdown_weight; the bottom-up weight is 1). Inference moves
// the hidden x_v (input and output clamped) by value-node SGD on
//
//	∂F/∂x_v = eps_v − J_{v+1}ᵀ eps_{v+1} + α·(delta_v − K_{v−1}ᵀ delta_{v−1})
//
// (K_{v−1} the Jacobian of nu_{v−1} w.r.t. x_v), from the bottom-up
// feed-forward state; then every parameter gets the batch mean of ∂F/∂θ
// at the final state: IL's for g, −(α/B)·Σ_b K_θᵀ delta for h. With α = 0
// every operation on g is IL's, so g trains exactly as pc.
type BPC[T tensor.Float] struct {
	*IL[T]
	H     *model.Graph[T]
	Alpha float64
	hws   *model.Workspace[T]
	y     *Mat[T]
	delta []*Mat[T] // delta[v], v = 0 … L−1
	acc   []*Mat[T] // eps_v + α·(delta_v − K_vᵀ…), the step's local term
	ins   []*Mat[T]
	want  []bool
}

// NewBPC returns bPC on st's graph, whose TopDown must be set.
func NewBPC[T tensor.Float](st *State[T], alpha float64) *BPC[T] {
	h := st.G.TopDown
	if h == nil {
		panic("relax: NewBPC: the graph has no top-down graph")
	}
	n := len(st.G.Vertices)
	return &BPC[T]{IL: NewIL(st), H: h, Alpha: alpha, hws: model.NewWorkspace(h), y: &Mat[T]{},
		delta: newMats[T](n), acc: newMats[T](n), ins: make([]*Mat[T], 1), want: []bool{true}}
}

// topDown recomputes every top-down prediction and error from the current
// value nodes (and y).
func (b *BPC[T]) topDown() {
	L := b.G.Output()
	for u := 1; u <= L; u++ {
		b.ins[0] = b.y
		if u > 1 {
			b.ins[0] = b.x[L-u+1]
		}
		b.H.ForwardVertex(b.hws, u, b.ins)
		tensor.Sub(b.delta[L-u], b.x[L-u], b.hws.Mu[u])
	}
}

// setTarget sets y to the one-hot rows of labels.
func (b *BPC[T]) setTarget(labels []int) {
	c := b.G.Vertices[b.G.Output()].Shape.Size()
	b.y.Resize(len(labels), c)
	b.y.Zero()
	for i, l := range labels {
		b.y.Data[i*c+l] = 1
	}
}

// relax takes one synchronous value-node step on F from the current
// errors (both directions).
func (b *BPC[T]) relax(lr, m T) {
	L := b.G.Output()
	for c := 1; c <= L; c++ {
		if !b.fromInput[c] {
			b.G.VJPVertex(b.ws, c, b.eps[c], b.hidden[c], false, 0)
		}
	}
	for u := 2; u <= L; u++ {
		b.H.VJPVertex(b.hws, u, b.delta[L-u], b.want, false, 0)
	}
	a := T(b.Alpha)
	for v := 1; v < L; v++ {
		b.localTerm(v, a)
		tensor.ValueStep(b.x[v].Data, b.vel[v].Data, b.acc[v].Data, b.pull(v).Data, lr, m)
	}
}

// localTerm sets acc[v] = eps_v + α·(delta_v − K_{v−1}ᵀ delta_{v−1}), the
// part of ∂F/∂x_v that is not g's child's pull.
func (b *BPC[T]) localTerm(v int, a T) {
	L := b.G.Output()
	acc := b.acc[v]
	acc.Resize(b.eps[v].Rows, b.eps[v].Cols)
	eps, d, k := b.eps[v].Data, b.delta[v].Data, b.hws.Contrib[L-v+1][0].Data
	for i := range acc.Data {
		acc.Data[i] = eps[i] + a*(d[i]-k[i])
	}
}

// topEnergy is Σ_v ½‖delta_v‖² summed over the batch.
func (b *BPC[T]) topEnergy() float64 {
	var sq float64
	for v := 0; v < b.G.Output(); v++ {
		sq += tensor.SumSq(b.delta[v].Data)
	}
	return 0.5 * sq
}

// Run trains on one batch: C1 (bottom-up feed-forward values), s.Steps
// steps on F, then ∂F/∂θ (batch means) of both graphs added to their Grad
// buffers (callers zero them). s.Beta and s.GradWeight must be 0.
func (b *BPC[T]) Run(ctx context.Context, in *Mat[T], labels []int, s ILSettings) (Result, error) {
	var r Result
	r.Loss, r.Correct = b.Begin(in, labels, 1)
	b.setTarget(labels)
	b.topDown()
	if b.Alpha != 0 {
		r.StartEnergy = (r.Loss + b.Alpha*b.topEnergy()) / float64(in.Rows)
	}
	lr, m := T(s.LR), T(s.Momentum)
	for t := 0; t < s.Steps; t++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if t > 0 {
			b.Predict(labels, false)
			b.topDown()
		}
		b.relax(lr, m)
	}
	outLoss := b.Predict(labels, false)
	b.topDown()
	b.Energy(&r, outLoss, in.Rows)
	r.Energy += b.Alpha * b.topEnergy() / float64(in.Rows)
	b.ParamGrads(1)
	b.topParamGrads()
	r.Steps = s.Steps
	return r, nil
}

// topParamGrads adds −(α/B)·Σ_b K_θᵀ delta to h's parameter gradients at
// the current state (the last topDown).
func (b *BPC[T]) topParamGrads() {
	L := b.G.Output()
	a := -T(b.Alpha) / T(b.x[0].Rows)
	for u := 1; u <= L; u++ {
		b.H.VJPVertex(b.hws, u, b.delta[L-u], nil, true, a)
	}
}

// Start sets the feed-forward state of a batch without stepping (for
// tests that then move the value nodes by hand).
func (b *BPC[T]) Start(in *Mat[T], labels []int) {
	b.Begin(in, labels, 1)
	b.setTarget(labels)
}

// EnergyNow is F per sample (batch mean) of the current value nodes and
// parameters, every prediction recomputed.
func (b *BPC[T]) EnergyNow(labels []int) float64 {
	var r Result
	outLoss := b.Predict(labels, true)
	b.topDown()
	b.Energy(&r, outLoss, b.x[0].Rows)
	return r.Energy + b.Alpha*b.topEnergy()/float64(b.x[0].Rows)
}

// Gradients returns ∂F/∂x_v per sample for every hidden v (index v; 0 and
// L unset) at the current state, and leaves the batch-mean ∂F/∂θ of both
// graphs added to their Grad buffers.
func (b *BPC[T]) Gradients(labels []int) []*Mat[T] {
	b.Predict(labels, true)
	b.topDown()
	L := b.G.Output()
	for c := 1; c <= L; c++ {
		if !b.fromInput[c] {
			b.G.VJPVertex(b.ws, c, b.eps[c], b.hidden[c], false, 0)
		}
	}
	for u := 2; u <= L; u++ {
		b.H.VJPVertex(b.hws, u, b.delta[L-u], b.want, false, 0)
	}
	for v := 1; v < L; v++ {
		b.localTerm(v, T(b.Alpha))
		tensor.Sub(b.grad[v], b.acc[v], b.pull(v))
	}
	b.ParamGrads(1)
	b.topParamGrads()
	return b.grad
}
