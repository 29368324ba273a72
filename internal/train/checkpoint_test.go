package train

import (
	"github.com/pctrain/pctrain/internal/tensor"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
)

// modelConfigs are small configs of every model type, for samples of
// shape [1, 4, 4] (16 values) and 3 classes.
func modelConfigs() map[string]func(*config.Config) {
	return map[string]func(*config.Config){
		"mlp": func(c *config.Config) { c.Model.Sizes = []int{16, 5, 3} },
		"cnn": func(c *config.Config) {
			c.Model.Type = "cnn"
			c.Model.Layers = []map[string]any{{"conv": map[string]any{"out": 2, "kernel": 3}}, {"act": "relu"}, {"flatten": map[string]any{}}, {"dense": map[string]any{"out": 3}}}
		},
		"graph": func(c *config.Config) {
			c.Model.Type = "graph"
			c.Model.Vertices = []map[string]any{
				{"name": "h", "op": "dense", "in": []any{"input"}, "out": 4},
				{"name": "h2", "op": "dense", "in": []any{"h"}, "out": 4, "act": "tanh"},
				{"name": "out", "op": "dense", "in": []any{"h2", "h"}, "out": 3, "act": "tanh"},
			}
		},
		"rnn":     func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Steps = "rnn", 3, 4 },
		"lstm":    func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Steps = "lstm", 3, 4 },
		"resmlp":  func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Blocks = "resmlp", 4, 2 },
		"skipmlp": func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Depth = "skipmlp", 4, 3 },
		"skipmlp-mupc": func(c *config.Config) {
			c.Model.Type, c.Model.Hidden, c.Model.Depth, c.Model.Parameterization = "skipmlp", 4, 3, "mupc"
		},
	}
}

// A checkpoint of every model type loads back into a freshly initialised
// model of the same type and restores every parameter exactly; a
// checkpoint missing one of the model's tensors, or holding one the model
// lacks, is refused naming that tensor. (Graph, rnn, lstm and resmlp
// parameters have no "layers." prefix: their checkpoints were once all
// refused as holding tensors "not in the model".)
func TestCheckpointLoadsEveryModelType(t *testing.T) {
	dir := t.TempDir()
	for name, set := range modelConfigs() {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			set(&cfg)
			build := func(seed uint64) *model.Graph[float32] {
				g, err := BuildModel[float32](&cfg, []int{1, 4, 4}, 3)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.Init(rand.New(rand.NewPCG(seed, 1)), "default"); err != nil {
					t.Fatal(err)
				}
				return g
			}
			src, dst := build(1), build(2)
			var ts []model.Tensor
			for _, p := range src.Params() {
				ts = append(ts, tensorOf(p.Name, p.Shape, p.Value.Data))
			}
			write := func(file string, ts []model.Tensor) *loadedCheckpoint {
				path := filepath.Join(dir, name+"-"+file)
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := model.EncodeSafetensors(f, ts, nil); err != nil {
					t.Fatal(err)
				}
				f.Close()
				c, err := readCheckpoint(path)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			if err := write("full.safetensors", ts).loadWeights(dst, buffersRequired); err != nil {
				t.Fatalf("own checkpoint refused: %v", err)
			}
			for i, p := range dst.Params() {
				for j, v := range p.Value.Data {
					if v != src.Params()[i].Value.Data[j] {
						t.Fatalf("%s[%d] = %v after loading, checkpoint has %v", p.Name, j, v, src.Params()[i].Value.Data[j])
					}
				}
			}
			// Drop the last tensor: the model needs it.
			missing := ts[len(ts)-1].Name
			err := write("missing.safetensors", ts[:len(ts)-1]).loadWeights(build(3), buffersRequired)
			if _, ok := err.(*UserError); !ok || !strings.Contains(err.Error(), "no tensor \""+missing+"\"") {
				t.Errorf("checkpoint without %s: err = %v, want a user error naming it", missing, err)
			}
			// A tensor of another architecture.
			extra := append(append([]model.Tensor(nil), ts...), model.Tensor{Name: "zz.weight", Shape: []int{1}, F32: []float32{1}})
			err = write("extra.safetensors", extra).loadWeights(build(3), buffersRequired)
			if _, ok := err.(*UserError); !ok || !strings.Contains(err.Error(), `"zz.weight" is not in the model`) {
				t.Errorf("checkpoint with an extra tensor: err = %v, want a user error naming zz.weight", err)
			}
		})
	}
}

// A skipmlp's forward scalings travel in the checkpoint's metadata: a
// μPC checkpoint loaded into a graph built with other scalings (standard's
// 1s) restores μPC's constants, so the loaded model computes the trained
// function; metadata naming a scaling the model lacks is refused.
func TestCheckpointRestoresScalings(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Model.Type, cfg.Model.Hidden, cfg.Model.Depth, cfg.Model.Parameterization = "skipmlp", 4, 3, "mupc"
	src, err := BuildModel[float64](&cfg, []int{16}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Init(rand.New(rand.NewPCG(1, 1)), InitName(&cfg)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mupc.safetensors")
	if err := saveCheckpoint(path, src, nil, checkpointMeta{Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	std := cfg
	std.Model.Parameterization = "standard"
	dst, err := BuildModel[float64](&std, []int{16}, 3)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := readCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ck.loadWeights(dst, buffersIfPresent); err != nil {
		t.Fatal(err)
	}
	want := src.Scalings()
	for i, s := range dst.Scalings() {
		if s.Name != want[i].Name || s.A != want[i].A {
			t.Errorf("scaling %s = %v after loading, the checkpoint's %s is %v", s.Name, s.A, want[i].Name, want[i].A)
		}
	}
	if want[0].A != 0.25 { // a_in = 1/√16
		t.Errorf("a_in = %v, want 1/√16", want[0].A)
	}
	x := tensor.New[float64](2, 16)
	for i := range x.Data {
		x.Data[i] = float64(i%7) - 3
	}
	a := slices.Clone(src.Forward(model.NewWorkspace(src), x).Data)
	if b := dst.Forward(model.NewWorkspace(dst), x).Data; !slices.Equal(a, b) {
		t.Errorf("loaded model computes %v, the saved one %v", b, a)
	}
	ck.Meta["scalings"] = `{"a_in": 0.25, "a_x": 1, "a_h.2": 1, "a_h.3": 1}`
	if err := ck.loadWeights(dst, buffersIfPresent); err == nil || !strings.Contains(err.Error(), "a_out") {
		t.Errorf("metadata without a_out: err = %v, want one naming it", err)
	}
}
