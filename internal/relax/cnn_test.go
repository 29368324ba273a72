package relax

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// PC-SPEC §4 vector D: a tiny CNN (valid cross-correlation, stride 1,
// sigmoid, dense head, squared error); Z-IL levels W3 (t = 0), K2 (t = 1),
// K1 (t = 2).
func TestSpecVectorD(t *testing.T) {
	specs := []model.LayerSpec{
		{Kind: "conv", Out: 1, Kernel: 2}, {Kind: "act", Activation: "sigmoid"},
		{Kind: "conv", Out: 1, Kernel: 2}, {Kind: "act", Activation: "sigmoid"},
		{Kind: "flatten"}, {Kind: "dense", Out: 2},
	}
	x := row(0.1, -0.2, 0.3, 0.0, 0.5, 0.4, -0.1, 0.2, -0.3, 0.2, 0.6, -0.5, 0.0, 0.1, -0.4, 0.3)
	wantLogits := []float64{0.4076692040375648, 0.06236251901211842}
	want := map[string][]float64{
		"layers.5.weight": {-0.3534710749929367, -0.35162623343593696, -0.3438992796347246, -0.33809308488887274, 0.037214588173934665, 0.037020357234977985, 0.03620683832524292, 0.03559554319641559},
		"layers.2.weight": {-0.06496968856851917, -0.05649769093663093, -0.04180117809214977, -0.0582705354467788},
		"layers.0.weight": {0.00025956377738425504, -0.006261610103621221, -0.0026772240872718644, 0.002003861652831805},
	}
	for _, m := range exactMethods {
		g, err := model.NewSequential[float64](model.Shape{1, 4, 4}, specs, false)
		if err != nil {
			t.Fatal(err)
		}
		vals := [][]float64{{0.5, -0.25, 0.3, 0.8}, {-0.6, 0.4, 0.2, 0.7}, {0.3, -0.2, 0.5, 0.1, -0.4, 0.6, 0.2, -0.3}}
		for i, p := range g.Params() {
			copy(p.Value.Data, vals[i])
		}
		if g.Vertices[1].Level != 2 || g.Vertices[2].Level != 1 || g.Vertices[3].Level != 0 {
			t.Fatalf("levels %d %d %d, want 2 1 0", g.Vertices[1].Level, g.Vertices[2].Level, g.Vertices[3].Level)
		}
		loss, _ := model.NewLoss[float64]("mse")
		e := NewEngine(g, loss)
		method(m, e, x, []int{0})
		logits := g.Forward(model.NewWorkspace(g), x)
		if d := tensor.MaxAbsDiff(logits.Data, wantLogits); d > 1e-15 {
			t.Errorf("%s: logits %v, want %v", m, logits.Data, wantLogits)
		}
		for _, p := range g.Params() {
			if d := tensor.MaxAbsDiff(p.Grad.Data, want[p.Name]); d > 1e-15 {
				t.Errorf("%s: %s = %v, want %v (diff %g)", m, p.Name, p.Grad.Data, want[p.Name], d)
			}
		}
	}
}

// Z-IL ≡ BP (≤ 1e-12 relative) on random CNNs with padding, stride, both
// poolings, biases, several activations, both losses and batch > 1.
func TestZILEqualsBPRandomCNNs(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	acts := []string{"relu", "tanh", "gelu", "sigmoid", "leaky-relu"}
	for trial := 0; trial < 20; trial++ {
		act := acts[trial%len(acts)]
		pool := []string{"maxpool", "avgpool"}[trial%2]
		c1 := 1 + rng.IntN(4)
		specs := []model.LayerSpec{
			{Kind: "conv", Out: c1, Kernel: 3, Stride: 1 + trial%2, Padding: trial % 3},
			{Kind: "act", Activation: act},
			{Kind: pool, Kernel: 2},
			{Kind: "conv", Out: 1 + rng.IntN(4), Kernel: 2, Padding: 1},
			{Kind: "act", Activation: act},
			{Kind: "flatten"},
			{Kind: "dense", Out: 3 + rng.IntN(4)},
		}
		if trial%3 == 0 {
			specs = append(specs[:6], model.LayerSpec{Kind: "dense", Out: 5}, model.LayerSpec{Kind: "act", Activation: act}, specs[6])
		}
		inC := 1 + rng.IntN(3)
		in := model.Shape{inC, 6 + rng.IntN(4), 6 + rng.IntN(4)}
		g, err := model.NewSequential[float64](in, specs, true)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if err := g.Init(rng, "default"); err != nil {
			t.Fatal(err)
		}
		lossName := []string{"mse", "ce"}[trial%2]
		loss, _ := model.NewLoss[float64](lossName)
		e := NewEngine(g, loss)
		classes := g.Vertices[g.Output()].Shape[0]
		x, labels := randomBatch(rng, 1+rng.IntN(6), in.Size(), classes)
		method("bp", e, x, labels)
		want := grads(g)
		for _, m := range exactMethods[1:] {
			method(m, e, x, labels)
			for i, got := range grads(g) {
				if r := relErr(got, want[i]); r > 1e-12 {
					t.Fatalf("trial %d (%v %s %s): %s: %s relative error %g", trial, in, act, pool, m, g.Params()[i].Name, r)
				}
			}
		}
	}
	_ = fmt.Sprint
}
