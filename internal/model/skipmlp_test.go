package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestScaleVJPFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	checkVJP(t, "scale", &Scale[float64]{Name: "a", A: -0.37}, randMat(rng, 3, 5), rng)
}

// RULES.md §4's graph: z_1 = a_in W_1 x, z_l = z_{l−1} + a_h W_l φ(z_{l−1}),
// logits = a_out W_out φ(z_H), checked against the formula written out
// with plain loops, under both parameterisations. A skip on the wrong
// side of the activation, a missing scaling or a scaling folded into the
// wrong layer fails it.
func TestSkipMLPComputesItsFormula(t *testing.T) {
	const D, N, H, K = 5, 4, 3, 3
	for _, p := range []Parameterization{StandardParam, MuPCParam} {
		g, err := NewSkipMLP[float64](D, N, H, K, "tanh", p)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		if err := g.Init(rng, "standard-normal"); err != nil {
			t.Fatal(err)
		}
		for _, v := range g.Vertices {
			if v.Identity {
				t.Fatalf("skipmlp has an identity vertex %s: its skips are one level", v.Name)
			}
		}
		if g.Depth() != H+1 {
			t.Errorf("depth %d, want %d (H hidden layers and the output)", g.Depth(), H+1)
		}
		aIn, aH, aOut := 1.0, 1.0, 1.0
		if p == MuPCParam {
			aIn, aH, aOut = 1/math.Sqrt(D), 1/math.Sqrt(N*H), 1.0/N
		}
		x := randMat(rng, 2, D)
		ws := NewWorkspace(g)
		logits := g.Forward(ws, x)
		W := func(i int) []float64 { return g.Params()[i].Value.Data }
		matvec := func(w []float64, in []float64, out int, a float64) []float64 {
			y := make([]float64, out)
			for o := range y {
				for i, v := range in {
					y[o] += w[o*len(in)+i] * v
				}
				y[o] *= a
			}
			return y
		}
		tanh := func(z []float64) []float64 {
			o := make([]float64, len(z))
			for i, v := range z {
				o[i] = math.Tanh(v)
			}
			return o
		}
		for b := 0; b < 2; b++ {
			z := matvec(W(0), x.Row(b), N, aIn)
			for l := 2; l <= H; l++ {
				d := matvec(W(l-1), tanh(z), N, aH)
				for i := range z {
					z[i] += d[i]
				}
			}
			want := matvec(W(H), tanh(z), K, aOut)
			for i, w := range want {
				if got := logits.Row(b)[i]; math.Abs(got-w) > 1e-14*(1+math.Abs(w)) {
					t.Fatalf("param %d sample %d logit %d: %.17g, the formula gives %.17g", p, b, i, got, w)
				}
			}
		}
	}
}

// RULES.md §4: at initialisation the per-layer RMS of z_l under μPC stays
// within [0.5, 2] of layer 1's from H = 8 to 128 (width 128, MNIST-sized
// unit-variance input), and under the standard parameterisation (scalings
// 1, PyTorch's initialiser) it leaves that band at H = 128. Dropping a_h
// (or using a_h = 1/√N instead of 1/√(N·H)) makes μPC's RMS grow with depth
// and fails the first part.
func TestSkipMLPActivationScaleAtInit(t *testing.T) {
	const D, N, B = 784, 128, 16
	rng := rand.New(rand.NewPCG(7, 8))
	x := randMat(rng, B, D)
	for i := range x.Data {
		x.Data[i] = rng.NormFloat64()
	}
	rmsRatios := func(p Parameterization, act string, H int) (lo, hi float64) {
		g, err := NewSkipMLP[float64](D, N, H, 10, act, p)
		if err != nil {
			t.Fatal(err)
		}
		init := "default"
		if p == MuPCParam {
			init = "standard-normal"
		}
		if err := g.Init(rand.New(rand.NewPCG(uint64(H), 9)), init); err != nil {
			t.Fatal(err)
		}
		ws := NewWorkspace(g)
		g.Forward(ws, x)
		rms := func(v int) float64 {
			d := ws.Mu[v].Data
			var s float64
			for _, e := range d {
				s += e * e
			}
			return math.Sqrt(s / float64(len(d)))
		}
		r1 := rms(1)
		lo, hi = math.Inf(1), 0
		for v := 1; v <= H; v++ {
			r := rms(v) / r1
			lo, hi = math.Min(lo, r), math.Max(hi, r)
		}
		return lo, hi
	}
	for _, act := range []string{"relu", "tanh"} {
		for _, H := range []int{8, 16, 32, 64, 128} {
			if lo, hi := rmsRatios(MuPCParam, act, H); lo < 0.5 || hi > 2 {
				t.Errorf("mupc %s H=%d: RMS(z_l)/RMS(z_1) in [%.3g, %.3g], want within [0.5, 2]", act, H, lo, hi)
			}
		}
		if lo, hi := rmsRatios(StandardParam, act, 128); lo >= 0.5 && hi <= 2 {
			t.Errorf("standard %s H=128: RMS(z_l)/RMS(z_1) in [%.3g, %.3g], inside [0.5, 2]: the test cannot tell the parameterisations apart", act, lo, hi)
		}
	}
}

