package relax

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/tensor"
)

// specNet builds a PC-SPEC test-vector network: sigmoid hidden layers, no
// biases, linear output, weights [out][in].
func specNet(t *testing.T, ws ...[][]float64) *model.Graph[float64] {
	t.Helper()
	sizes := []int{len(ws[0][0])}
	for _, w := range ws {
		sizes = append(sizes, len(w))
	}
	g, err := model.NewMLP[float64](model.MLPSpec{Sizes: sizes, Activation: "sigmoid"})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range g.Params() {
		for r, row := range ws[i] {
			copy(p.Value.Row(r), row)
		}
	}
	return g
}

func row(v ...float64) *tensor.Mat[float64] { return tensor.FromSlice(1, len(v), v) }

func grads(g *model.Graph[float64]) [][]float64 {
	var out [][]float64
	for _, p := range g.Params() {
		out = append(out, append([]float64(nil), p.Grad.Data...))
	}
	return out
}

func flat(m [][]float64) []float64 {
	var f []float64
	for _, r := range m {
		f = append(f, r...)
	}
	return f
}

// method computes one batch's gradients with a named method.
func method(name string, e *Engine[float64], x *tensor.Mat[float64], labels []int) Result {
	e.G.ZeroGrad()
	switch name {
	case "bp":
		loss, correct := e.G.Backprop(model.NewWorkspace(e.G), x, labels, e.Loss)
		return Result{Loss: loss, Correct: correct}
	case "zil":
		return e.ZIL(x, labels, 1, Sequential)
	case "zil-parallel":
		return e.ZIL(x, labels, 1, Parallel)
	case "fa-zil":
		return e.FaZIL(x, labels, 1)
	}
	panic(name)
}

var exactMethods = []string{"bp", "zil", "zil-parallel", "fa-zil"}

type vector struct {
	name    string
	loss    string
	weights [][][]float64
	x       []float64
	label   int
	logits  []float64
	lossVal float64
	dW      [][][]float64
}

// PC-SPEC §4, vectors A, B, C. Targets are one-hot labels: y = [0, 1] is
// label 1 and y = [1, 0] label 0.
var vectors = []vector{
	{
		name: "A", loss: "mse",
		weights: [][][]float64{{{0.5, -0.3}, {0.2, 0.8}}, {{0.7, -0.4}, {0.1, 0.6}}},
		x:       []float64{1.0, -0.5}, label: 1,
		logits: []float64{0.2798409227964403, 0.3358006478798632}, lossVal: 0.25973586071418636,
		dW: [][][]float64{
			{{0.02917547808013677, -0.014587739040068385}, {-0.1263463147865681, 0.06317315739328405}},
			{{0.18385841416146811, 0.12597486960366103}, {-0.43638592364388923, -0.298999967331564}},
		},
	},
	{
		name: "B", loss: "mse",
		weights: [][][]float64{{{0.2, -0.1, 0.4}, {-0.5, 0.3, 0.1}}, {{0.6, -0.2}, {0.3, 0.9}}, {{-0.7, 0.5}, {0.4, 0.25}}},
		x:       []float64{0.5, -1.0, 2.0}, label: 0,
		logits: []float64{-0.08980448568279464, 0.3961440992813835}, lossVal: 0.6723019822048997,
		dW: [][][]float64{
			{{0.010148375437350216, -0.020296750874700432, 0.040593501749400865}, {-0.016571457589808096, 0.03314291517961619, -0.06628583035923238}},
			{{0.16316164805960126, 0.09226094744570748}, {-0.07475982960533968, -0.04227349252900864}},
			{{-0.6408723760525268, -0.7014826638104457}, {0.2329572079221039, 0.2549890569064683}},
		},
	},
	{
		name: "C", loss: "ce",
		weights: [][][]float64{{{0.2, -0.1, 0.4}, {-0.5, 0.3, 0.1}}, {{0.6, -0.2}, {0.3, 0.9}}, {{-0.7, 0.5}, {0.4, 0.25}}},
		x:       []float64{0.5, -1.0, 2.0}, label: 0,
		logits: []float64{-0.08980448568279464, 0.3961440992813835}, lossVal: 0.9653537760637491,
		dW: [][][]float64{
			{{0.008684403987182801, -0.017368807974365602, 0.034737615948731204}, {-0.00787492135309072, 0.01574984270618144, -0.03149968541236288}},
			{{0.12061376462978371, 0.06820193551656506}, {-0.025953785682640163, -0.014675757969841819}},
			{{-0.36409937384879487, -0.39853394872840364}, {0.36409937384879487, 0.39853394872840364}},
		},
	},
}

