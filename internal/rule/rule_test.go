package rule

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/tensor"
)

// fixture is a small float64 MLP, a batch and the matching refNet.
type fixture struct {
	g      *model.Graph[float64]
	loss   model.Loss[float64]
	x      *tensor.Mat[float64]
	X      [][]float64
	labels []int
}

func newFixture(t *testing.T, sizes []int, batch int, seed uint64) *fixture {
	t.Helper()
	g, err := model.NewMLP[float64](model.MLPSpec{Sizes: sizes, Activation: "tanh", Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	// Larger weights than the default initialisation, so that hidden
	// errors and the trajectories are far from trivial.
	for _, p := range g.Params() {
		tensor.Scale(2, p.Value.Data)
	}
	loss, _ := model.NewLoss[float64]("ce")
	f := &fixture{g: g, loss: loss, x: tensor.New[float64](batch, sizes[0])}
	for b := 0; b < batch; b++ {
		row := make([]float64, sizes[0])
		for i := range row {
			row[i] = rng.NormFloat64()
		}
		copy(f.x.Row(b), row)
		f.X = append(f.X, row)
		f.labels = append(f.labels, rng.IntN(sizes[len(sizes)-1]))
	}
	return f
}

// ref copies the graph's current parameters into a refNet.
func (f *fixture) ref(sizes []int) *refNet {
	n := &refNet{sizes: sizes}
	ps := f.g.Params()
	for l := 0; l < len(sizes)-1; l++ {
		n.W = append(n.W, slices.Clone(ps[2*l].Value.Data))
		n.b = append(n.b, slices.Clone(ps[2*l+1].Value.Data))
	}
	return n
}

func cfgFor(method, nudging string, beta float64, steps int, xlr, m float64) *config.Config {
	c := config.Default()
	c.Method, c.DType = method, "float64"
	c.PC.Steps, c.PC.XLR, c.PC.XMomentum = steps, xlr, m
	c.PC.Nudging, c.PC.Beta = nudging, beta
	return &c
}

func build(t *testing.T, f *fixture, cfg *config.Config) Rule[float64] {
	t.Helper()
	info, err := Lookup(cfg.Method)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(info, Env[float64]{Cfg: cfg, G: f.g, Loss: f.loss})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// recorder is an Updater that records each update's gradient and applies
// plain SGD at lr.
type recorder struct {
	g     *model.Graph[float64]
	opt   *optim.Optimizer[float64]
	lr    float64
	grads [][][]float64
}

func newRecorder(g *model.Graph[float64], lr float64) *recorder {
	opt, _ := optim.New(optim.Settings{Name: "sgd"}, g.Params())
	return &recorder{g: g, opt: opt, lr: lr}
}

func (r *recorder) Update() error {
	var gs [][]float64
	for _, p := range r.g.Params() {
		gs = append(gs, slices.Clone(p.Grad.Data))
	}
	r.grads = append(r.grads, gs)
	r.opt.Step(r.lr)
	return nil
}

func maxRelDiff(a, b [][]float64) float64 {
	var d, m float64
	for i := range a {
		for j := range a[i] {
			d = math.Max(d, math.Abs(a[i][j]-b[i][j]))
			m = math.Max(m, math.Abs(b[i][j]))
		}
	}
	return d / m
}

var sizes = []int{5, 7, 6, 3}

// pc with every nudging mode and ipc with every mode follow RULES.md §1–2
// as an independent implementation of the page computes them: the same
// gradient at every update, over three batches of SGD (float64).
func TestRulesMatchReference(t *testing.T) {
	for _, method := range []string{"pc", "ipc"} {
		for _, mode := range []string{"none", "positive", "negative", "centred"} {
			f := newFixture(t, sizes, 6, 3)
			ref := f.ref(sizes)
			cfg := cfgFor(method, mode, 0.3, 5, 0.2, 0.5)
			r := build(t, f, cfg)
			u := newRecorder(f.g, 0.05)
			var want [][][]float64
			for batch := 0; batch < 3; batch++ {
				if _, err := r.Step(context.Background(), &Batch[float64]{X: f.x, Labels: f.labels}, u); err != nil {
					t.Fatal(err)
				}
				betas := phaseBetas(mode, 0.3)
				if method == "pc" {
					gW, gb := ref.refIL(f.X, f.labels, 5, 0.2, 0.5, betas)
					ref.sgd(gW, gb, 0.05)
					want = append(want, flatGrads(gW, gb))
				} else {
					want = append(want, ref.refIPC(f.X, f.labels, 5, 0.2, 0.5, 0.05, betas)...)
				}
			}
			if len(u.grads) != len(want) {
				t.Fatalf("%s/%s: %d updates, the reference made %d", method, mode, len(u.grads), len(want))
			}
			for k := range want {
				if d := maxRelDiff(u.grads[k], want[k]); d > 1e-12 {
					t.Errorf("%s/%s: update %d differs from the reference by %.3g (relative)", method, mode, k, d)
				}
			}
		}
	}
}

// The reference's gradient is the derivative of F_β (times 1/β) at the
// state it is taken at: central differences on every weight of a small
// net, at a state that has relaxed for a few steps.
func TestReferenceGradientIsDerivativeOfF(t *testing.T) {
	f := newFixture(t, []int{3, 4, 2}, 4, 5)
	n := f.ref([]int{3, 4, 2})
	for _, beta := range []float64{1, 0.3, -0.3} {
		st := n.start(f.X, beta)
		for k := 0; k < 3; k++ {
			eps, _ := n.errors(st, f.labels)
			n.relax(st, eps, 0.2, 0.5)
		}
		eps, _ := n.errors(st, f.labels)
		gW, _ := n.grads(st, eps, 1/beta)
		for l := range n.W {
			for i := range n.W[l] {
				const h = 1e-6
				w := n.W[l][i]
				n.W[l][i] = w + h
				_, fp := n.errors(st, f.labels)
				n.W[l][i] = w - h
				_, fm := n.errors(st, f.labels)
				n.W[l][i] = w
				fd := (fp - fm) / (2 * h) / beta
				if math.Abs(fd-gW[l][i]) > 1e-7*(1+math.Abs(fd)) {
					t.Errorf("β=%g W%d[%d]: gradient %g, finite differences %g", beta, l, i, gW[l][i], fd)
				}
			}
		}
	}
}

// iPC's gradient at every step equals the finite-difference derivative of
// F at the state of that step: pctrain's updates are compared with the
// reference above, whose gradient is checked against F by finite
// differences; here the same is done directly on pctrain's first update,
// where the state is C1 and only the output errs.
func TestIPCFirstUpdateIsDerivativeOfF(t *testing.T) {
	f := newFixture(t, sizes, 6, 7)
	n := f.ref(sizes)
	u := newRecorder(f.g, 0)
	r := build(t, f, cfgFor("ipc", "none", 0, 1, 0.2, 0))
	if _, err := r.Step(context.Background(), &Batch[float64]{X: f.x, Labels: f.labels}, u); err != nil {
		t.Fatal(err)
	}
	st := n.start(f.X, 1)
	for l := range n.W {
		for _, i := range []int{0, len(n.W[l]) / 2, len(n.W[l]) - 1} {
			const h = 1e-6
			w := n.W[l][i]
			n.W[l][i] = w + h
			_, fp := n.errors(st, f.labels)
			n.W[l][i] = w - h
			_, fm := n.errors(st, f.labels)
			n.W[l][i] = w
			fd := (fp - fm) / (2 * h)
			if got := u.grads[0][2*l][i]; math.Abs(fd-got) > 1e-7*(1+math.Abs(fd)) {
				t.Errorf("W%d[%d]: gradient %g, finite differences %g", l, i, got, fd)
			}
		}
	}
}

// With optim.lr = 0 iPC's value nodes follow IL's trajectory exactly
// (RULES.md §1): the same energy after every step, the same final values.
func TestIPCWithZeroLRFollowsIL(t *testing.T) {
	for _, mode := range []string{"none", "positive"} {
		fa, fb := newFixture(t, sizes, 6, 9), newFixture(t, sizes, 6, 9)
		il := build(t, fa, cfgFor("pc", mode, 0.5, 6, 0.3, 0.6))
		ipc := build(t, fb, cfgFor("ipc", mode, 0.5, 6, 0.3, 0.6))
		var ta, tb []float64
		il.(Tracer).Trace(&ta)
		ipc.(Tracer).Trace(&tb)
		ra, err := il.Step(context.Background(), &Batch[float64]{X: fa.x, Labels: fa.labels}, newRecorder(fa.g, 0))
		if err != nil {
			t.Fatal(err)
		}
		rb, err := ipc.Step(context.Background(), &Batch[float64]{X: fb.x, Labels: fb.labels}, newRecorder(fb.g, 0))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ta, tb) || len(ta) != 7 {
			t.Errorf("%s: energy trajectories differ:\nIL  %v\niPC %v", mode, ta, tb)
		}
		if ra.Energy != rb.Energy || ra.Loss != rb.Loss {
			t.Errorf("%s: results differ: %+v vs %+v", mode, ra, rb)
		}
		va, vb := il.(Valuer[float64]).Values(), ipc.(Valuer[float64]).Values()
		for v := 1; v < len(va)-1; v++ {
			if !slices.Equal(va[v].Data, vb[v].Data) {
				t.Errorf("%s: value node %d differs", mode, v)
			}
		}
	}
}

// With T = 1 iPC moves only the output layer's parameters (every hidden
// error is 0 at C1), by exactly one SGD step on BP's output-layer gradient.
func TestIPCOneStepIsOutputLayerBP(t *testing.T) {
	f := newFixture(t, sizes, 6, 11)
	before := [][]float64{}
	for _, p := range f.g.Params() {
		before = append(before, slices.Clone(p.Value.Data))
	}
	// BP's gradient at the same weights.
	f.g.ZeroGrad()
	f.g.Backprop(model.NewWorkspace(f.g), f.x, f.labels, f.loss)
	var bp [][]float64
	for _, p := range f.g.Params() {
		bp = append(bp, slices.Clone(p.Grad.Data))
	}
	const lr = 0.1
	r := build(t, f, cfgFor("ipc", "none", 0, 1, 0.2, 0.5))
	u := newRecorder(f.g, lr)
	if _, err := r.Step(context.Background(), &Batch[float64]{X: f.x, Labels: f.labels}, u); err != nil {
		t.Fatal(err)
	}
	if len(u.grads) != 1 {
		t.Fatalf("%d updates, want 1", len(u.grads))
	}
	ps := f.g.Params()
	out := len(ps) - 2
	for i, p := range ps {
		for j, v := range p.Value.Data {
			want := before[i][j]
			if i >= out {
				want -= lr * bp[i][j]
			}
			if math.Abs(v-want) > 1e-15*(1+math.Abs(want)) {
				t.Fatalf("%s[%d] = %g, want %g (output layer: one BP step; others unchanged)", p.Name, j, v, want)
			}
		}
	}
}

// Nudging with β = 1 is IL bit for bit, for pc and ipc (RULES.md §2).
func TestNudgingBetaOneIsIL(t *testing.T) {
	for _, method := range []string{"pc", "ipc"} {
		var got [2][][][]float64
		for k, mode := range []string{"none", "positive"} {
			f := newFixture(t, sizes, 6, 13)
			r := build(t, f, cfgFor(method, mode, 1, 4, 0.2, 0.5))
			u := newRecorder(f.g, 0.05)
			for b := 0; b < 2; b++ {
				if _, err := r.Step(context.Background(), &Batch[float64]{X: f.x, Labels: f.labels}, u); err != nil {
					t.Fatal(err)
				}
			}
			got[k] = u.grads
		}
		for k := range got[0] {
			for i := range got[0][k] {
				if !slices.Equal(got[0][k][i], got[1][k][i]) {
					t.Fatalf("%s: update %d, parameter %d: positive nudging with β = 1 differs from IL", method, k, i)
				}
			}
		}
	}
}

// As β → 0, with inference run to equilibrium, the nudged gradient tends
// to BP's: halving β halves the error of positive and negative nudging
// and quarters that of centred nudging (RULES.md §2).
func TestNudgedGradientTendsToBP(t *testing.T) {
	sz := []int{4, 5, 3}
	f := newFixture(t, sz, 5, 17)
	f.g.ZeroGrad()
	f.g.Backprop(model.NewWorkspace(f.g), f.x, f.labels, f.loss)
	var bp [][]float64
	for _, p := range f.g.Params() {
		bp = append(bp, slices.Clone(p.Grad.Data))
	}
	errAt := func(mode string, beta float64) float64 {
		r := build(t, f, cfgFor("pc", mode, beta, 4000, 0.1, 0))
		u := newRecorder(f.g, 0)
		if _, err := r.Step(context.Background(), &Batch[float64]{X: f.x, Labels: f.labels}, u); err != nil {
			t.Fatal(err)
		}
		return maxRelDiff(u.grads[0], bp)
	}
	for _, c := range []struct {
		mode  string
		ratio float64
	}{{"positive", 2}, {"negative", 2}, {"centred", 4}} {
		e1, e2, e3 := errAt(c.mode, 0.08), errAt(c.mode, 0.04), errAt(c.mode, 0.02)
		for _, r := range []float64{e1 / e2, e2 / e3} {
			if math.Abs(r-c.ratio) > 0.15*c.ratio {
				t.Errorf("%s: errors %.3g, %.3g, %.3g as β halves: ratio %.3f, want ≈ %g", c.mode, e1, e2, e3, r, c.ratio)
			}
		}
		if e3 > 0.05 {
			t.Errorf("%s: at β = 0.02 the gradient is still %.3g from BP's (relative)", c.mode, e3)
		}
	}
}

// Random-sign nudging draws the sign per batch from the batch's seed: each
// batch equals positive or negative nudging exactly, the same seed gives
// the same sign, and both signs occur.
func TestRandomSignNudging(t *testing.T) {
	grad := func(mode string, seed uint64) [][]float64 {
		f := newFixture(t, sizes, 6, 19)
		r := build(t, f, cfgFor("pc", mode, 0.2, 4, 0.2, 0.5))
		u := newRecorder(f.g, 0)
		if _, err := r.Step(context.Background(), &Batch[float64]{X: f.x, Labels: f.labels, Seed: seed}, u); err != nil {
			t.Fatal(err)
		}
		return u.grads[0]
	}
	pos, neg := grad("positive", 0), grad("negative", 0)
	seen := map[string]bool{}
	for seed := uint64(0); seed < 16; seed++ {
		g := grad("random-sign", seed)
		switch {
		case slices.EqualFunc(g, pos, slices.Equal[[]float64]):
			seen["+"] = true
		case slices.EqualFunc(g, neg, slices.Equal[[]float64]):
			seen["-"] = true
		default:
			t.Fatalf("seed %d: random-sign is neither positive nor negative nudging", seed)
		}
		if !slices.EqualFunc(g, grad("random-sign", seed), slices.Equal[[]float64]) {
			t.Fatalf("seed %d: not reproducible", seed)
		}
	}
	if !seen["+"] || !seen["-"] {
		t.Errorf("signs seen over 16 batches: %v", seen)
	}
}

// A rule stops at once when its context ends inside a batch, having made
// no update after it (iPC with a billion steps).
func TestRulesStopInsideInference(t *testing.T) {
	for _, method := range []string{"pc", "ipc"} {
		f := newFixture(t, sizes, 6, 23)
		r := build(t, f, cfgFor(method, "none", 0, 1_000_000_000, 0.01, 0))
		ctx, cancel := context.WithCancel(context.Background())
		u := &stopAfter{recorder: newRecorder(f.g, 0.01), n: 3, cancel: cancel}
		if method == "pc" {
			// pc updates only after inference: a timer stops it.
			time.AfterFunc(50*time.Millisecond, cancel)
		}
		begin := time.Now()
		_, err := r.Step(ctx, &Batch[float64]{X: f.x, Labels: f.labels}, u)
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("%s: stopped after %v", method, d)
		}
		if err == nil || ctx.Err() == nil {
			t.Fatalf("%s: err = %v", method, err)
		}
		if method == "ipc" && len(u.grads) != 3 {
			t.Errorf("ipc made %d updates after the cancel at the third", len(u.grads))
		}
		if method == "pc" && len(u.grads) != 0 {
			t.Errorf("pc made %d updates after being stopped", len(u.grads))
		}
	}
}

// stopAfter cancels the context at its n-th update.
type stopAfter struct {
	*recorder
	n      int
	cancel context.CancelFunc
}

func (s *stopAfter) Update() error {
	err := s.recorder.Update()
	if len(s.grads) == s.n {
		s.cancel()
	}
	return err
}

// Every rule is registered once, has help text, and a check that names
// its keys; unknown names are refused with the list.
func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.Name] || r.Summary == "" || r.Cost == "" || r.Exact == "" || r.new32 == nil || r.new64 == nil {
			t.Errorf("rule %q: duplicate or incomplete entry", r.Name)
		}
		seen[r.Name] = true
	}
	for _, want := range []string{"bp", "pc", "zil", "fa-zil", "ipc"} {
		if !seen[want] {
			t.Errorf("rule %s not registered", want)
		}
	}
	c := config.Default()
	c.Method = "backprop"
	if err := Check(&c, "c.yaml"); err == nil || !strings.Contains(err.Error(), "c.yaml: method:") || !strings.Contains(err.Error(), "bp, pc, zil, fa-zil, ipc") {
		t.Errorf("unknown method: %v", err)
	}
	for _, m := range []string{"pc", "ipc"} {
		c := config.Default()
		c.Method, c.PC.Steps = m, 0
		if err := Check(&c, "c.yaml"); err == nil || !strings.Contains(err.Error(), "pc.steps: must be ≥ 1") {
			t.Errorf("%s with pc.steps 0: %v", m, err)
		}
		c = config.Default()
		c.Method, c.PC.Nudging, c.PC.Beta = m, "centred", 0
		if err := Check(&c, "c.yaml"); err == nil || !strings.Contains(err.Error(), "pc.beta") {
			t.Errorf("%s with β = 0: %v", m, err)
		}
	}
	c = config.Default()
	c.Method, c.PC.Steps = "bp", 0
	if err := Check(&c, "c.yaml"); err != nil {
		t.Errorf("bp does not read pc.steps: %v", err)
	}
}

