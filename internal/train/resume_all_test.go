package train

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/rule"
)

// Every model type with every rule it runs: a run interrupted mid-epoch
// and resumed ends with the same tensors (weights, optimizer state, rule
// buffers) and metrics, bit for bit, as an uninterrupted one.
func TestResumeEveryModelAndRule(t *testing.T) {
	if testing.Short() {
		t.Skip("trains every model type with every rule")
	}
	dir := t.TempDir()
	vec, img := filepath.Join(dir, "vec.npz"), filepath.Join(dir, "img.npz")
	writeTinyNPZShape(t, vec, []int{8})
	writeTinyNPZShape(t, img, []int{1, 16, 16})
	models := []struct {
		name string
		npz  string
		mut  func(*config.Config)
	}{
		{"mlp", vec, func(c *config.Config) { c.Model.Sizes = []int{8, 6, 6, 3} }},
		{"cnn", img, func(c *config.Config) {
			c.Model.Type = "cnn"
			c.Model.Layers = []map[string]any{{"conv": map[string]any{"out": 3, "kernel": 3, "padding": 1}}, {"act": "tanh"},
				{"maxpool": 2}, {"flatten": map[string]any{}}, {"dense": map[string]any{"out": 3}}}
		}},
		{"vgg5", img, func(c *config.Config) { c.Model.Type = "vgg5"; c.PC.XLR = 0.01; c.Optim.LR = 1e-3 }},
		{"graph", vec, func(c *config.Config) {
			c.Model.Type = "graph"
			c.Model.Vertices = []map[string]any{{"name": "h1", "op": "dense", "in": []any{"input"}, "out": 6},
				{"name": "h2", "op": "dense", "in": []any{"h1"}, "out": 6, "act": "gelu"},
				{"name": "s", "op": "add", "in": []any{"h2", "h1"}},
				{"name": "out", "op": "dense", "in": []any{"s"}, "out": 3, "act": "tanh"}}
		}},
		{"rnn", vec, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Steps = "rnn", 5, 4 }},
		{"lstm", vec, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Steps = "lstm", 4, 4 }},
		{"resmlp", vec, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Blocks = "resmlp", 6, 2 }},
		{"skipmlp", vec, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Depth = "skipmlp", 6, 4 }},
	}
	timing := regexp.MustCompile(`"(seconds|samples_per_sec)":[^,}]*`)
	for _, m := range models {
		for _, method := range rule.Names() {
			cfg := config.Default()
			cfg.Method, cfg.DType = method, "float32"
			cfg.Data = config.DataConfig{Name: "npz", Path: m.npz, BatchSize: 32, Shuffle: true, ValSplit: 0.2, Normalize: "standard", Direction: "discriminative"}
			cfg.Optim.LR, cfg.Optim.Schedule = 0.01, "cosine"
			cfg.PC.Steps, cfg.PC.XLR, cfg.PC.EnergyGrowthLimit = 3, 0.1, 0
			cfg.Train.Epochs = 2
			m.mut(&cfg)
			if rule.Check(&cfg, "") != nil {
				continue // dfa off a chain model
			}
			name := fmt.Sprintf("%s-%s", m.name, method)
			full, part := filepath.Join(dir, name+"-full"), filepath.Join(dir, name+"-part")
			c1 := cfg
			c1.Train.OutDir = full
			if _, err := Train(context.Background(), &c1, RunOptions{}); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			c2 := cfg
			c2.Train.OutDir = part
			ctx, cancel := context.WithCancel(context.Background())
			if _, err := Train(ctx, &c2, RunOptions{Reporter: &cancelAt{at: 4, cancel: cancel}}); err != ErrInterrupted {
				t.Fatalf("%s: interrupted leg: %v", name, err)
			}
			rc, err := ResumeConfig(part)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Train(context.Background(), rc, RunOptions{Resume: part}); err != nil {
				t.Fatalf("%s: resume: %v", name, err)
			}
			a, _, err := model.ReadSafetensors(filepath.Join(full, "checkpoints", "last.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := model.ReadSafetensors(filepath.Join(part, "checkpoints", "last.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != len(b) {
				t.Fatalf("%s: %d tensors uninterrupted, %d resumed", name, len(a), len(b))
			}
			for tn, ta := range a {
				tb, ok := b[tn]
				if !ok {
					t.Fatalf("%s: %s missing after resume", name, tn)
				}
				fa, fb := ta.Float64s(), tb.Float64s()
				for i := range fa {
					if fa[i] != fb[i] {
						t.Fatalf("%s: %s[%d] = %v uninterrupted, %v resumed", name, tn, i, fa[i], fb[i])
					}
				}
			}
			ma, _ := os.ReadFile(filepath.Join(full, "metrics.jsonl"))
			mb, _ := os.ReadFile(filepath.Join(part, "metrics.jsonl"))
			if !bytes.Equal(timing.ReplaceAll(ma, nil), timing.ReplaceAll(mb, nil)) {
				t.Errorf("%s: metrics differ:\n%s\n%s", name, ma, mb)
			}
		}
	}
}
