package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/rule"
)

var feedbackRules = []string{"fa", "usf", "frsf", "brsf", "dfa"}

// feedbackConfig is a tiny float64 run of method on the model type of
// modelConfigs (samples [1, 4, 4], 3 classes).
func feedbackConfig(t *testing.T, dir, method, typ string) config.Config {
	t.Helper()
	npz := filepath.Join(dir, "img.npz")
	if _, err := os.Stat(npz); err != nil {
		writeTinyNPZShape(t, npz, []int{1, 4, 4})
	}
	cfg := config.Default()
	cfg.Method, cfg.DType = method, "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Normalize: "standard"}
	modelConfigs()[typ](&cfg)
	cfg.Train.Epochs, cfg.Train.MaxSteps = 1, 2
	cfg.Optim.LR = 0.01
	return cfg
}

// wantFeedback is what RULES.md §5 says a rule stores, by tensor name
// and shape, for the model: fa, frsf and brsf one tensor of each weight's
// shape; usf nothing; dfa [n_out, n_v] under the weight of each hidden
// vertex v (chain models), none for the output's.
func wantFeedback(t *testing.T, cfg *config.Config) map[string][]int {
	g, err := BuildModel[float64](cfg, []int{1, 4, 4}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{}
	switch cfg.Method {
	case "fa", "frsf", "brsf":
		for _, p := range g.Params() {
			if len(p.Shape) > 1 { // weights; biases are vectors
				want["feedback."+p.Name] = p.Shape
			}
		}
	case "dfa":
		for v := 1; v < g.Output(); v++ {
			for _, l := range g.Vertices[v].Layers {
				if ps := l.Params(); len(ps) > 0 {
					want["feedback."+ps[0].Name] = []int{3, g.Vertices[v].Shape.Size()}
				}
			}
		}
	}
	return want
}

// Every rule on every model type it supports saves its feedback tensors in
// its checkpoints under RULES.md's names and shapes; the checkpoint loads
// back bit for bit as resume loads it; a checkpoint missing one of them,
// or holding one the rule does not keep, is refused in one line naming
// the tensor. dfa is refused, naming model.type, on non-chain models.
func TestFeedbackBuffersInCheckpoints(t *testing.T) {
	dir := t.TempDir()
	types := slices.Sorted(maps.Keys(modelConfigs()))
	for _, typ := range types {
		for _, method := range feedbackRules {
			cfg := feedbackConfig(t, dir, method, typ)
			chain := typ == "mlp" || typ == "cnn"
			if err := rule.Check(&cfg, "c.yaml"); err != nil || (method == "dfa" && !chain) {
				if method != "dfa" || chain || err == nil || !strings.Contains(err.Error(), "model.type") {
					t.Errorf("%s on %s: check says %v", method, typ, err)
				}
				continue
			}
			cfg.Train.OutDir = filepath.Join(dir, typ+"-"+method)
			if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
				t.Fatalf("%s on %s: %v", method, typ, err)
			}
			ts := readWeights(t, filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors"))
			got := map[string][]int{}
			for name, tt := range ts {
				if strings.HasPrefix(name, "feedback.") {
					got[name] = tt.Shape
				}
			}
			want := wantFeedback(t, &cfg)
			if !maps.EqualFunc(got, want, slices.Equal) {
				t.Errorf("%s on %s: feedback tensors %v, want %v", method, typ, got, want)
			}
			tr, err := NewTrainer[float64](&cfg, mustData(t, &cfg))
			if err != nil {
				t.Fatal(err)
			}
			// Other values than the seed's draw, so that a buffer left
			// as drawn shows.
			for name, tt := range ts {
				if strings.HasPrefix(name, "feedback.") {
					vals := tt.Float64s()
					for i := range vals {
						vals[i] += 0.5
					}
					ts[name] = model.Tensor{Name: name, Shape: tt.Shape, F64: vals}
				}
			}
			ck := &loadedCheckpoint{Path: "ck.safetensors", Tensors: ts}
			if err := ck.loadWeights(tr.G, buffersRequired); err != nil {
				t.Fatalf("%s on %s: own checkpoint refused: %v", method, typ, err)
			}
			for _, b := range tr.G.Buffers() {
				if !slices.Equal(b.Value.Data, ts[b.Name].Float64s()) {
					t.Errorf("%s on %s: %s not restored bit for bit", method, typ, b.Name)
				}
			}
			for name := range want {
				less := maps.Clone(ts)
				delete(less, name)
				err := (&loadedCheckpoint{Path: "ck.safetensors", Tensors: less}).loadWeights(tr.G, buffersRequired)
				if err == nil || !strings.Contains(err.Error(), `"`+name+`"`) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s on %s: resume without %s: err = %v, want one line naming it", method, typ, name, err)
				}
				break
			}
			more := maps.Clone(ts)
			more["feedback.zz.weight"] = model.Tensor{Name: "feedback.zz.weight", Shape: []int{1}, F64: []float64{1}}
			err = (&loadedCheckpoint{Path: "ck.safetensors", Tensors: more}).loadWeights(tr.G, buffersIfPresent)
			if err == nil || !strings.Contains(err.Error(), `"feedback.zz.weight"`) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s on %s: a buffer the rule lacks: err = %v, want one line naming it", method, typ, err)
			}
		}
	}
}

