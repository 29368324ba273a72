package train

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
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
		// Dropout's masks come from the seed and the step: a resumed run
		// draws the ones the uninterrupted run drew.
		{"mlp-dropout", vec, func(c *config.Config) { c.Model.Sizes, c.Model.Dropout = []int{8, 6, 6, 3}, 0.3 }},
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
			checkResumeIdentical(t, cfg, dir, fmt.Sprintf("%s-%s", m.name, method), 4)
		}
	}
}