// PC-SPEC §4: BP and every exact PC method reproduce the vectors' loss and
// gradients to ≤ 1e-15 absolute.
func TestSpecVectors(t *testing.T) {
	for _, v := range vectors {
		for _, m := range exactMethods {
			t.Run(v.name+"/"+m, func(t *testing.T) {
				g := specNet(t, v.weights...)
				loss, _ := model.NewLoss[float64](v.loss)
				e := NewEngine(g, loss)
				r := method(m, e, row(v.x...), []int{v.label})
				if math.Abs(r.Loss-v.lossVal) > 1e-15 {
					t.Errorf("loss %.17g, want %.17g", r.Loss, v.lossVal)
				}
				logits := g.Forward(model.NewWorkspace(g), row(v.x...))
				if d := tensor.MaxAbsDiff(logits.Data, v.logits); d > 1e-15 {
					t.Errorf("logits %v, want %v", logits.Data, v.logits)
				}
				for i, p := range g.Params() {
					if d := tensor.MaxAbsDiff(p.Grad.Data, flat(v.dW[i])); d > 1e-15 {
						t.Errorf("%s: gradient %v, want %v (max diff %g)", p.Name, p.Grad.Data, v.dW[i], d)
					}
				}
			})
		}
	}
}

// Vector A's Z-IL trace: after step 0 the hidden value moves to
// mu_1 + J_2ᵀ eps_2 and its error equals BP's −δ of the hidden layer.
func TestZILTraceVectorA(t *testing.T) {
	v := vectors[0]
	g := specNet(t, v.weights...)
	loss, _ := model.NewLoss[float64]("mse")
	e := NewEngine(g, loss)
	g.ZeroGrad()
	e.ZIL(row(v.x...), []int{1}, 1, Sequential)
	wantX := []float64{0.6208245219198633, -0.07365368521343191}
	wantEps := []float64{-0.029175478080136763, 0.1263463147865681}
	if x := e.Values()[1].Data; tensor.MaxAbsDiff(x, wantX) > 1e-15 {
		t.Errorf("hidden value %v, want %v", x, wantX)
	}
	if d := tensor.MaxAbsDiff(e.eps[1].Data, wantEps); d > 1e-15 {
		t.Errorf("hidden error %v, want %v", e.eps[1].Data, wantEps)
	}
	wantOut := []float64{-0.2798409227964403, 0.6641993521201368}
	if d := tensor.MaxAbsDiff(e.eps[2].Data, wantOut); d > 1e-15 {
		t.Errorf("output error %v, want %v", e.eps[2].Data, wantOut)
	}
}

