package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/model"
)

func writeTinyNPZ(t *testing.T, path string) { writeTinyNPZShape(t, path, []int{6}) }

// writeTinyNPZShape writes 100 training and 30 test samples of the given
// per-sample shape, 3 classes.
func writeTinyNPZShape(t *testing.T, path string, shape []int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	d := 1
	for _, s := range shape {
		d *= s
	}
	gen := func(n int) ([]float32, []int64) {
		x := make([]float32, n*d)
		y := make([]int64, n)
		for i := range y {
			y[i] = int64(i % 3)
			for j := 0; j < d; j++ {
				x[i*d+j] = float32(rng.NormFloat64() + float64(y[i]*int64(j%3)))
			}
		}
		return x, y
	}
	xtr, ytr := gen(100)
	xte, yte := gen(30)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data.WriteNPZ(f, map[string][]byte{
		"x_train": data.EncodeNPY(append([]int{100}, shape...), xtr), "y_train": data.EncodeNPY([]int{100}, ytr),
		"x_test": data.EncodeNPY(append([]int{30}, shape...), xte), "y_test": data.EncodeNPY([]int{30}, yte),
	}, []string{"x_train", "y_train", "x_test", "y_test"})
}

// cancelAt cancels a context when the run reaches a global batch count.
type cancelAt struct {
	nopReporter
	n, at  int
	cancel context.CancelFunc
}

func (c *cancelAt) Batch(int, float64, int) {
	c.n++
	if c.n == c.at {
		c.cancel()
	}
}

