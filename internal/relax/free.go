package relax

import (
	"context"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// FreeSettings configures inference with free or partly clamped vertices
// (Infer). Every zero value is a valid choice.
type FreeSettings struct {
	// Steps is the number of inference steps T; 0 runs none.
	Steps int
	// LR is the value-node step size γ.
	LR float64
	// Momentum is the value-node SGD momentum (0: plain gradient steps).
	Momentum float64
	// FreeInput lets inference move the input vertex x_0, starting from
	// the matrix handed to Run (which is not modified). If false, x_0 is
	// clamped to it, as in training.
	FreeInput bool
	// Decay is λ of the value-node decay (Sun & Orchard 2020): F gains
	// (λ/2)·‖x_v‖² for every free value node (the hidden vertices, and the
	// input when free). 0: none.
	Decay float64
}

// Infer is PC inference with no weight update in which any vertex may be
// free or partly clamped: recognition in a generative network (the label
// at the input is free, the image at the output clamped), generation, and
// completion (a subset of the output clamped, through the loss; see
// model.TargetMSE). Its energy is
//
//	F = Σ_{v=1}^{L−1} ½‖eps_v‖² + ℓ(mu_L, y) + (λ/2)·Σ_{free v} ‖x_v‖²
//
// and every free unit descends it: x_v ← x_v − γ·(m·vel + ∂F/∂x_v) with
//
//	∂F/∂x_v = eps_v − Σ_c J_{c,v}ᵀ eps_c + λ·x_v   (hidden v)
//	∂F/∂x_0 =      − Σ_c J_{c,0}ᵀ eps_c + λ·x_0   (the free input)
//
// Clamp[v], when set (the shape of x_v: batch × units), marks with a
// non-zero entry the units of v that never move; the rest follow F.
// Infer owns its State; it is the same inference for every state-based
// rule (pc and ipc train the weights differently, not the inference).
type Infer[T tensor.Float] struct {
	*State[T]
	Clamp []*Mat[T]
	vel   []*Mat[T]
	in    *Mat[T] // the free input, owned
	want  [][]bool
	free  bool
}

// NewInfer returns inference on g with the output loss.
func NewInfer[T tensor.Float](g *model.Graph[T], loss model.Loss[T]) *Infer[T] {
	st := NewState(g, loss)
	n := len(g.Vertices)
	inf := &Infer[T]{State: st, Clamp: make([]*Mat[T], n), vel: newMats[T](n), in: &Mat[T]{}, want: make([][]bool, n)}
	for v := 1; v < n; v++ {
		inf.want[v] = make([]bool, len(g.Vertices[v].Inputs))
	}
	return inf
}

// Run starts at the feed-forward state from x0 (every hidden x_v = mu_v)
// and takes s.Steps synchronous steps on F. It returns the feed-forward
// loss and correct count, and F per sample at the end. Values then holds
// the inferred value nodes (x_0 the inferred input when s.FreeInput).
func (inf *Infer[T]) Run(ctx context.Context, x0 *Mat[T], labels []int, s FreeSettings) (Result, error) {
	start := x0
	inf.free = s.FreeInput
	if s.FreeInput {
		inf.in.CopyFrom(x0)
		start = inf.in
	}
	for v := 1; v < len(inf.G.Vertices); v++ {
		for i, p := range inf.G.Vertices[v].Inputs {
			inf.want[v][i] = p != 0 || s.FreeInput
		}
	}
	var r Result
	r.Loss, r.Correct = inf.feedForward(start, labels)
	for v := 0; v < inf.G.Output(); v++ {
		inf.vel[v].Resize(x0.Rows, inf.x[v].Cols)
		inf.vel[v].Zero()
	}
	for t := 0; t < s.Steps; t++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if t > 0 {
			inf.repredict(labels)
		}
		inf.gradients(s.Decay)
		inf.step(T(s.LR), T(s.Momentum))
	}
	inf.energyNow(&r, inf.repredict(labels), s.Decay, x0.Rows)
	r.Steps = s.Steps
	return r, nil
}