func randomBatch(rng *rand.Rand, b, in, classes int) (*tensor.Mat[float64], []int) {
	x := tensor.New[float64](b, in)
	for i := range x.Data {
		x.Data[i] = rng.NormFloat64()
	}
	labels := make([]int, b)
	for i := range labels {
		labels[i] = rng.IntN(classes)
	}
	return x, labels
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num = math.Max(num, math.Abs(a[i]-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// Theorem (Song et al. 2020; Salvatori et al. 2022): under C1–C3 every
// Z-IL schedule and Fa-Z-IL give BP's gradients, on random MLPs of depth
// 2–6, widths 1–64, every activation, both losses, batch 1–32, with biases.
func TestZILEqualsBPRandomMLPs(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	acts := model.ActivationNames()
	for trial := 0; trial < 60; trial++ {
		depth := 2 + trial%5
		sizes := make([]int, depth+1)
		for i := range sizes {
			sizes[i] = 1 + rng.IntN(64)
		}
		sizes[depth] = 2 + rng.IntN(9)
		act := acts[trial%len(acts)]
		lossName := []string{"mse", "ce"}[trial%2]
		b := 1 + rng.IntN(32)
		name := fmt.Sprintf("%v/%s/%s/B%d", sizes, act, lossName, b)
		g, err := model.NewMLP[float64](model.MLPSpec{Sizes: sizes, Activation: act, Bias: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Init(rng, "default"); err != nil {
			t.Fatal(err)
		}
		loss, _ := model.NewLoss[float64](lossName)
		e := NewEngine(g, loss)
		x, labels := randomBatch(rng, b, sizes[0], sizes[depth])
		method("bp", e, x, labels)
		want := grads(g)
		for _, m := range exactMethods[1:] {
			method(m, e, x, labels)
			for i, got := range grads(g) {
				if r := relErr(got, want[i]); r > 1e-12 {
					t.Fatalf("%s: %s: %s relative error %g vs BP", name, m, g.Params()[i].Name, r)
				}
			}
		}
	}
}

// 100 Adam steps driven by Z-IL gradients end with BP's weights.
func TestZILTrainsLikeBP(t *testing.T) {
	spec := model.MLPSpec{Sizes: []int{6, 16, 12, 4}, Activation: "tanh", Bias: true}
	run := func(m string) []float64 {
		g, _ := model.NewMLP[float64](spec)
		if err := g.Init(rand.New(rand.NewPCG(1, 1)), "default"); err != nil {
			t.Fatal(err)
		}
		loss, _ := model.NewLoss[float64]("ce")
		e := NewEngine(g, loss)
		opt, _ := optim.New(optim.Settings{Name: "adam"}, g.Params())
		data := rand.New(rand.NewPCG(2, 2))
		for s := 0; s < 100; s++ {
			x, labels := randomBatch(data, 8, 6, 4)
			method(m, e, x, labels)
			opt.Step(0.01)
		}
		var w []float64
		for _, p := range g.Params() {
			w = append(w, p.Value.Data...)
		}
		return w
	}
	bp := run("bp")
	for _, m := range exactMethods[1:] {
		if d := tensor.MaxAbsDiff(run(m), bp); d > 1e-10 {
			t.Errorf("%s: weights differ from BP by %g after 100 Adam steps", m, d)
		}
	}
}

// PC-SPEC §4 multi-step check: 100 SGD steps (α = 0.5) on vector B's net,
// alternating two samples, end with BP's stated W3, and Z-IL equal to BP.
func TestVectorBHundredSGDSteps(t *testing.T) {
	v := vectors[1]
	samples := []struct {
		x     []float64
		label int
	}{{[]float64{0.5, -1.0, 2.0}, 0}, {[]float64{-1.0, 0.25, 0.5}, 1}}
	run := func(m string) *model.Graph[float64] {
		g := specNet(t, v.weights...)
		loss, _ := model.NewLoss[float64]("mse")
		e := NewEngine(g, loss)
		opt, _ := optim.New(optim.Settings{Name: "sgd"}, g.Params())
		for s := 0; s < 100; s++ {
			sm := samples[s%2]
			method(m, e, row(sm.x...), []int{sm.label})
			opt.Step(0.5)
		}
		return g
	}
	bp := run("bp")
	wantW3 := []float64{-0.3099789557293318, 0.9751864115123484, 0.6844213293812923, 0.607014991762416}
	if d := tensor.MaxAbsDiff(bp.Params()[2].Value.Data, wantW3); d > 1e-13 {
		t.Fatalf("BP final W3 %v, want %v", bp.Params()[2].Value.Data, wantW3)
	}
	zil := run("zil")
	for i, p := range zil.Params() {
		if d := tensor.MaxAbsDiff(p.Value.Data, bp.Params()[i].Value.Data); d > 1e-14 {
			t.Errorf("%s differs from BP by %g", p.Name, d)
		}
	}
}

// C3: with γ = 0.5 the gradient of level t is BP's scaled by 0.5ᵗ (vector B:
// W3 level 0, W2 level 1, W1 level 2), in both schedules and Fa-Z-IL.
func TestGammaScalesLevels(t *testing.T) {
	v := vectors[1]
	for _, sched := range []string{"sequential", "parallel", "fa-zil"} {
		g := specNet(t, v.weights...)
		loss, _ := model.NewLoss[float64]("mse")
		e := NewEngine(g, loss)
		g.ZeroGrad()
		switch sched {
		case "fa-zil":
			e.FaZIL(row(v.x...), []int{0}, 0.5)
		default:
			s, _ := ParseSchedule(sched)
			e.ZIL(row(v.x...), []int{0}, 0.5, s)
		}
		for i, p := range g.Params() {
			scale := math.Pow(0.5, float64(2-i))
			want := flat(v.dW[i])
			for j := range want {
				want[j] *= scale
			}
			if d := tensor.MaxAbsDiff(p.Grad.Data, want); d > 1e-15 {
				t.Errorf("%s: %s = %v, want BP × %g", sched, p.Name, p.Grad.Data, scale)
			}
		}
	}
}

// Each Z-IL condition matters (PC-SPEC §4 ablations on vector B): taking
// every layer's gradient at the last step, all at t = 0, or starting hidden
// values at 0 instead of their predictions, departs from BP by the stated
// amounts (max |Δ − BP|; the spec divides Δ by α).
func TestZILAblations(t *testing.T) {
	v := vectors[1]
	loss, _ := model.NewLoss[float64]("mse")
	x, labels := row(v.x...), []int{0}
	bp := flat([][]float64{flat(v.dW[0]), flat(v.dW[1]), flat(v.dW[2])})
	cases := []struct {
		name     string
		when     func(level, step, depth int) bool
		zeroInit bool
		want     float64
	}{
		{"all at last step", func(_, step, depth int) bool { return step == depth-1 }, false, 0.0846},
		{"all at t = 0", func(_, step, _ int) bool { return step == 0 }, false, 0.163},
		{"zero initialisation", func(level, step, _ int) bool { return level == step }, true, 0.151},
	}
	for _, c := range cases {
		g := specNet(t, v.weights...)
		e := NewEngine(g, loss)
		g.ZeroGrad()
		e.feedForward(x, labels)
		if c.zeroInit {
			for h := 1; h < g.Output(); h++ {
				e.x[h].Zero()
			}
		}
		depth := g.Depth()
		for step := 0; step < depth; step++ {
			e.predict(labels)
			for u := 1; u <= g.Output(); u++ {
				if c.when(g.Vertices[u].Level, step, depth) {
					e.paramGrads(u, e.eps[u])
				}
			}
			e.xGradients()
			for h := 1; h < g.Output(); h++ {
				tensor.Axpy(-1, e.grad[h].Data, e.x[h].Data)
			}
		}
		got := tensor.MaxAbsDiff(flat(grads(g)), bp)
		// The spec states three significant digits.
		if math.Abs(got-c.want) > 0.5*math.Pow(10, math.Floor(math.Log10(c.want))-2) {
			t.Errorf("%s: max |Δ − BP| = %.4f, PC-SPEC says %.4g", c.name, got, c.want)
		}
	}
}
