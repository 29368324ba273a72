package rule

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// ePC follows RULES.md §3 as an independent implementation of the page
// computes it (refEPC): the same gradient at every update over three
// batches of SGD, with momentum on the errors (float64). A wrong sign of
// the adjoint, momentum applied to the errors' value instead of their
// gradient, or a gradient taken at the feed-forward states fails it.
func TestEPCMatchesReference(t *testing.T) {
	f := newFixture(t, sizes, 6, 3)
	ref := f.ref(sizes)
	r := build(t, f, cfgFor("epc", "none", 0, 5, 0.2, 0.5))
	u := newRecorder(f.g, 0.05)
	var want [][][]float64
	for batch := 0; batch < 3; batch++ {
		if _, err := r.Step(context.Background(), &Batch[float64]{X: f.x, Labels: f.labels}, u); err != nil {
			t.Fatal(err)
		}
		gW, gb := ref.refEPC(f.X, f.labels, 5, 0.2, 0.5)
		ref.sgd(gW, gb, 0.05)
		want = append(want, flatGrads(gW, gb))
	}
	for k := range want {
		if d := maxRelDiff(u.grads[k], want[k]); d > 1e-12 {
			t.Errorf("update %d differs from the reference by %.3g (relative)", k, d)
		}
	}
}

// epcModels are small float64 graphs of every model type.
func epcModels(t *testing.T) map[string]*model.Graph[float64] {
	t.Helper()
	gs := map[string]*model.Graph[float64]{}
	add := func(name string, g *model.Graph[float64], err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := g.Init(rand.New(rand.NewPCG(11, 2)), "default"); err != nil {
			t.Fatal(err)
		}
		for _, p := range g.Params() {
			tensor.Scale(2, p.Value.Data)
		}
		gs[name] = g
	}
	g, err := model.NewMLP[float64](model.MLPSpec{Sizes: []int{16, 7, 6, 3}, Activation: "tanh", Bias: true})
	add("mlp", g, err)
	g, err = model.NewResMLP[float64](16, 6, 2, 3, "tanh", true)
	add("resmlp", g, err)
	g, err = model.NewSkipMLP[float64](16, 6, 4, 3, "tanh", model.StandardParam)
	add("skipmlp", g, err)
	g, err = model.NewSkipMLP[float64](16, 6, 4, 3, "tanh", model.MuPCParam)
	add("skipmlp-mupc", g, err)
	g, err = model.NewSequential[float64](model.Shape{1, 4, 4}, []model.LayerSpec{
		{Kind: "conv", Out: 2, Kernel: 2}, {Kind: "act", Activation: "tanh"}, {Kind: "maxpool", Kernel: 2, Stride: 1},
		{Kind: "conv", Out: 2, Kernel: 2}, {Kind: "flatten"}, {Kind: "act", Activation: "sigmoid"}, {Kind: "dense", Out: 3}}, true)
	add("cnn", g, err)
	g, err = model.NewElmanRNN[float64](16, 4, 5, 3, true)
	add("rnn", g, err)
	g, err = model.NewLSTM[float64](16, 2, 3, 3, true)
	add("lstm", g, err)
	return gs
}

// outputParams returns the parameters of the output vertex of g.
func outputParams(g *model.Graph[float64]) map[*model.Param[float64]]bool {
	ps := map[*model.Param[float64]]bool{}
	vx := g.Vertices[g.Output()]
	ls := append([]model.Layer[float64](nil), vx.Layers...)
	for _, c := range vx.Pre {
		ls = append(ls, c...)
	}
	for _, l := range ls {
		for _, p := range l.Params() {
			ps[p] = true
		}
	}
	return ps
}

func gradsOf(t *testing.T, method string, g *model.Graph[float64], x *tensor.Mat[float64], labels []int, steps int, eta float64) [][]float64 {
	t.Helper()
	loss, _ := model.NewLoss[float64]("ce")
	f := &fixture{g: g, loss: loss, x: x, labels: labels}
	r := build(t, f, cfgFor(method, "none", 0, steps, eta, 0.5))
	u := newRecorder(g, 0)
	if _, err := r.Step(context.Background(), &Batch[float64]{X: x, Labels: labels}, u); err != nil {
		t.Fatal(err)
	}
	return u.grads[0]
}

