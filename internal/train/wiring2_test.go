package train

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Accuracy ties keep the first epoch that reached the best: with a
// learning rate of 1e-300 the weights never change, every epoch scores
// the same: best.safetensors is epoch 1's with a validation split, and
// without one the test-selected epoch reported beside the result is too.
func TestBestEpochTiesKeepTheFirst(t *testing.T) {
	for _, val := range []float64{0, 0.3} {
		dir := t.TempDir()
		npz := filepath.Join(dir, "d.npz")
		writeWiringNPZ(t, npz, 90, 30, 6, 0.8, 0, 5)
		cfg := config.Default()
		cfg.Method, cfg.DType = "bp", "float64"
		cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 30, Shuffle: true, ValSplit: val, Normalize: "none"}
		cfg.Model.Sizes = []int{6, 3}
		cfg.Optim = config.OptimConfig{Name: "sgd", LR: 1e-300, Schedule: "constant"}
		cfg.Train.Epochs = 3
		cfg.Train.OutDir = filepath.Join(dir, "run")
		s, err := Train(context.Background(), &cfg, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		best := s.BestEpoch
		if val == 0 {
			best = s.TestSelectedEpoch
			if s.BestEpoch != 0 {
				t.Errorf("val_split 0: a best epoch %d is offered", s.BestEpoch)
			}
		}
		if best != 1 {
			t.Errorf("val_split %g: best epoch %d, want 1 (every epoch ties)", val, best)
		}
	}
}

// seedRecorder records the Seed of every batch the trainer hands its rule.
type seedRecorder[T tensor.Float] struct {
	inner rule.Rule[T]
	seeds []uint64
}

func (s *seedRecorder[T]) Step(ctx context.Context, b *rule.Batch[T], u rule.Updater) (relax.Result, error) {
	s.seeds = append(s.seeds, b.Seed)
	return s.inner.Step(ctx, b, u)
}

// Each batch's seed (random-sign nudging draws its sign from it) is
// batchSeed of the run's seed and the global step, so the same batch of
// another epoch draws afresh, and a resumed run draws the same.
func TestBatchSeedFollowsTheStep(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 60, 30, 6, 0.8, 0, 5)
	cfg := config.Default()
	cfg.Method, cfg.DType = "pc", "float64"
	cfg.PC.Nudging, cfg.PC.Beta, cfg.PC.Steps = "random-sign", 0.1, 2
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 20, Shuffle: true, Normalize: "none"}
	cfg.Model.Sizes = []int{6, 4, 3}
	cfg.Train.Epochs, cfg.Train.Threads = 3, 1
	d, err := LoadData(&cfg, FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer[float64](&cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	rec := &seedRecorder[float64]{inner: tr.Rule}
	tr.Rule = rec
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.seeds) != 9 {
		t.Fatalf("%d batches, want 9", len(rec.seeds))
	}
	for step, s := range rec.seeds {
		if want := batchSeed(cfg.Seed, step); s != want {
			t.Errorf("step %d: seed %#x, want batchSeed(seed, %d) = %#x", step, s, step, want)
		}
	}
}

// A run writes last.safetensors (the final epoch), best.safetensors (the
// best epoch) and, with train.checkpoint_every k, epoch-N.safetensors for
// every N divisible by k, each holding epoch N's weights; and telemetry
// every train.telemetry_every steps from the first.
func TestCheckpointAndTelemetryCadence(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 60, 30, 6, 0.8, 0, 5)
	cfg := config.Default()
	cfg.Method, cfg.DType = "bp", "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 20, Shuffle: true, Normalize: "none"}
	cfg.Model.Sizes = []int{6, 3}
	cfg.Optim = config.OptimConfig{Name: "sgd", LR: 0.05, Schedule: "constant"}
	cfg.Train.Epochs, cfg.Train.CheckpointEvery, cfg.Train.TelemetryEvery = 5, 2, 4
	cfg.Train.OutDir = filepath.Join(dir, "run")
	if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(cfg.Train.OutDir, "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"epoch-2.safetensors", "epoch-4.safetensors", "last.safetensors"} // no split: no best
	if !slices.Equal(names, want) {
		t.Fatalf("checkpoints %v, want %v", names, want)
	}
	for _, c := range []struct {
		file  string
		epoch int
	}{{"epoch-2.safetensors", 2}, {"epoch-4.safetensors", 4}, {"last.safetensors", 5}} {
		_, meta, err := model.ReadSafetensors(filepath.Join(cfg.Train.OutDir, "checkpoints", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if meta["epoch"] != strconv.Itoa(c.epoch) || meta["step"] != strconv.Itoa(3*c.epoch) {
			t.Errorf("%s: epoch %s step %s, want epoch %d step %d", c.file, meta["epoch"], meta["step"], c.epoch, 3*c.epoch)
		}
	}
	raw, err := os.ReadFile(filepath.Join(cfg.Train.OutDir, "telemetry.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec Telemetry
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, rec.Step)
	}
	if want := []int{1, 5, 9, 13}; !slices.Equal(steps, want) {
		t.Errorf("telemetry at steps %v, want %v (every 4 from the first, 15 steps)", steps, want)
	}
}
