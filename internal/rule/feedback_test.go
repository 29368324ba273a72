package rule

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// refFeedbackGrads is RULES.md §5 written from the page alone on refNet's
// MLP (tanh hidden, softmax cross-entropy): e = softmax(mu_L) − onehot,
// the output's δ_L = e, and for a hidden layer l either
//
//	δ_l = (δ_{l+1} B_l) ⊙ tanh'(mu_l)   (fa, usf, frsf, brsf; B_l of W_l's shape)
//	δ_l = (e D_l) ⊙ tanh'(mu_l)         (dfa; D_l is n_out × n_l)
//
// with W_l the weight from layer l to l+1 (refNet's W[l]); the gradients
// are the batch means of δ_{l+1} ⊗ φ(x_l) and δ_{l+1}. fb[l] is B_l
// (sizes[l+1] × sizes[l]) for fa and D_l (n_out × sizes[l]) for dfa;
// fb[0] is unused by fa.
func refFeedbackGrads(n *refNet, X [][]float64, y []int, fb [][]float64, direct bool) (gW, gb [][]float64) {
	L := len(n.sizes) - 1
	nOut := n.sizes[L]
	for l := 0; l < L; l++ {
		gW = append(gW, make([]float64, len(n.W[l])))
		gb = append(gb, make([]float64, len(n.b[l])))
	}
	B := float64(len(X))
	for s, x := range X {
		mus := [][]float64{x}
		for l := 0; l < L; l++ {
			mus = append(mus, n.mu(l, mus[l]))
		}
		e := softmax(mus[L])
		e[y[s]]--
		deltas := make([][]float64, L+1)
		deltas[L] = e
		for l := L - 1; l >= 1; l-- {
			d := make([]float64, n.sizes[l])
			for i := range d {
				var sum float64
				if direct {
					for o := 0; o < nOut; o++ {
						sum += e[o] * fb[l][o*n.sizes[l]+i]
					}
				} else {
					for o, v := range deltas[l+1] {
						sum += v * fb[l][o*n.sizes[l]+i]
					}
				}
				t := math.Tanh(mus[l][i])
				d[i] = sum * (1 - t*t)
			}
			deltas[l] = d
		}
		for l := 0; l < L; l++ {
			a := n.in(l, mus[l])
			for o, d := range deltas[l+1] {
				gb[l][o] += d / B
				for i, v := range a {
					gW[l][o*n.sizes[l]+i] += d * v / B
				}
			}
		}
	}
	return gW, gb
}

// feedbackOf returns the B each weight of the rule's last Step used.
func feedbackOf(t *testing.T, r Rule[float64]) [][]float64 {
	t.Helper()
	fr, ok := r.(Feedbacker[float64])
	if !ok {
		t.Fatal("the rule does not report its feedback")
	}
	var out [][]float64
	for _, wf := range fr.Feedback() {
		out = append(out, slices.Clone(wf.B.Data))
	}
	return out
}

func weights(g *model.Graph[float64]) [][]float64 {
	var w [][]float64
	for _, p := range g.Params() {
		if len(p.Shape) > 1 {
			w = append(w, slices.Clone(p.Value.Data))
		}
	}
	return w
}

// Over three SGD batches, each rule's gradient is the reference's with the
// B it reports (fa, usf, frsf, brsf) or its stored D_v (dfa): the rule
// backpropagates through B, not W, and keeps BP's parameter gradient. A
// rule that still used W in its input VJP would match BP instead, and
// fail here (its B differs from W).
func TestFeedbackRulesMatchReference(t *testing.T) {
	for _, method := range []string{"fa", "usf", "frsf", "brsf", "dfa"} {
		f := newFixture(t, sizes, 6, 11)
		r := build(t, f, cfgFor(method, "none", 0, 1, 0, 0))
		rec := newRecorder(f.g, 0.1)
		for step := 0; step < 3; step++ {
			ref := f.ref(sizes)
			if _, err := r.Step(t.Context(), &Batch[float64]{X: f.x, Labels: f.labels, Seed: uint64(100 + step)}, rec); err != nil {
				t.Fatal(err)
			}
			var fb [][]float64
			if method == "dfa" {
				// The buffers are D_v of the hidden vertices v = 1 … L−1,
				// in vertex order: refNet's layer l = v.
				fb = make([][]float64, len(sizes)-1)
				for i, b := range f.g.Buffers() {
					fb[i+1] = slices.Clone(b.Value.Data)
				}
			} else {
				fb = feedbackOf(t, r)
			}
			gW, gb := refFeedbackGrads(ref, f.X, f.labels, fb, method == "dfa")
			want := flatGrads(gW, gb)
			if d := maxRelDiff(rec.grads[step], want); d > 1e-12 {
				t.Errorf("%s step %d: gradient differs from the reference by %.3g (relative)", method, step, d)
			}
		}
	}
}