// RULES.md §3: with T = 1, e_v = −η ∂ℓ/∂s_v, so every hidden vertex's
// parameter gradient is η × BP's up to O(η²): the relative error of
// gradient/η against BP's is small and halves when η halves, on every
// model type. Dropping the η (taking e = −∂ℓ/∂s) or a wrong sign fails
// the first check; taking the gradient with the adjoint at the updated
// states instead of the errors would break the halving.
func TestEPCOneStepIsEtaTimesBP(t *testing.T) {
	for name, g := range epcModels(t) {
		rng := rand.New(rand.NewPCG(5, 5))
		x := tensor.New[float64](4, 16)
		for i := range x.Data {
			x.Data[i] = rng.NormFloat64()
		}
		labels := []int{0, 2, 1, 2}
		bp := gradsOf(t, "bp", g, x, labels, 1, 0)
		out := outputParams(g)
		relErr := func(eta float64) float64 {
			ep := gradsOf(t, "epc", g, x, labels, 1, eta)
			var d, m float64
			for i, p := range g.Params() {
				if out[p] {
					continue
				}
				for j := range bp[i] {
					d = math.Max(d, math.Abs(ep[i][j]/eta-bp[i][j]))
					m = math.Max(m, math.Abs(bp[i][j]))
				}
			}
			if m == 0 {
				t.Fatalf("%s: BP's hidden gradient is zero", name)
			}
			return d / m
		}
		e1, e2 := relErr(1e-3), relErr(5e-4)
		if e1 > 1e-2 {
			t.Errorf("%s: at η = 1e-3 gradient/η differs from BP's by %.3g (relative)", name, e1)
		}
		if r := e1 / e2; r < 1.8 || r > 2.2 {
			t.Errorf("%s: halving η divided the error by %.3g (want 2: O(η)); errors %.3g, %.3g", name, r, e1, e2)
		}
	}
}

// RULES.md §3: ePC and state-based PC have the same fixed points. Run to
// convergence on a small net from the same weights and batch, ePC's states
// s and pc's value nodes x agree, and so do the energies and the
// parameter gradients taken there.
func TestEPCAndPCShareFixedPoints(t *testing.T) {
	f := newFixture(t, sizes, 6, 9)
	var vals [2][][]float64
	var energy [2]float64
	var grads [2][][]float64
	for k, method := range []string{"pc", "epc"} {
		r := build(t, f, cfgFor(method, "none", 0, 3000, 0.1, 0.5))
		u := newRecorder(f.g, 0)
		res, err := r.Step(context.Background(), &Batch[float64]{X: f.x, Labels: f.labels}, u)
		if err != nil {
			t.Fatal(err)
		}
		energy[k] = res.Energy
		grads[k] = u.grads[0]
		for _, v := range r.(Valuer[float64]).Values()[1 : len(sizes)-1] {
			vals[k] = append(vals[k], append([]float64(nil), v.Data...))
		}
	}
	if d := maxRelDiff(vals[1], vals[0]); d > 1e-9 {
		t.Errorf("states differ by %.3g (relative)", d)
	}
	if d := math.Abs(energy[1]-energy[0]) / energy[0]; d > 1e-9 {
		t.Errorf("energies %.15g (pc) and %.15g (epc) differ by %.3g", energy[0], energy[1], d)
	}
	if d := maxRelDiff(grads[1], grads[0]); d > 1e-8 {
		t.Errorf("gradients at the fixed point differ by %.3g (relative)", d)
	}
	// Not a trivial fixed point: inference moved the states.
	if energy[0] > 0.999*lossAt(t, f) {
		t.Errorf("energy %.6g did not fall below the feed-forward loss", energy[0])
	}
}

func lossAt(t *testing.T, f *fixture) float64 {
	ws := model.NewWorkspace(f.g)
	l, _ := f.g.Adjoints(ws, f.x, f.labels, f.loss)
	return l / float64(f.x.Rows)
}