func mustData(t *testing.T, cfg *config.Config) *Data {
	t.Helper()
	d, err := LoadData(cfg, FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// writeInit writes the parameters of g, and extra tensors, as an init file.
func writeInit(t *testing.T, path string, g *model.Graph[float64], extra map[string]model.Tensor) {
	t.Helper()
	var ts []model.Tensor
	for _, p := range g.Params() {
		ts = append(ts, tensorOf(p.Name, p.Shape, p.Value.Data))
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		ts = append(ts, extra[name])
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := model.EncodeSafetensors(f, ts, nil); err != nil {
		t.Fatal(err)
	}
}

// model.init_from sets the feedback tensors it holds; without them they
// are drawn from the run's seed (the values a run without init_from has,
// not zeros); one of the wrong shape is a user error naming the file and
// the tensor.
func TestInitFromFeedback(t *testing.T) {
	dir := t.TempDir()
	for _, method := range []string{"fa", "frsf", "dfa"} {
		cfg := feedbackConfig(t, dir, method, "mlp")
		d := mustData(t, &cfg)
		drawn, err := NewTrainer[float64](&cfg, d)
		if err != nil {
			t.Fatal(err)
		}
		g := drawn.G
		set := map[string]model.Tensor{}
		for k, b := range g.Buffers() {
			vals := make([]float64, len(b.Value.Data))
			for i := range vals {
				vals[i] = float64(k) + float64(i)/100
			}
			set[b.Name] = model.Tensor{Name: b.Name, Shape: b.Shape, F64: vals}
			if slices.Max(b.Value.Data) == 0 {
				t.Errorf("%s: %s not drawn", method, b.Name)
			}
		}
		if len(set) == 0 {
			t.Fatalf("%s: no buffers", method)
		}
		with := filepath.Join(dir, method+"-with.safetensors")
		writeInit(t, with, g, set)
		c := cfg
		c.Model.InitFrom = with
		tr, err := NewTrainer[float64](&c, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range tr.G.Buffers() {
			if !slices.Equal(b.Value.Data, set[b.Name].F64) {
				t.Errorf("%s: %s not read from model.init_from", method, b.Name)
			}
		}
		without := filepath.Join(dir, method+"-without.safetensors")
		writeInit(t, without, g, nil)
		c.Model.InitFrom = without
		if tr, err = NewTrainer[float64](&c, d); err != nil {
			t.Fatal(err)
		}
		for i, b := range tr.G.Buffers() {
			if !slices.Equal(b.Value.Data, g.Buffers()[i].Value.Data) {
				t.Errorf("%s: %s absent from model.init_from is not the seed's draw", method, b.Name)
			}
		}
		bad := maps.Clone(set)
		name := g.Buffers()[0].Name
		bad[name] = model.Tensor{Name: name, Shape: []int{2, 2}, F64: []float64{1, 2, 3, 4}}
		badPath := filepath.Join(dir, method+"-bad.safetensors")
		writeInit(t, badPath, g, bad)
		c.Model.InitFrom = badPath
		_, err = NewTrainer[float64](&c, d)
		var ue *UserError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), badPath) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %s of the wrong shape: err = %v, want a user error naming %s and the tensor", method, name, err, badPath)
		}
	}
}

// RULES.md §5's identities, in float64, through model.init_from: fa with
// every B set to its W takes BP's first step exactly (on every model type:
// conv kernels, skip edges with identity vertices, tied weights sharing
// one B), and dfa on a one-hidden-layer net with B set to the output
// weights does too.
func TestFeedbackEqualToWeightsIsBP(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ method, typ string }{{"fa", "mlp"}, {"fa", "cnn"}, {"fa", "graph"}, {"fa", "rnn"}, {"fa", "lstm"}, {"fa", "resmlp"}, {"dfa", "mlp"}} {
		base := feedbackConfig(t, dir, "bp", c.typ)
		if c.typ == "mlp" {
			base.Model.Sizes = []int{16, 5, 4, 3}
			if c.method == "dfa" {
				base.Model.Sizes = []int{16, 5, 3}
			}
		}
		base.Train.MaxSteps = 1
		g, err := BuildModel[float64](&base, []int{1, 4, 4}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Init(rand.New(rand.NewPCG(3, 1)), "default"); err != nil {
			t.Fatal(err)
		}
		ws := map[string]*model.Param[float64]{}
		for _, p := range g.Params() {
			ws[p.Name] = p
		}
		fb := map[string]model.Tensor{}
		ps := g.Params()
		switch c.method {
		case "fa":
			for _, p := range ps {
				if len(p.Shape) > 1 {
					fb["feedback."+p.Name] = tensorOf("feedback."+p.Name, p.Shape, p.Value.Data)
				}
			}
		case "dfa":
			out := ws["layers.1.weight"]
			fb["feedback.layers.0.weight"] = tensorOf("feedback.layers.0.weight", out.Shape, out.Value.Data)
		}
		plain, withB := filepath.Join(dir, c.method+c.typ+"-w.safetensors"), filepath.Join(dir, c.method+c.typ+"-wb.safetensors")
		writeInit(t, plain, g, nil)
		writeInit(t, withB, g, fb)
		var last [2]map[string]model.Tensor
		for k, m := range []string{"bp", c.method} {
			cfg := base
			cfg.Method, cfg.Model.InitFrom = m, plain
			if m != "bp" {
				cfg.Model.InitFrom = withB
			}
			cfg.Train.OutDir = filepath.Join(dir, c.method+c.typ+"-"+m)
			if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
				t.Fatal(err)
			}
			last[k] = readWeights(t, filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors"))
		}
		for _, p := range ps {
			a, b := last[0][p.Name].Float64s(), last[1][p.Name].Float64s()
			if !slices.Equal(a, b) {
				t.Errorf("%s on %s with B = W: %s after one step differs from BP's", c.method, c.typ, p.Name)
			}
			if slices.Equal(a, p.Value.Data) && len(p.Shape) > 1 {
				t.Errorf("%s on %s: %s did not move", c.method, c.typ, p.Name)
			}
		}
	}
}

// Every feedback rule resumes bit-identically: weights, optimizer state,
// feedback tensors and metrics after an interrupt mid-epoch and --resume
// equal an uninterrupted run's (brsf also split over two threads).
func TestFeedbackRulesResumeBitIdentical(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		method  string
		threads int
	}{{"fa", 1}, {"usf", 1}, {"frsf", 1}, {"brsf", 1}, {"brsf", 2}, {"dfa", 1}} {
		cfg := tinyRuleConfig(t, dir, c.method, "none")
		cfg.Train.Epochs, cfg.Train.Threads = 3, c.threads
		name := c.method + string(rune('0'+c.threads))
		checkResumeIdentical(t, cfg, dir, name, 9)
	}
}

