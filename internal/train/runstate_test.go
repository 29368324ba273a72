package train

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
)

// tinyRun is a 7-batch-per-epoch bp run on writeTinyNPZ's data.
func tinyRun(t *testing.T, dir string) config.Config {
	t.Helper()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZ(t, npz)
	cfg := config.Default()
	cfg.Method = "bp"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Normalize: "none"}
	cfg.Model.Sizes = []int{6, 8, 3}
	cfg.Train.Epochs = 4
	return cfg
}

// The divergence message says a checkpoint is kept only when one is, and
// then names it: a run that diverges in its first epoch has written none.
func TestDivergenceMessageNamesTheKeptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	base := tinyRun(t, dir)
	for _, c := range []struct {
		name     string
		poisoned int // the step whose loss becomes NaN (0-based)
		kept     int // steps in the kept checkpoint; -1: none
	}{{"first epoch", 3, -1}, {"third epoch", 17, 14}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			cfg.Train.OutDir = filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			_, err := Train(context.Background(), &cfg, RunOptions{poison: func(step int) bool { return step == c.poisoned }})
			var de *DivergedError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a DivergedError", err)
			}
			last := filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors")
			msg := err.Error()
			if c.kept < 0 {
				if _, err := os.Stat(last); err == nil {
					t.Fatalf("%s exists: the case is wrong", last)
				}
				if strings.Contains(msg, "checkpoint is kept") || strings.Contains(msg, "checkpoint, ") || !strings.Contains(msg, "no checkpoint had been written") {
					t.Errorf("message %q: no checkpoint exists, it must say so", msg)
				}
				return
			}
			ck, err := readCheckpoint(last)
			if err != nil {
				t.Fatal(err)
			}
			if ck.Meta["step"] != "14" {
				t.Fatalf("last checkpoint after step %s, want 14", ck.Meta["step"])
			}
			if !strings.Contains(msg, "the last good checkpoint, "+last+" after step 14, is kept") {
				t.Errorf("message %q does not name %s after step 14", msg, last)
			}
		})
	}
}

// summary.json's training seconds are the sum of every epoch's seconds in
// metrics.jsonl, and its wall time at least that, however many segments
// (interrupt, resume) the run took.
func TestSummaryTimesCountEverySegment(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyRun(t, dir)
	// Batches long enough (~5 ms) that training, not writing checkpoints,
	// takes most of the run's time.
	cfg.Method, cfg.PC.Steps, cfg.Model.Sizes = "pc", 50, []int{6, 256, 256, 3}
	cfg.Train.OutDir = filepath.Join(dir, "run")
	// Three segments: stop inside epoch 2 and inside epoch 4, leaving a
	// last segment of 4 of the 28 batches (so its time alone is less than
	// the run's training time).
	for _, at := range []int{10, 14} {
		ctx, cancel := context.WithCancel(context.Background())
		c := &cfg
		opts := RunOptions{Reporter: &cancelAt{at: at, cancel: cancel}}
		if at != 10 {
			rc, err := ResumeConfig(cfg.Train.OutDir)
			if err != nil {
				t.Fatal(err)
			}
			c, opts.Resume = rc, cfg.Train.OutDir
		}
		if _, err := Train(ctx, c, opts); err != ErrInterrupted {
			t.Fatalf("err = %v, want ErrInterrupted", err)
		}
		cancel()
	}
	rc, _ := ResumeConfig(cfg.Train.OutDir)
	s, err := Train(context.Background(), rc, RunOptions{Resume: cfg.Train.OutDir})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(cfg.Train.OutDir, "metrics.jsonl"))
	var sum float64
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	for _, l := range lines {
		var m EpochMetrics
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		sum += m.Seconds
	}
	if len(lines) != 4 || sum <= 0 {
		t.Fatalf("%d epochs, %g s", len(lines), sum)
	}
	if s.TrainSeconds != sum {
		t.Errorf("train_seconds %g, the epochs' seconds sum to %g", s.TrainSeconds, sum)
	}
	if s.WallSeconds < sum {
		t.Errorf("wall_seconds %g is less than the training time %g", s.WallSeconds, sum)
	}
	var onDisk Summary
	raw, _ = os.ReadFile(filepath.Join(cfg.Train.OutDir, "summary.json"))
	if err := json.Unmarshal(raw, &onDisk); err != nil || onDisk.TrainSeconds != s.TrainSeconds || onDisk.WallSeconds != s.WallSeconds {
		t.Errorf("summary.json %+v (%v) disagrees with the returned summary", onDisk, err)
	}
}