// A Scale of 1 is passed through (no buffer, no pass): the chain hands its
// input on in the forward pass and the gradient on in the reverse pass.
// Backprop must still equal finite differences of the batch-mean loss on a
// graph that puts such identities everywhere a chain can hold them: first
// in a chain (the next layer's input is the chain's input), between an
// activation and a dense layer (the dense layer's weight gradient needs
// the activation's output), last in an input chain, alone in a vertex's
// own chain (it must still write the vertex's prediction), and beside a
// real scaling; with sums of three inputs and a vertex used three times.
func TestPassThroughScaleBackprop(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	one := func() Layer[float64] { return &Scale[float64]{Name: "one", A: 1} }
	tanh, _ := LookupActivation("tanh")
	gelu, _ := LookupActivation("gelu")
	g, err := NewUnlevelledGraph([]*Vertex[float64]{
		{Name: "input", Shape: Shape{4}},
		{Name: "a", Inputs: []int{0}, Layers: []Layer[float64]{one(), NewDense[float64]("a", 4, 5, true)}},
		{Name: "b", Inputs: []int{1}, Layers: []Layer[float64]{&Act[float64]{A: tanh}, one(), NewDense[float64]("b", 5, 5, false),
			&Scale[float64]{Name: "half", A: 0.5}}},
		{Name: "c", Inputs: []int{1, 2, 2}, Combine: "add",
			Pre: [][]Layer[float64]{{one()}, nil, {&Act[float64]{A: gelu}, NewDense[float64]("c", 5, 5, false), one()}}},
		{Name: "d", Inputs: []int{3, 1}, Combine: "add", Layers: []Layer[float64]{one()}},
		{Name: "out", Inputs: []int{4}, Layers: []Layer[float64]{&Act[float64]{A: tanh}, NewDense[float64]("out", 5, 3, true)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	loss, _ := NewLoss[float64]("ce")
	x := randMat(rng, 6, 4)
	labels := []int{0, 1, 2, 2, 1, 0}
	ws := NewWorkspace(g)
	g.ZeroGrad()
	g.Backprop(ws, x, labels, loss)
	meanLoss := func() float64 {
		logits := g.Forward(ws, x)
		return loss.OutputError(&Mat[float64]{}, logits, labels) / 6
	}
	const h = 1e-6
	for _, p := range g.Params() {
		for i := range p.Value.Data {
			old := p.Value.Data[i]
			p.Value.Data[i] = old + h
			lp := meanLoss()
			p.Value.Data[i] = old - h
			lm := meanLoss()
			p.Value.Data[i] = old
			if fd := (lp - lm) / (2 * h); math.Abs(fd-p.Grad.Data[i]) > 1e-8 {
				t.Fatalf("%s[%d] grad %g, finite differences %g", p.Name, i, p.Grad.Data[i], fd)
			}
		}
	}
}
