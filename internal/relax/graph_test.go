package relax

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
)

// checkExact runs bp and every exact PC method on g and demands ≤ 1e-12
// relative agreement of every parameter gradient.
func checkExact(t *testing.T, name string, g *model.Graph[float64], lossName string, x interface{}, rng *rand.Rand, b int) {
	t.Helper()
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	loss, _ := model.NewLoss[float64](lossName)
	e := NewEngine(g, loss)
	classes := g.Vertices[g.Output()].Shape.Size()
	in, labels := randomBatch(rng, b, g.Vertices[0].Shape.Size(), classes)
	method("bp", e, in, labels)
	want := grads(g)
	for _, m := range exactMethods[1:] {
		method(m, e, in, labels)
		for i, got := range grads(g) {
			if r := relErr(got, want[i]); r > 1e-12 {
				t.Fatalf("%s: %s: %s relative error %g vs BP\n%s", name, m, g.Params()[i].Name, r, g.Describe())
			}
		}
	}
}

// randomDAG draws a graph of dense vertices whose inputs are random earlier
// vertices, joined by add, concat or mul, with skip edges of every length.
func randomDAG(rng *rand.Rand, n int) []model.VertexSpec {
	acts := []string{"tanh", "gelu", "sigmoid", "relu", "linear"}
	var specs []model.VertexSpec
	names := []string{"input"}
	width := map[string]int{"input": 6}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("v%d", i)
		k := 1 + rng.IntN(min(3, len(names)))
		var in []string
		used := map[string]bool{}
		for len(in) < k {
			p := names[rng.IntN(len(names))]
			if !used[p] {
				used[p] = true
				in = append(in, p)
			}
		}
		w := 2 + rng.IntN(6)
		s := model.VertexSpec{Name: name, In: in, Act: []string{acts[rng.IntN(len(acts))]}}
		switch {
		case len(in) == 1 || rng.IntN(2) == 0:
			s.Op, s.Out = "dense", w
		default:
			// add/mul need equal widths: project every input first.
			s.Op = []string{"add", "mul", "concat"}[rng.IntN(3)]
			var proj []string
			for j, p := range in {
				pn := fmt.Sprintf("%s_p%d", name, j)
				specs = append(specs, model.VertexSpec{Name: pn, Op: "dense", In: []string{p}, Out: w, Act: []string{acts[rng.IntN(len(acts))]}})
				width[pn] = w
				proj = append(proj, pn)
			}
			s.In, s.Act = proj, nil
			if s.Op == "concat" {
				w *= len(proj)
			}
		}
		specs = append(specs, s)
		width[name] = w
		names = append(names, name)
	}
	// Every vertex must reach the output: the head reads all of them.
	var all []string
	for _, nm := range names[1:] {
		all = append(all, nm)
	}
	specs = append(specs, model.VertexSpec{Name: "head", Op: "dense", In: all, Out: 3 + rng.IntN(3), Act: []string{"tanh"}})
	return specs
}

// Z-IL ≡ BP on random unlevelled DAGs (skip edges of every length, fan-out,
// add/concat/mul joins): identity vertices make them exact.
func TestZILEqualsBPRandomDAGs(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for trial := 0; trial < 25; trial++ {
		specs := randomDAG(rng, 2+rng.IntN(6))
		g, err := model.NewGraphFromSpecs[float64](model.Shape{6}, specs, true)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		checkExact(t, fmt.Sprintf("trial %d", trial), g, []string{"mse", "ce"}[trial%2], nil, rng, 1+rng.IntN(5))
	}
}

// Unrolled RNNs and LSTMs with weights tied across levels: Z-IL collects
// every level's contribution and the optimizer applies the sum once.
func TestZILEqualsBPRecurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	for _, lossName := range []string{"mse", "ce"} {
		rnn, err := model.NewElmanRNN[float64](12, 4, 5, 3, true)
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, "elman "+lossName, rnn, lossName, nil, rng, 3)
		lstm, err := model.NewLSTM[float64](12, 3, 4, 3, true)
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, "lstm "+lossName, lstm, lossName, nil, rng, 3)
	}
}

func TestZILEqualsBPResMLP(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	g, err := model.NewResMLP[float64](7, 6, 3, 4, "gelu", true)
	if err != nil {
		t.Fatal(err)
	}
	ids := 0
	for _, v := range g.Vertices {
		if v.Identity {
			ids++
		}
	}
	if ids != 3 {
		t.Fatalf("a residual MLP with 3 blocks needs 3 identity vertices, got %d\n%s", ids, g.Describe())
	}
	checkExact(t, "resmlp", g, "ce", nil, rng, 4)
}

