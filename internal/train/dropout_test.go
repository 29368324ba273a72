package train

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/rule"
)

// model.dropout acts in every rule's training (the weights a run ends with
// change with it), Z-IL stays BP with the same masks (float64, to
// rounding), and the masks do not depend on how the batch is split over
// cores (1 and 2 threads agree to rounding; a part drawing its rows'
// masks from row 0 would not).
func TestDropoutEveryRule(t *testing.T) {
	dir := t.TempDir()
	vec, img := filepath.Join(dir, "vec.npz"), filepath.Join(dir, "img.npz")
	writeTinyNPZShape(t, vec, []int{8})
	writeTinyNPZShape(t, img, []int{1, 8, 8})
	run := func(name string, mut func(*config.Config)) map[string][]float64 {
		cfg := config.Default()
		cfg.DType = "float64"
		cfg.Data = config.DataConfig{Name: "npz", Path: vec, BatchSize: 32, Shuffle: true, ValSplit: 0.2, Normalize: "standard", Direction: "discriminative"}
		cfg.Model.Sizes = []int{8, 12, 12, 3}
		cfg.Optim.LR = 0.01
		cfg.PC.Steps, cfg.PC.XLR, cfg.PC.EnergyGrowthLimit = 3, 0.1, 0
		cfg.Train.Epochs, cfg.Train.Threads = 1, 1
		mut(&cfg)
		cfg.Train.OutDir = filepath.Join(dir, name)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w := map[string][]float64{}
		for n, ts := range readWeights(t, filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors")) {
			w[n] = ts.F64
		}
		return w
	}
	maxDiff := func(a, b map[string][]float64) float64 {
		d := 0.0
		for n, x := range a {
			for i := range x {
				d = math.Max(d, math.Abs(x[i]-b[n][i]))
			}
		}
		return d
	}
	models := map[string]func(*config.Config){
		"mlp": func(*config.Config) {},
		"cnn": func(c *config.Config) {
			c.Data.Path = img
			c.Model.Type = "cnn"
			c.Model.Layers = []map[string]any{{"conv": map[string]any{"out": 3, "kernel": 3, "padding": 1}}, {"act": "tanh"},
				{"conv": map[string]any{"out": 3, "kernel": 3, "padding": 1}}, {"act": "tanh"},
				{"flatten": map[string]any{}}, {"dense": map[string]any{"out": 3}}}
		},
	}
	for mname, mm := range models {
		for _, method := range rule.Names() {
			with := func(p float64) func(*config.Config) {
				return func(c *config.Config) { mm(c); c.Method, c.Model.Dropout = method, p }
			}
			name := fmt.Sprintf("%s-%s", mname, method)
			plain, dropped := run(name+"-0", with(0)), run(name+"-0.5", with(0.5))
			if d := maxDiff(plain, dropped); !(d > 1e-6) {
				t.Errorf("%s: model.dropout 0.5 changed the weights by %g", name, d)
			}
		}
	}
	bp := run("bp-drop", func(c *config.Config) { c.Method, c.Model.Dropout = "bp", 0.3 })
	zil := run("zil-drop", func(c *config.Config) { c.Method, c.Model.Dropout = "zil", 0.3 })
	if d := maxDiff(bp, zil); d > 1e-12 {
		t.Errorf("with dropout, zil ends %g from bp", d)
	}
	two := run("bp-drop-2", func(c *config.Config) { c.Method, c.Model.Dropout, c.Train.Threads = "bp", 0.3, 2 })
	if d := maxDiff(bp, two); d > 1e-12 {
		t.Errorf("with dropout, 2 threads end %g from 1 thread", d)
	}
	pc1 := run("pc-drop", func(c *config.Config) { c.Method, c.Model.Dropout = "pc", 0.3 })
	pc2 := run("pc-drop-2", func(c *config.Config) { c.Method, c.Model.Dropout, c.Train.Threads = "pc", 0.3, 2 })
	if d := maxDiff(pc1, pc2); d > 1e-12 {
		t.Errorf("pc with dropout, 2 threads end %g from 1 thread", d)
	}
}