// readTelemetry returns a run's telemetry records.
func readTelemetry(t *testing.T, dir string) []Telemetry {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "telemetry.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []Telemetry
	for _, l := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var r Telemetry
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// Alignment telemetry from theory: fa with B = W has B at 0° to W and its
// gradient at 0° to BP's; usf's B = σ·sign(W) is at
// arccos(Σ|w| / (√n·‖W‖)) to W; every rule's output weight gradient is
// BP's (0°) at every step, while a hidden one is not; dfa reports no B–W
// angle (its B has another shape).
func TestAlignmentTelemetry(t *testing.T) {
	dir := t.TempDir()
	base := feedbackConfig(t, dir, "bp", "mlp")
	base.Model.Sizes = []int{16, 5, 4, 3}
	base.Train.MaxSteps, base.Train.TelemetryEvery, base.Train.TelemetryBPCosine = 3, 1, true
	g, err := BuildModel[float64](&base, []int{1, 4, 4}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Init(rand.New(rand.NewPCG(3, 1)), "default"); err != nil {
		t.Fatal(err)
	}
	fb := map[string]model.Tensor{}
	for _, p := range g.Params() {
		if len(p.Shape) > 1 {
			fb["feedback."+p.Name] = tensorOf("feedback."+p.Name, p.Shape, p.Value.Data)
		}
	}
	plain, withB := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "wb.safetensors")
	writeInit(t, plain, g, nil)
	writeInit(t, withB, g, fb)
	const tol = 1e-5 // degrees
	for _, method := range []string{"fa", "fa=W", "usf", "dfa"} {
		cfg := base
		cfg.Method, cfg.Model.InitFrom = method, plain
		if method == "fa=W" {
			cfg.Method, cfg.Model.InitFrom = "fa", withB
		}
		cfg.Train.OutDir = filepath.Join(dir, method)
		if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
			t.Fatal(err)
		}
		recs := readTelemetry(t, cfg.Train.OutDir)
		if len(recs) != 3 {
			t.Fatalf("%s: %d telemetry records, want 3", method, len(recs))
		}
		for _, r := range recs {
			if a := r.BPAngle["layers.2.weight"]; math.Abs(a) > tol {
				t.Errorf("%s step %d: the output weight's gradient is %g° from BP's, want 0", method, r.Step, a)
			}
			if a := r.BPAngle["layers.1.weight"]; method != "fa=W" && a < 1 {
				t.Errorf("%s step %d: a hidden gradient %g° from BP's: the rule looks like BP", method, r.Step, a)
			}
			if method == "dfa" && r.FeedbackAngle != nil {
				t.Errorf("dfa reports a B–W angle")
			}
			if method != "dfa" && len(r.FeedbackAngle) != 3 {
				t.Errorf("%s: B–W angles %v, want one per weight", method, r.FeedbackAngle)
			}
		}
		first := recs[0]
		switch method {
		case "fa=W":
			for name, a := range first.FeedbackAngle {
				if math.Abs(a) > tol {
					t.Errorf("fa with B = W: %s's B is %g° from W", name, a)
				}
			}
			for name, a := range first.BPAngle {
				if math.Abs(a) > tol {
					t.Errorf("fa with B = W: %s's gradient is %g° from BP's", name, a)
				}
			}
		case "usf":
			for _, p := range g.Params() {
				if len(p.Shape) < 2 {
					continue
				}
				var l1, l2 float64
				for _, v := range p.Value.Data {
					l1 += math.Abs(v)
					l2 += v * v
				}
				want := math.Acos(l1/math.Sqrt(float64(len(p.Value.Data))*l2)) * 180 / math.Pi
				if got := first.FeedbackAngle[p.Name]; math.Abs(got-want) > 1e-9 {
					t.Errorf("usf: %s's B is %g° from W, want %g°", p.Name, got, want)
				}
			}
		}
	}
}