// An interrupted run resumed with --resume ends with weights and optimizer
// state bit-identical to an uninterrupted run, and the same metrics apart
// from timing (DESIGN.md; issue: resume exactly).
func TestResumeIsBitIdentical(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZ(t, npz)
	for _, method := range []string{"bp", "pc"} {
		for _, dtype := range []string{"float32", "float64"} {
			cfg := config.Default()
			cfg.Method, cfg.DType = method, dtype
			cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, ValSplit: 0.2, Normalize: "standard"}
			cfg.Model.Sizes = []int{6, 8, 8, 3}
			cfg.Optim.LR = 0.01
			cfg.Optim.Schedule = "cosine"
			cfg.Train.Epochs = 4
			full := filepath.Join(dir, method+dtype+"-full")
			c1 := cfg
			c1.Train.OutDir = full
			if _, err := Train(context.Background(), &c1, RunOptions{}); err != nil {
				t.Fatal(err)
			}
			// Interrupt at batch 7 (mid-epoch 2) and again at batch 4
			// after the first resume (mid-epoch 3), then finish.
			part := filepath.Join(dir, method+dtype+"-part")
			c2 := cfg
			c2.Train.OutDir = part
			ctx, cancel := context.WithCancel(context.Background())
			if _, err := Train(ctx, &c2, RunOptions{Reporter: &cancelAt{at: 7, cancel: cancel}}); err != ErrInterrupted {
				t.Fatalf("first leg: err = %v, want ErrInterrupted", err)
			}
			rc, err := ResumeConfig(part)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel = context.WithCancel(context.Background())
			if _, err := Train(ctx, rc, RunOptions{Resume: part, Reporter: &cancelAt{at: 4, cancel: cancel}}); err != ErrInterrupted {
				t.Fatalf("second leg: err = %v", err)
			}
			rc, _ = ResumeConfig(part)
			if _, err := Train(context.Background(), rc, RunOptions{Resume: part}); err != nil {
				t.Fatal(err)
			}
			a, _, err := model.ReadSafetensors(filepath.Join(full, "checkpoints", "last.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := model.ReadSafetensors(filepath.Join(part, "checkpoints", "last.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != len(b) || len(a) == 0 {
				t.Fatalf("%d vs %d tensors", len(a), len(b))
			}
			for name, ta := range a {
				fa, fb := ta.Float64s(), b[name].Float64s()
				for i := range fa {
					if fa[i] != fb[i] {
						t.Fatalf("%s/%s: %s[%d] = %v uninterrupted, %v resumed", method, dtype, name, i, fa[i], fb[i])
					}
				}
			}
			timing := regexp.MustCompile(`"(seconds|samples_per_sec)":[^,}]*`)
			ma, _ := os.ReadFile(filepath.Join(full, "metrics.jsonl"))
			mb, _ := os.ReadFile(filepath.Join(part, "metrics.jsonl"))
			if !bytes.Equal(timing.ReplaceAll(ma, nil), timing.ReplaceAll(mb, nil)) {
				t.Errorf("%s/%s: metrics differ:\n%s\n%s", method, dtype, ma, mb)
			}
		}
	}
}

// A run that diverges keeps the checkpoint of the last completed epoch,
// writes no summary, and reports the quantity, epoch and step.
func TestDivergenceKeepsLastGoodCheckpoint(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZ(t, npz)
	cfg := config.Default()
	cfg.Method = "bp"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Normalize: "none"}
	cfg.Model.Sizes = []int{6, 8, 3}
	cfg.Train.Epochs = 5
	cfg.Train.OutDir = filepath.Join(dir, "run")
	// 7 batches per epoch: step 17 is in epoch 3.
	_, err := Train(context.Background(), &cfg, RunOptions{poison: func(step int) bool { return step == 17 }})
	de, ok := err.(*DivergedError)
	if !ok {
		t.Fatalf("err = %v, want a DivergedError", err)
	}
	if de.Quantity != "loss" || de.Epoch != 3 || de.Step != 18 {
		t.Errorf("diverged %q at epoch %d step %d, want loss at epoch 3 step 18", de.Quantity, de.Epoch, de.Step)
	}
	_, meta, err := model.ReadSafetensors(filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if meta["epoch"] != "2" || meta["step"] != "14" {
		t.Errorf("last checkpoint at epoch %s step %s, want the end of epoch 2 (step 14)", meta["epoch"], meta["step"])
	}
	if _, err := os.Stat(filepath.Join(cfg.Train.OutDir, "summary.json")); err == nil {
		t.Error("a diverged run wrote summary.json")
	}
}

// Telemetry checked against independent computations on a tiny network:
// the first record's weight norms are those of the checkpoint the run
// starts from; Z-IL's gradient has cosine 1 with BP's; a pc record's
// energy trajectory has T+1 values, starts at the batch's loss level and,
// with a small step, does not increase.
func TestTelemetry(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZ(t, npz)
	base := config.Default()
	base.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Normalize: "standard"}
	base.Model.Sizes = []int{6, 8, 8, 3}
	base.Train.Epochs = 2
	base.Train.TelemetryEvery = 5
	base.Train.TelemetryBPCosine = true
	base.PC.Steps, base.PC.XLR, base.PC.XMomentum = 6, 0.05, 0
	// A starting checkpoint whose norms the test computes itself.
	seedRun := base
	seedRun.Method, seedRun.Train.Epochs, seedRun.Train.TelemetryEvery = "bp", 1, 0
	seedRun.Train.OutDir = filepath.Join(dir, "seed")
	if _, err := Train(context.Background(), &seedRun, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "seed", "checkpoints", "last.safetensors")
	ts, _, err := model.ReadSafetensors(ck)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"zil", "pc"} {
		cfg := base
		cfg.Method = method
		cfg.Model.InitFrom = ck
		cfg.Train.OutDir = filepath.Join(dir, method)
		if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(cfg.Train.OutDir, "telemetry.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
		// 7 batches per epoch, 2 epochs: steps 1, 6, 11 are recorded.
		if len(lines) != 3 {
			t.Fatalf("%s: %d telemetry lines, want 3", method, len(lines))
		}
		var recs []Telemetry
		for _, l := range lines {
			var r Telemetry
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		for name, tt := range ts {
			if strings.HasPrefix(name, "optim.") {
				continue
			}
			var sq float64
			for _, v := range tt.Float64s() {
				sq += v * v
			}
			if got := recs[0].WeightNorms[name]; math.Abs(got-math.Sqrt(sq)) > 1e-5*math.Sqrt(sq) {
				t.Errorf("%s: weight norm of %s %g, checkpoint says %g", method, name, got, math.Sqrt(sq))
			}
		}
		for _, r := range recs {
			for p, c := range r.BPCosine {
				if method == "zil" && math.Abs(c-1) > 1e-6 {
					t.Errorf("zil step %d: cosine with BP of %s is %g, want 1", r.Step, p, c)
				}
				if method == "pc" && (c <= 0 || c > 1+1e-6) {
					t.Errorf("pc step %d: cosine of %s is %g", r.Step, p, c)
				}
			}
			if method == "pc" {
				tr := r.EnergyTrajectory
				if len(tr) != 7 {
					t.Fatalf("pc: trajectory of %d values, want T+1 = 7", len(tr))
				}
				for k := 1; k < len(tr); k++ {
					if tr[k] > tr[k-1]+1e-6 {
						t.Errorf("pc step %d: energy rose from %g to %g at inference step %d", r.Step, tr[k-1], tr[k], k)
					}
				}
				if len(r.ValueNorms) != 3 || len(r.EnergyPerLevel) != 3 {
					t.Errorf("pc: %d value norms, %d energies; want one per vertex", len(r.ValueNorms), len(r.EnergyPerLevel))
				}
			}
		}
	}
}

// Resume stays exact with augmentation (random crops and flips drawn from
// the batch's position) on a CNN.
func TestResumeWithAugmentation(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "img.npz")
	writeTinyNPZShape(t, npz, []int{1, 6, 6})
	cfg := config.Default()
	cfg.Method = "pc"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Flip: true, CropPadding: 2, Normalize: "standard"}
	cfg.Model.Type = "cnn"
	cfg.Model.Layers = []map[string]any{{"conv": map[string]any{"out": 3, "kernel": 3}}, {"act": "tanh"}, {"flatten": map[string]any{}}, {"dense": map[string]any{"out": 3}}}
	cfg.Train.Epochs = 3
	full, part := cfg, cfg
	full.Train.OutDir, part.Train.OutDir = filepath.Join(dir, "full"), filepath.Join(dir, "part")
	if _, err := Train(context.Background(), &full, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Train(ctx, &part, RunOptions{Reporter: &cancelAt{at: 10, cancel: cancel}}); err != ErrInterrupted {
		t.Fatalf("err = %v", err)
	}
	rc, _ := ResumeConfig(part.Train.OutDir)
	if _, err := Train(context.Background(), rc, RunOptions{Resume: part.Train.OutDir}); err != nil {
		t.Fatal(err)
	}
	a, _, _ := model.ReadSafetensors(filepath.Join(full.Train.OutDir, "checkpoints", "last.safetensors"))
	b, _, _ := model.ReadSafetensors(filepath.Join(part.Train.OutDir, "checkpoints", "last.safetensors"))
	for name, ta := range a {
		fa, fb := ta.Float64s(), b[name].Float64s()
		for i := range fa {
			if fa[i] != fb[i] {
				t.Fatalf("%s[%d]: %v uninterrupted, %v resumed", name, i, fa[i], fb[i])
			}
		}
	}
}

