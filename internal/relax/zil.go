package relax

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Schedule selects how Z-IL runs its Depth inference steps.
type Schedule int

const (
	// Sequential touches only the active level at each step: one VJP and
	// one parameter gradient per vertex, the cost of backprop.
	Sequential Schedule = iota
	// Parallel updates every value node at every step (the literal network
	// dynamics); the same numbers at about Depth× the work.
	Parallel
)

// ParseSchedule maps "sequential" and "parallel" to a Schedule.
func ParseSchedule(s string) (Schedule, error) {
	switch s {
	case "sequential", "":
		return Sequential, nil
	case "parallel":
		return Parallel, nil
	}
	return 0, fmt.Errorf("unknown schedule %q (valid: parallel, sequential)", s)
}

func (s Schedule) String() string {
	if s == Parallel {
		return "parallel"
	}
	return "sequential"
}

// ZIL.Run runs zero-divergence inference learning on one batch and adds the
// parameter gradients to the graph's Grad buffers (callers zero them). The
// three conditions of PC-SPEC §3:
//
//	C1  every x_v starts at mu_v, so only the output error is non-zero;
//	C2  the parameters of the vertices at level t take their gradient at
//	    step t (t = 0 … Depth−1), from eps and presynaptic values of that
//	    step, and at no other step;
//	C3  the value-node step size is gamma; with gamma = 1 the error of level
//	    t equals backprop's −δ and the gradients equal backprop's.
//
// Gradients are applied by the optimizer after the last step, so every
// value-node update sees the weights from before the batch (PC-SPEC's
// synchronous-semantics pitfall).
// ZIL is Z-IL's own state over a shared State: the per-vertex Σ eps² of
// the sequential schedule.
type ZIL[T tensor.Float] struct {
	*State[T]
	seqEnergy []float64
}

// NewZIL returns Z-IL working on st.
func NewZIL[T tensor.Float](st *State[T]) *ZIL[T] {
	return &ZIL[T]{State: st, seqEnergy: make([]float64, len(st.G.Vertices))}
}

// Run: see the comment above.
func (e *ZIL[T]) Run(in *Mat[T], labels []int, gamma float64, sched Schedule) Result {
	var r Result
	e.valuesStale = false
	r.Loss, r.Correct = e.feedForwardValues(in, labels, sched == Parallel)
	depth := e.G.Depth()
	g := T(gamma)
	if sched == Parallel {
		for t := 0; t < depth; t++ {
			if t > 0 {
				e.predictTracked(labels)
			}
			for _, v := range e.levels[t] {
				e.paramGrads(v, e.eps[v])
			}
			e.xGradients()
			e.stepValues(g)
		}
	} else {
		// At step t only the vertices at level t carry new errors. They
		// take their parameter gradients and send J_cᵀ eps_c to their
		// inputs; a vertex p at level t+1, whose error was 0, then steps
		// to x_p = mu_p + γ·Σ_c J_{c,p}ᵀ eps_c, so eps_p = γ·Σ_c J_{c,p}ᵀ eps_c.
		// No later step reads x_p, so it is materialised only on request
		// (Values), which keeps the schedule at backprop's cost.
		e.valuesStale = true
		for t := 0; t < depth; t++ {
			for _, v := range e.levels[t] {
				e.G.VJPVertex(e.ws, v, e.eps[v], e.hidden[v], true, -1/T(in.Rows))
			}
			if t+1 >= len(e.levels) {
				continue
			}
			for _, p := range e.levels[t+1] {
				if p == 0 {
					continue
				}
				e.G.GatherGrad(e.ws, e.eps[p], p)
				if g != 1 {
					tensor.Scale(g, e.eps[p].Data)
				}
				e.seqEnergy[p] = tensor.SumSq(e.eps[p].Data)
			}
		}
		r.Steps = depth
		e.energyFrom(&r, e.seqEnergy, r.Loss, in.Rows)
		return r
	}
	r.Steps = depth
	e.energy(&r, r.Loss, in.Rows)
	return r
}

// FaZIL runs fully autonomous Z-IL: the parallel dynamics of ZIL for Depth
// steps with no schedule telling parameters when to learn. Each error
// neuron (one element of eps_v for one sample) triggers its own synapses:
//
//	a neuron is open while its prediction mu_v has not moved from its
//	feed-forward value; the first step at which an open neuron's error is
//	non-zero, its incoming synapses take the gradient −eps·(presynaptic
//	value) of that step, and the neuron closes.
//
// Under C1 a vertex's error first becomes non-zero at the step equal to its
// level, one step before its parents move and change its prediction, so
// every synapse learns exactly when Z-IL's clock says. A neuron whose
// backprop error is exactly zero (a dead ReLU) never fires: its gradient is
// zero in both. The trigger uses only quantities local to the neuron.
type FaZIL[T tensor.Float] struct {
	*State[T]
	mu0    []*Mat[T]
	open   [][]bool
	masked *Mat[T]
}

// NewFaZIL returns Fa-Z-IL working on st.
func NewFaZIL[T tensor.Float](st *State[T]) *FaZIL[T] {
	n := len(st.G.Vertices)
	return &FaZIL[T]{State: st, mu0: newMats[T](n), open: make([][]bool, n), masked: &Mat[T]{}}
}

// Run: see the comment above.
func (e *FaZIL[T]) Run(in *Mat[T], labels []int, gamma float64) Result {
	var r Result
	r.Loss, r.Correct = e.feedForward(in, labels)
	out := e.G.Output()
	depth := e.G.Depth()
	g := T(gamma)
	for v := 1; v <= out; v++ {
		e.mu0[v].CopyFrom(e.ws.Mu[v])
		n := len(e.ws.Mu[v].Data)
		if cap(e.open[v]) < n {
			e.open[v] = make([]bool, n)
		}
		e.open[v] = e.open[v][:n]
		for i := range e.open[v] {
			e.open[v][i] = true
		}
	}
	for t := 0; t < depth; t++ {
		if t > 0 {
			e.predictTracked(labels)
		}
		for v := 1; v <= out; v++ {
			e.masked.Resize(e.eps[v].Rows, e.eps[v].Cols)
			if trigger(e.masked.Data, e.open[v], e.eps[v].Data, e.ws.Mu[v].Data, e.mu0[v].Data) {
				e.paramGrads(v, e.masked)
			}
		}
		e.xGradients()
		e.stepValues(g)
	}
	r.Steps = depth
	e.energy(&r, r.Loss, in.Rows)
	return r
}

// trigger applies the Fa-Z-IL rule element-wise: it closes neurons whose
// prediction moved, writes the errors of open neurons that fire into
// masked (zero elsewhere), closes them, and reports whether any fired.
func trigger[T tensor.Float](masked []T, open []bool, eps, mu, mu0 []T) bool {
	fired := false
	for i, o := range open {
		masked[i] = 0
		if !o {
			continue
		}
		if mu[i] != mu0[i] {
			open[i] = false
			continue
		}
		if eps[i] != 0 {
			masked[i] = eps[i]
			open[i] = false
			fired = true
		}
	}
	return fired
}
