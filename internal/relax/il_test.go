package relax

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
)

func ilNet(t *testing.T, rng *rand.Rand, act, lossName string) *Engine[float64] {
	t.Helper()
	g, err := model.NewMLP[float64](model.MLPSpec{Sizes: []int{5, 7, 6, 4}, Activation: act, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	loss, _ := model.NewLoss[float64](lossName)
	return NewEngine(g, loss)
}

// At feed-forward initialisation every hidden error is 0, so F equals the
// backprop loss (PC-SPEC §4).
func TestEnergyAtFeedForwardIsLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, lossName := range []string{"mse", "ce"} {
		e := ilNet(t, rng, "tanh", lossName)
		x, labels := randomBatch(rng, 9, 5, 4)
		e.G.ZeroGrad()
		r := e.IL(x, labels, ILSettings{Steps: 0})
		bpLoss, _ := e.G.Backprop(model.NewWorkspace(e.G), x, labels, e.Loss)
		if math.Abs(r.Energy-bpLoss/9) > 1e-15 {
			t.Errorf("%s: F = %.17g, BP mean loss %.17g", lossName, r.Energy, bpLoss/9)
		}
	}
}

// ∂F/∂x from xGradients equals central differences of the summed
// per-sample energy, at a state away from the feed-forward one.
func TestValueGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, lossName := range []string{"mse", "ce"} {
		e := ilNet(t, rng, "gelu", lossName)
		x, labels := randomBatch(rng, 3, 5, 4)
		e.feedForward(x, labels)
		out := e.G.Output()
		for v := 1; v < out; v++ {
			for i := range e.x[v].Data {
				e.x[v].Data[i] += 0.3 * rng.NormFloat64()
			}
		}
		energySum := func() float64 {
			outLoss := e.predict(labels)
			var r Result
			e.energy(&r, outLoss, 1)
			return r.Energy
		}
		e.predict(labels)
		e.xGradients()
		const h = 1e-6
		for v := 1; v < out; v++ {
			got := append([]float64(nil), e.grad[v].Data...)
			for i := range e.x[v].Data {
				old := e.x[v].Data[i]
				e.x[v].Data[i] = old + h
				fp := energySum()
				e.x[v].Data[i] = old - h
				fm := energySum()
				e.x[v].Data[i] = old
				if fd := (fp - fm) / (2 * h); math.Abs(fd-got[i]) > 1e-7 {
					t.Fatalf("%s: ∂F/∂x_%d[%d] = %g, finite differences %g", lossName, v, i, got[i], fd)
				}
			}
		}
	}
}

// Gradient descent on F with a small step never increases F, and the
// parameter gradient IL returns is the gradient of F at the final state.
func TestRelaxationDecreasesEnergy(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	e := ilNet(t, rng, "tanh", "ce")
	x, labels := randomBatch(rng, 16, 5, 4)
	prev := math.Inf(1)
	for steps := 0; steps <= 30; steps++ {
		e.G.ZeroGrad()
		r := e.IL(x, labels, ILSettings{Steps: steps, LR: 0.05})
		if r.Energy > prev+1e-15 {
			t.Fatalf("F rose from %.17g to %.17g at step %d", prev, r.Energy, steps)
		}
		prev = r.Energy
	}
	// After relaxation the energy is strictly below the loss.
	e.G.ZeroGrad()
	r := e.IL(x, labels, ILSettings{Steps: 30, LR: 0.05})
	if !(r.Energy < r.Loss/16) {
		t.Fatalf("relaxed F %g not below feed-forward loss %g", r.Energy, r.Loss/16)
	}
}

// With the value nodes left at their feed-forward values (T = 0) only the
// output error is non-zero: the output layer's IL gradient is BP's and every
// other is 0. With T > 0 the IL gradient is ∂(mean F)/∂θ at the relaxed
// state (checked by finite differences).
func TestILParameterGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	e := ilNet(t, rng, "sigmoid", "mse")
	x, labels := randomBatch(rng, 4, 5, 4)
	e.G.ZeroGrad()
	e.G.Backprop(model.NewWorkspace(e.G), x, labels, e.Loss)
	bp := grads(e.G)
	e.G.ZeroGrad()
	e.IL(x, labels, ILSettings{Steps: 0})
	last := len(bp) - 2 // weight and bias of the output layer
	for i, gr := range grads(e.G) {
		want := bp[i]
		if i < last {
			want = make([]float64, len(gr))
		}
		if r := relErr(gr, want); r > 1e-14 {
			t.Fatalf("T = 0: %s differs from %v by %g", e.G.Params()[i].Name, want, r)
		}
	}
	e.G.ZeroGrad()
	e.IL(x, labels, ILSettings{Steps: 5, LR: 0.1, Momentum: 0.5})
	got := grads(e.G)
	// Keep the relaxed x fixed and vary θ.
	meanF := func() float64 {
		outLoss := e.predictAll(labels)
		var r Result
		e.energy(&r, outLoss, 4)
		return r.Energy
	}
	const h = 1e-6
	for pi, p := range e.G.Params() {
		for i := range p.Value.Data {
			old := p.Value.Data[i]
			p.Value.Data[i] = old + h
			fp := meanF()
			p.Value.Data[i] = old - h
			fm := meanF()
			p.Value.Data[i] = old
			if fd := (fp - fm) / (2 * h); math.Abs(fd-got[pi][i]) > 1e-8 {
				t.Fatalf("%s[%d]: IL gradient %g, ∂F/∂θ %g", p.Name, i, got[pi][i], fd)
			}
		}
	}
}

// The energy trace of one IL run lists F after every step: its k-th value
// is the final energy of an independent run with k steps.
func TestILTrace(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	e := ilNet(t, rng, "tanh", "ce")
	x, labels := randomBatch(rng, 8, 5, 4)
	var trace []float64
	s := ILSettings{Steps: 6, LR: 0.1, Momentum: 0.3, Trace: &trace}
	e.G.ZeroGrad()
	r := e.IL(x, labels, s)
	if len(trace) != 7 || trace[0] != r.Loss/8 || trace[6] != r.Energy {
		t.Fatalf("trace %v: want 7 values from the loss %g to the final energy %g", trace, r.Loss/8, r.Energy)
	}
	for k := 1; k <= 6; k++ {
		e.G.ZeroGrad()
		rk := e.IL(x, labels, ILSettings{Steps: k, LR: 0.1, Momentum: 0.3})
		if math.Abs(rk.Energy-trace[k]) > 1e-15*(1+rk.Energy) {
			t.Fatalf("trace[%d] = %.17g, a %d-step run ends at %.17g", k, trace[k], k, rk.Energy)
		}
	}
}