// repredict recomputes every prediction that can have changed and every
// error; it returns the summed output loss.
func (inf *Infer[T]) repredict(labels []int) float64 {
	if inf.free {
		return inf.predictAll(labels)
	}
	return inf.predict(labels)
}

// energyNow fills r with F (decay included) of the current state.
func (inf *Infer[T]) energyNow(r *Result, outLoss, decay float64, batch int) {
	inf.energy(r, outLoss, batch)
	if decay == 0 {
		return
	}
	var sq float64
	for v := inf.first(); v < inf.G.Output(); v++ {
		sq += tensor.SumSq(inf.x[v].Data)
	}
	r.Energy += 0.5 * decay * sq / float64(batch)
}

// first is the lowest free vertex: 0 with a free input, else 1.
func (inf *Infer[T]) first() int {
	if inf.free {
		return 0
	}
	return 1
}

// gradients sets grad[v] = ∂F/∂x_v for every free vertex from the current
// errors (clamped units included; step skips them).
func (inf *Infer[T]) gradients(decay float64) {
	out := inf.G.Output()
	for c := 1; c <= out; c++ {
		if inf.free || !inf.fromInput[c] {
			inf.G.VJPVertex(inf.ws, c, inf.eps[c], inf.want[c], false, 0)
		}
	}
	for v := inf.first(); v < out; v++ {
		g := inf.grad[v]
		if v == 0 {
			g.CopyFrom(inf.pull(0))
			tensor.Scale(-1, g.Data)
		} else {
			tensor.Sub(g, inf.eps[v], inf.pull(v))
		}
		if decay != 0 {
			tensor.Axpy(T(decay), inf.x[v].Data, g.Data)
		}
	}
}

// step moves every free, unclamped unit: vel ← m·vel + g, x ← x − γ·vel.
func (inf *Infer[T]) step(lr, m T) {
	for v := inf.first(); v < inf.G.Output(); v++ {
		x, vel, g := inf.x[v].Data, inf.vel[v].Data, inf.grad[v].Data
		var clamp []T
		if c := inf.Clamp[v]; c != nil {
			if len(c.Data) != len(x) {
				panic("relax: Infer: Clamp of a vertex does not match its values")
			}
			clamp = c.Data
		}
		for i := range x {
			if clamp != nil && clamp[i] != 0 {
				continue
			}
			vel[i] = m*vel[i] + g[i]
			x[i] -= lr * vel[i]
		}
	}
}

// Gradients returns ∂F/∂x_v of the current state (index 0: the input,
// when free), recomputing the errors first; for tests and diagnostics.
func (inf *Infer[T]) Gradients(labels []int, decay float64) []*Mat[T] {
	inf.repredict(labels)
	inf.gradients(decay)
	return inf.grad
}

// EnergyNow is F per sample (decay included) of the current value nodes.
func (inf *Infer[T]) EnergyNow(labels []int, decay float64) float64 {
	var r Result
	inf.energyNow(&r, inf.repredict(labels), decay, inf.x[0].Rows)
	return r.Energy
}

// Prediction is mu_L, the output's prediction at the current state (the
// generated or completed sample when output units are free).
func (inf *Infer[T]) Prediction() *Mat[T] { return inf.ws.Mu[inf.G.Output()] }

// SampleEnergies is F of each sample (decay included) at the state of the
// last Run, from its errors: Σ_v ½‖eps_v‖² (the output's too, which for
// mse is its loss) + (λ/2)·Σ_{free v} ‖x_v‖². The slice is new.
func (inf *Infer[T]) SampleEnergies(decay float64) []float64 {
	rows := inf.x[0].Rows
	f := make([]float64, rows)
	for v := 1; v <= inf.G.Output(); v++ {
		e := inf.eps[v]
		for i := range rows {
			f[i] += 0.5 * tensor.SumSq(e.Row(i))
		}
	}
	if decay != 0 {
		for v := inf.first(); v < inf.G.Output(); v++ {
			for i := range rows {
				f[i] += 0.5 * decay * tensor.SumSq(inf.x[v].Row(i))
			}
		}
	}
	return f
}