// A rule's check names the source that set the key it refuses: the --set
// flag, the PCTRAIN_ variable, the file, or the compare variant (With).
func TestCheckNamesTheSource(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/c.yaml"
	if err := os.WriteFile(file, []byte("method: pc\npc:\n  x_lr: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src  config.Sources
		want string
	}{
		{config.Sources{File: file}, file + ": pc.x_lr"},
		{config.Sources{Sets: []string{"method=pc", "pc.steps=0"}}, "--set pc.steps=0: pc.steps"},
		{config.Sources{Env: []string{"PCTRAIN_METHOD=ipc", "PCTRAIN_PC_X_LR=-2"}}, "environment PCTRAIN_PC_X_LR=-2: pc.x_lr"},
		{config.Sources{Sets: []string{"method=bq"}}, `--set method=bq: method: "bq"`},
		{config.Sources{File: file, Sets: []string{"pc.nudging=centred", "pc.beta=0"}}, "--set pc.beta=0: pc.beta"},
	} {
		cfg, err := config.Load(c.src)
		if err != nil {
			t.Fatalf("%+v: %v", c.src, err)
		}
		err = Check(cfg, file)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.src, err, c.want)
		}
	}
	cfg, err := config.Load(config.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := cfg.With([]string{"pc.steps=0"}, "compare pc:pc.steps=0")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(v, "config"); err == nil || !strings.Contains(err.Error(), "compare pc:pc.steps=0: pc.steps") {
		t.Errorf("variant: %v", err)
	}
}