// model.init_from reads a PyTorch nn.Sequential's own tensor names
// ("0.weight", as torch's state_dict spells them) as well as pctrain's
// ("layers.0.weight"), with the same layout: conv weights [out, in, kh, kw].
func TestInitFromTorchSequentialNames(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "img.npz")
	writeTinyNPZShape(t, npz, []int{1, 6, 6})
	cfg := config.Default()
	cfg.Method = "bp"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Normalize: "none"}
	cfg.Model.Type = "cnn"
	cfg.Model.Layers = []map[string]any{{"conv": map[string]any{"out": 2, "kernel": 3}}, {"act": "relu"}, {"flatten": map[string]any{}}, {"dense": map[string]any{"out": 3}}}
	g, err := BuildModel[float64](&cfg, []int{1, 6, 6}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Tensors as torch would save them: 0.weight [2,1,3,3], 0.bias, 3.weight [3, 32], 3.bias.
	var ts []model.Tensor
	want := map[string][]float64{}
	for k, p := range g.Params() {
		vals := make([]float64, len(p.Value.Data))
		for i := range vals {
			vals[i] = float64(k*100 + i)
		}
		name := strings.TrimPrefix(p.Name, "layers.")
		ts = append(ts, model.Tensor{Name: name, Shape: p.Shape, F64: vals})
		want[p.Name] = vals
	}
	ck := filepath.Join(dir, "torch.safetensors")
	f, _ := os.Create(ck)
	model.EncodeSafetensors(f, ts, nil)
	f.Close()
	c, err := readCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.loadWeights(g, buffersIfPresent); err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params() {
		for i, v := range p.Value.Data {
			if v != want[p.Name][i] {
				t.Fatalf("%s[%d] = %g, want %g", p.Name, i, v, want[p.Name][i])
			}
		}
	}
	if fmt.Sprint(g.Params()[0].Shape) != "[2 1 3 3]" {
		t.Fatalf("conv weight shape %v, want PyTorch's [out, in, kh, kw]", g.Params()[0].Shape)
	}
}