// Why identity vertices (PC-SPEC §3): on a skip net, the parallel Z-IL
// dynamics without them let the skip edge's error reach its source before
// the source's level step, and the gradients depart from BP's (PC-SPEC:
// ~1e-2 on a toy skip net); with them the same net is exact.
func TestIdentityVerticesAreNeeded(t *testing.T) {
	build := func(level bool) *model.Graph[float64] {
		tanh, _ := model.LookupActivation("tanh")
		vs := []*model.Vertex[float64]{
			{Name: "input", Shape: model.Shape{4}},
			{Name: "a", Inputs: []int{0}, Layers: []model.Layer[float64]{model.NewDense[float64]("a", 4, 5, true)}},
			{Name: "b", Inputs: []int{1}, Layers: []model.Layer[float64]{&model.Act[float64]{A: tanh}, model.NewDense[float64]("b", 5, 5, true)}},
			{Name: "c", Inputs: []int{2}, Layers: []model.Layer[float64]{&model.Act[float64]{A: tanh}, model.NewDense[float64]("c", 5, 5, true)}},
			{Name: "out", Inputs: []int{3, 1}, Combine: "add", Pre: [][]model.Layer[float64]{
				{&model.Act[float64]{A: tanh}, model.NewDense[float64]("o1", 5, 3, true)},
				{&model.Act[float64]{A: tanh}, model.NewDense[float64]("o2", 5, 3, true)}}},
		}
		var g *model.Graph[float64]
		var err error
		if level {
			g, err = model.NewGraph(vs)
		} else {
			g, err = model.NewUnlevelledGraph(vs)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Init(rand.New(rand.NewPCG(61, 62)), "default"); err != nil {
			t.Fatal(err)
		}
		return g
	}
	worst := func(g *model.Graph[float64]) float64 {
		loss, _ := model.NewLoss[float64]("mse")
		e := NewEngine(g, loss)
		x, labels := randomBatch(rand.New(rand.NewPCG(63, 64)), 4, 4, 3)
		method("bp", e, x, labels)
		want := grads(g)
		method("zil-parallel", e, x, labels)
		w := 0.0
		for i, got := range grads(g) {
			w = max(w, relErr(got, want[i]))
		}
		return w
	}
	if d := worst(build(false)); d < 1e-3 {
		t.Errorf("without identity vertices parallel Z-IL matched BP (rel err %g); the skip edge should break it", d)
	}
	if d := worst(build(true)); d > 1e-12 {
		t.Errorf("with identity vertices parallel Z-IL differs from BP by %g", d)
	}
}

// A ResNet-style conv graph (skips over conv vertices, pooling, a dense
// head) is exact too.
func TestZILEqualsBPConvResidual(t *testing.T) {
	specs := []model.VertexSpec{
		{Name: "stem", Op: "conv", In: []string{"input"}, Out: 3, Kernel: 3, Padding: 1},
		{Name: "c1", Op: "conv", In: []string{"stem"}, Out: 3, Kernel: 3, Padding: 1, Act: []string{"gelu"}},
		{Name: "c2", Op: "conv", In: []string{"c1"}, Out: 3, Kernel: 3, Padding: 1, Act: []string{"tanh"}},
		{Name: "r", Op: "add", In: []string{"c2", "stem"}},
		{Name: "p", Op: "avgpool", In: []string{"r"}, Kernel: 2, Act: []string{"relu"}},
		{Name: "out", Op: "dense", In: []string{"p", "stem"}, Out: 4, Act: []string{"linear", "sigmoid"}},
	}
	g, err := model.NewGraphFromSpecs[float64](model.Shape{2, 6, 6}, specs, true)
	if err != nil {
		t.Fatal(err)
	}
	checkExact(t, "conv residual", g, "ce", nil, rand.New(rand.NewPCG(71, 72)), 3)
}

// μPC's skip MLP (RULES.md §4): the skip is within one level, so no
// identity vertex is inserted and Z-IL is exact as on any levelled graph,
// with the forward scalings a_in, a_h, a_out in the graph (mupc) or 1
// (standard).
func TestZILEqualsBPSkipMLP(t *testing.T) {
	rng := rand.New(rand.NewPCG(57, 58))
	for _, p := range []model.Parameterization{model.StandardParam, model.MuPCParam} {
		for _, lossName := range []string{"mse", "ce"} {
			g, err := model.NewSkipMLP[float64](7, 6, 5, 4, "gelu", p)
			if err != nil {
				t.Fatal(err)
			}
			checkExact(t, fmt.Sprintf("skipmlp param %d %s", p, lossName), g, lossName, nil, rng, 4)
		}
	}
}