// usf's B is σ·sign(W) of the weights at the step, every entry: exactly
// W's signs and magnitude σ = √(2/(fan_in + fan_out)) (for conv, fans are
// channels times kernel area). On an MLP and a CNN.
func TestUSFFeedbackIsSigmaSignW(t *testing.T) {
	cnn, err := model.NewSequential[float64](model.Shape{2, 5, 5}, []model.LayerSpec{
		{Kind: "conv", Out: 3, Kernel: 3}, {Kind: "act", Activation: "tanh"}, {Kind: "conv", Out: 2, Kernel: 2},
		{Kind: "flatten"}, {Kind: "dense", Out: 3}}, true)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, sizes, 4, 3)
	mlpFans := [][2]int{{5, 7}, {7, 6}, {6, 3}}
	cnnFans := [][2]int{{2 * 9, 3 * 9}, {3 * 4, 2 * 4}, {2 * 2 * 2, 3}}
	cf := &fixture{g: cnn, loss: f.loss, x: tensor.New[float64](4, 50), labels: []int{0, 1, 2, 1}}
	for i := range cf.x.Data {
		cf.x.Data[i] = math.Sin(float64(i))
	}
	if err := cnn.Init(rand.New(rand.NewPCG(5, 1)), "default"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    *fixture
		fans [][2]int
	}{{f, mlpFans}, {cf, cnnFans}} {
		r := build(t, c.f, cfgFor("usf", "none", 0, 1, 0, 0))
		rec := newRecorder(c.f.g, 0.5)
		for step := 0; step < 2; step++ {
			w := weights(c.f.g)
			if _, err := r.Step(t.Context(), &Batch[float64]{X: c.f.x, Labels: c.f.labels}, rec); err != nil {
				t.Fatal(err)
			}
			bs := feedbackOf(t, r)
			if len(bs) != len(c.fans) {
				t.Fatalf("%d feedback tensors for %d weights", len(bs), len(c.fans))
			}
			for l, b := range bs {
				sigma := math.Sqrt(2 / float64(c.fans[l][0]+c.fans[l][1]))
				for j, v := range b {
					want := sigma
					if w[l][j] < 0 {
						want = -sigma
					}
					if v != want {
						t.Fatalf("step %d weight %d: B[%d] = %v, want %v (W = %v)", step, l, j, v, want, w[l][j])
					}
				}
			}
		}
		if len(c.f.g.Buffers()) != 0 {
			t.Errorf("usf keeps %d buffers; it stores nothing", len(c.f.g.Buffers()))
		}
	}
}

// brsf draws a new M at every batch and frsf never does: the M a batch
// uses is the buffer before it (initialisation's, or init_from's, for the
// first), and brsf then draws the next from the batch's seed (the same
// seed gives the same M, so a resumed run and every part of a split batch
// agree). Both have B = |M| ∘ sign(W) at the step's weights.
func TestSignConcordantRedraws(t *testing.T) {
	buffers := func(g *model.Graph[float64]) [][]float64 {
		var m [][]float64
		for _, b := range g.Buffers() {
			m = append(m, slices.Clone(b.Value.Data))
		}
		return m
	}
	same := func(a, b [][]float64) bool {
		for l := range a {
			if !slices.Equal(a[l], b[l]) {
				return false
			}
		}
		return true
	}
	for _, method := range []string{"frsf", "brsf"} {
		f := newFixture(t, sizes, 4, 9)
		r := build(t, f, cfgFor(method, "none", 0, 1, 0, 0))
		rec := newRecorder(f.g, 0.1)
		ms := [][][]float64{buffers(f.g)}
		if len(ms[0]) != 3 {
			t.Fatalf("%s: %d buffers, want one per weight (3)", method, len(ms[0]))
		}
		for step, seed := range []uint64{1, 2, 1} {
			w := weights(f.g)
			if _, err := r.Step(t.Context(), &Batch[float64]{X: f.x, Labels: f.labels, Seed: seed}, rec); err != nil {
				t.Fatal(err)
			}
			m := ms[step]
			for l, b := range feedbackOf(t, r) {
				for j, v := range b {
					want := math.Abs(m[l][j])
					if w[l][j] < 0 {
						want = -want
					}
					if v != want {
						t.Fatalf("%s step %d: B ≠ |M| ∘ sign(W) at weight %d entry %d", method, step, l, j)
					}
				}
			}
			ms = append(ms, buffers(f.g))
		}
		switch method {
		case "frsf":
			for k := 1; k < len(ms); k++ {
				if !same(ms[0], ms[k]) {
					t.Errorf("frsf: M₀ changed at batch %d", k)
				}
			}
		case "brsf":
			for k := 1; k < len(ms); k++ {
				if same(ms[k-1], ms[k]) {
					t.Errorf("brsf: M not redrawn after batch %d", k)
				}
			}
			if !same(ms[1], ms[3]) {
				t.Errorf("brsf: the same batch seed drew another M")
			}
		}
	}
}

