package relax

import (
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

type Mat[T tensor.Float] = tensor.Mat[T]

// State is what every PC rule shares on one graph: the value nodes, the
// prediction errors, the workspace of the graph's forward and VJP passes,
// and the levels. A rule (IL, ZIL, FaZIL, …) owns its private buffers and
// works on a State; several rules may share one. Buffers are sized on the
// first batch and reused; a State is not safe for concurrent use.
type State[T tensor.Float] struct {
	G    *model.Graph[T]
	Loss model.Loss[T]

	ws     *model.Workspace[T]
	x      []*Mat[T] // value nodes; x[0] aliases the input batch
	eps    []*Mat[T]
	grad   []*Mat[T] // ∂F/∂x
	tmp    []*Mat[T] // Σ of the children's VJPs, per vertex
	levels [][]int   // levels[t]: vertices at level t
	// ins[v] holds the current values of v's inputs; hidden[v] says which
	// input slots are hidden vertices (they receive gradients).
	ins       [][]*Mat[T]
	hidden    [][]bool
	fromInput []bool // every input of v is the clamped input

	muPrev []*Mat[T] // predictions before the latest predictTracked

	levelBuf []float64
	// valuesStale: x_v = mu_v + eps_v has not been written yet (sequential
	// Z-IL); Values writes it.
	valuesStale bool
}

// newMats returns n empty matrices.
func newMats[T tensor.Float](n int) []*Mat[T] {
	s := make([]*Mat[T], n)
	for i := range s {
		s[i] = &Mat[T]{}
	}
	return s
}

// NewState prepares the shared PC state of g with loss.
func NewState[T tensor.Float](g *model.Graph[T], loss model.Loss[T]) *State[T] {
	n := len(g.Vertices)
	e := &State[T]{G: g, Loss: loss, ws: model.NewWorkspace(g)}
	e.x, e.eps, e.grad, e.tmp, e.muPrev = newMats[T](n), newMats[T](n), newMats[T](n), newMats[T](n), newMats[T](n)
	e.ins = make([][]*Mat[T], n)
	e.hidden = make([][]bool, n)
	e.fromInput = make([]bool, n)
	for v := 1; v < n; v++ {
		e.ins[v] = make([]*Mat[T], len(g.Vertices[v].Inputs))
		e.hidden[v] = g.HiddenInputs(v, nil)
		e.fromInput[v] = true
		for _, h := range e.hidden[v] {
			e.fromInput[v] = e.fromInput[v] && !h
		}
	}
	e.levels = make([][]int, g.Depth()+1)
	for v, vx := range g.Vertices {
		e.levels[vx.Level] = append(e.levels[vx.Level], v)
	}
	return e
}

// Result summarises one batch of inference.
type Result struct {
	// Loss is the summed per-sample loss at the feed-forward state (the
	// loss backprop sees with the current weights).
	Loss float64
	// Correct counts feed-forward predictions equal to the label.
	Correct int
	// Energy is the batch-mean F at the end of inference; EnergyLevels[v]
	// is the batch mean of vertex v's term (½‖eps_v‖², or ℓ at the output).
	// EnergyLevels is owned by the State and overwritten by the next batch.
	Energy       float64
	EnergyLevels []float64
	// StartEnergy, when non-zero, is the batch-mean F at the start of
	// inference where it is not the loss (bPC's top-down term); the
	// energy-growth guard compares Energy with it.
	StartEnergy float64
	// Steps is the number of inference steps run; Samples the batch size.
	Steps, Samples int
}

// inputs returns the current values of v's inputs.
func (e *State[T]) inputs(v int) []*Mat[T] {
	for i, p := range e.G.Vertices[v].Inputs {
		e.ins[v][i] = e.x[p]
	}
	return e.ins[v]
}

// feedForward clamps x_0 to the input, sets every other x_v = mu_v
// (condition C1 of Z-IL, and IL's initialisation) and computes the output
// error. It returns the summed loss and the correct count.
func (e *State[T]) feedForward(in *Mat[T], labels []int) (float64, int) {
	return e.feedForwardValues(in, labels, true)
}

// feedForwardValues is feedForward; without setValues the value nodes are
// left for the caller to write (sequential Z-IL sets each x_v = mu_v + eps_v
// at its level's step and reads predictions from the workspace until then).
func (e *State[T]) feedForwardValues(in *Mat[T], labels []int, setValues bool) (float64, int) {
	e.x[0] = in
	out := e.G.Output()
	var buf [4]*Mat[T]
	for v := 1; v <= out; v++ {
		ins := e.inputs(v)
		if !setValues {
			ins = buf[:0]
			for _, p := range e.G.Vertices[v].Inputs {
				if p == 0 {
					ins = append(ins, in)
				} else {
					ins = append(ins, e.ws.Mu[p])
				}
			}
		}
		e.G.ForwardVertex(e.ws, v, ins)
		if setValues {
			e.x[v].CopyFrom(e.ws.Mu[v])
		}
		if v < out && setValues {
			e.eps[v].Resize(in.Rows, e.ws.Mu[v].Cols)
			e.eps[v].Zero()
		}
	}
	loss := e.Loss.OutputError(e.eps[out], e.ws.Mu[out], labels)
	return loss, model.CountCorrect(e.ws.Mu[out], labels)
}

// predict recomputes mu for every vertex whose parent is not the clamped
// input, and the errors of every vertex. It returns the summed output loss.
func (e *State[T]) predict(labels []int) float64 {
	out := e.G.Output()
	for v := 1; v <= out; v++ {
		if !e.fromInput[v] {
			e.G.ForwardVertex(e.ws, v, e.inputs(v))
		}
		if v < out {
			tensor.Sub(e.eps[v], e.x[v], e.ws.Mu[v])
		}
	}
	return e.Loss.OutputError(e.eps[out], e.ws.Mu[out], labels)
}

// stepValues applies x_v ← x_v − γ·∂F/∂x_v to every hidden vertex and
// carries its error along: eps_v ← eps_v − γ·∂F/∂x_v. Together with
// predictTracked this keeps eps_v = x_v − mu_v without recomputing the
// difference, whose cancellation would cost the exact Z-IL methods their
// last digits: an error that starts at 0 and takes one step is exactly
// γ·J_cᵀ eps_c, as in backprop.
func (e *State[T]) stepValues(gamma T) {
	for v := 1; v < e.G.Output(); v++ {
		tensor.Axpy(-gamma, e.grad[v].Data, e.x[v].Data)
		tensor.Axpy(-gamma, e.grad[v].Data, e.eps[v].Data)
	}
}

// predictTracked recomputes the predictions like predict but updates
// hidden errors by the change of their prediction (eps_v −= mu_new −
// mu_old), which is exactly 0 where the parent did not move.
func (e *State[T]) predictTracked(labels []int) {
	out := e.G.Output()
	for v := 1; v <= out; v++ {
		if e.fromInput[v] {
			continue
		}
		if v < out {
			e.muPrev[v].CopyFrom(e.ws.Mu[v])
		}
		e.G.ForwardVertex(e.ws, v, e.inputs(v))
		if v < out {
			subDiff(e.eps[v].Data, e.ws.Mu[v].Data, e.muPrev[v].Data)
		}
	}
	e.Loss.OutputError(e.eps[out], e.ws.Mu[out], labels)
}

// subDiff sets eps −= (mu − prev) element-wise.
func subDiff[T tensor.Float](eps, mu, prev []T) {
	mu = mu[:len(eps)]
	prev = prev[:len(eps)]
	for i := range eps {
		if d := mu[i] - prev[i]; d != 0 {
			eps[i] -= d
		}
	}
}

// energy fills r's energy fields from the current errors and output loss.
func (e *State[T]) energy(r *Result, outLoss float64, batch int) {
	e.energyFrom(r, nil, outLoss, batch)
}

// energyFrom is energy with Σ eps_v² given per vertex (nil: computed).
func (e *State[T]) energyFrom(r *Result, sumSq []float64, outLoss float64, batch int) {
	out := e.G.Output()
	if len(e.levelBuf) != out+1 {
		e.levelBuf = make([]float64, out+1)
	}
	r.EnergyLevels = e.levelBuf
	r.Energy = 0
	r.Samples = batch
	for v := 1; v < out; v++ {
		var sq float64
		if sumSq != nil {
			sq = sumSq[v]
		} else {
			sq = tensor.SumSq(e.eps[v].Data)
		}
		r.EnergyLevels[v] = 0.5 * sq / float64(batch)
		r.Energy += r.EnergyLevels[v]
	}
	r.EnergyLevels[out] = outLoss / float64(batch)
	r.Energy += r.EnergyLevels[out]
}

// xGradients sets grad[v] = ∂F/∂x_v = eps_v − Σ_c J_{c,v}ᵀ eps_c for every
// hidden vertex (c over the uses of v), from the current state.
func (e *State[T]) xGradients() {
	e.childVJPs()
	for v := 1; v < e.G.Output(); v++ {
		tensor.Sub(e.grad[v], e.eps[v], e.pull(v))
	}
}

// childVJPs computes, for every vertex c fed by a hidden vertex, what c
// sends back to its hidden inputs: J_{c,v}ᵀ eps_c.
func (e *State[T]) childVJPs() {
	for c := 1; c <= e.G.Output(); c++ {
		if !e.fromInput[c] {
			e.G.VJPVertex(e.ws, c, e.eps[c], e.hidden[c], false, 0)
		}
	}
}

// pull returns Σ_c J_{c,v}ᵀ eps_c for hidden vertex v after childVJPs: the
// child's own buffer when v has one use (no copy), else the sum gathered
// into tmp[v].
func (e *State[T]) pull(v int) *Mat[T] {
	if ch := e.G.Children[v]; len(ch) == 1 {
		return e.ws.Contrib[ch[0].Child][ch[0].Slot]
	}
	e.G.GatherGrad(e.ws, e.tmp[v], v)
	return e.tmp[v]
}

// paramGrads adds −(1/B)·J_θᵀ eps_v to the gradients of vertex v's
// parameters, with the presynaptic values of the current state (the
// vertex's last forward pass).
func (e *State[T]) paramGrads(v int, eps *Mat[T]) {
	e.G.VJPVertex(e.ws, v, eps, nil, true, -1/T(eps.Rows))
}

// predictAll is predict including the vertices fed by the clamped input
// (whose predictions predict reuses); for tests that change parameters.
func (e *State[T]) predictAll(labels []int) float64 {
	for v := 1; v <= e.G.Output(); v++ {
		if e.fromInput[v] {
			e.G.ForwardVertex(e.ws, v, e.inputs(v))
		}
	}
	return e.predict(labels)
}

// Values returns the value nodes x_v after the last batch (x[0] is the
// input). The slice and matrices belong to the engine.
func (e *State[T]) Values() []*Mat[T] {
	if e.valuesStale {
		for v := 1; v < e.G.Output(); v++ {
			tensor.Add(e.x[v], e.ws.Mu[v], e.eps[v])
		}
		e.x[e.G.Output()].CopyFrom(e.ws.Mu[e.G.Output()])
		e.valuesStale = false
	}
	return e.x
}

// Errors returns the prediction errors eps_v after the last batch.
func (e *State[T]) Errors() []*Mat[T] { return e.eps }