// Tied weights share one B: on an RNN unrolled over 3 steps, rnn.x.weight
// is used by 3 layers and rnn.h.weight by 2, and during the backward pass
// each of them backpropagates through its weight's one B (and through W
// again after it).
func TestTiedWeightsShareOneFeedback(t *testing.T) {
	g, err := model.NewElmanRNN[float64](6, 3, 4, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	loss, _ := model.NewLoss[float64]("ce")
	r := build(t, &fixture{g: g, loss: loss}, cfgFor("fa", "none", 0, 1, 0, 0)).(*feedback[float64])
	uses := map[string]int{}
	for _, fw := range r.weights {
		uses[fw.w.Name] = len(fw.layers)
	}
	if uses["rnn.x.weight"] != 3 || uses["rnn.h.weight"] != 2 || uses["head.weight"] != 1 || len(uses) != 3 {
		t.Fatalf("layers per weight: %v", uses)
	}
	check := func(on bool) {
		for _, vx := range g.Vertices {
			for _, l := range vx.AllLayers() {
				d, ok := l.(*model.Dense[float64])
				if !ok {
					continue
				}
				want := g.Buffer("feedback." + d.W.Name).Value
				if !on {
					want = nil
				}
				if d.Feedback != want {
					t.Errorf("vertex %s: %s's layer has feedback %p, want %p", vx.Name, d.W.Name, d.Feedback, want)
				}
			}
		}
	}
	r.install(true)
	check(true)
	r.install(false)
	check(false)
}

// dfa on a CNN whose hidden vertex (a convolution) is followed by an
// activation and a max pool: φ is the activation alone (RULES.md §5), so
// δ_1 = tanh'(mu_1) ⊙ (e D_1) lives in the convolution's own output space,
// and the conv weight gradient is ⟨δ_1, ∂mu_1/∂W⟩ averaged over the batch;
// computed here through the linearity of the convolution in W (its output
// for unit weights), not through any VJP.
func TestDFAOnConvWithPooling(t *testing.T) {
	layers := []model.LayerSpec{{Kind: "conv", Out: 2, Kernel: 3, Padding: 1}, {Kind: "act", Activation: "tanh"},
		{Kind: "maxpool", Kernel: 2}, {Kind: "flatten"}, {Kind: "dense", Out: 3}}
	newCNN := func() *model.Graph[float64] {
		g, err := model.NewSequential[float64](model.Shape{1, 4, 4}, layers, true)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g := newCNN()
	if err := g.Init(rand.New(rand.NewPCG(3, 4)), "default"); err != nil {
		t.Fatal(err)
	}
	const n = 3
	loss, _ := model.NewLoss[float64]("ce")
	f := &fixture{g: g, loss: loss, x: tensor.New[float64](n, 16), labels: []int{2, 0, 1}}
	for i := range f.x.Data {
		f.x.Data[i] = math.Cos(1.7 * float64(i))
	}
	r := build(t, f, cfgFor("dfa", "none", 0, 1, 0, 0))
	rec := newRecorder(g, 0) // lr 0: the weights stay those the reference sees
	if _, err := r.Step(t.Context(), &Batch[float64]{X: f.x, Labels: f.labels}, rec); err != nil {
		t.Fatal(err)
	}
	D := g.Buffers()[0].Value.Data // n_out × n_1 = 3 × 32
	// Reference: mu_1, the logits and e from a forward pass.
	ws := model.NewWorkspace(g)
	logits := g.Forward(ws, f.x)
	mu1 := ws.Mu[1]
	n1 := mu1.Cols
	delta := tensor.New[float64](n, n1)
	for s := 0; s < n; s++ {
		e := softmax(logits.Row(s))
		e[f.labels[s]]--
		for i := 0; i < n1; i++ {
			var sum float64
			for o := range e {
				sum += e[o] * D[o*n1+i]
			}
			th := math.Tanh(mu1.Row(s)[i])
			delta.Row(s)[i] = sum * (1 - th*th)
		}
	}
	conv := g.Params()[0]
	unit := newCNN()
	uws := model.NewWorkspace(unit)
	for k := range conv.Value.Data {
		for _, p := range unit.Params() {
			clear(p.Value.Data)
		}
		unit.Params()[0].Value.Data[k] = 1
		unit.Forward(uws, f.x)
		var want float64
		for i, v := range uws.Mu[1].Data {
			want += delta.Data[i] * v / n
		}
		if got := rec.grads[0][0][k]; math.Abs(got-want) > 1e-12 {
			t.Errorf("conv weight %d: dfa gradient %v, want %v", k, got, want)
		}
	}
}
