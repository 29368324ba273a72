package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
)

func tinyRuleConfig(t *testing.T, dir, method, nudging string) config.Config {
	t.Helper()
	npz := filepath.Join(dir, "d.npz")
	if _, err := os.Stat(npz); err != nil {
		writeTinyNPZ(t, npz)
	}
	cfg := config.Default()
	cfg.Method, cfg.DType = method, "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, ValSplit: 0.2, Normalize: "standard"}
	cfg.Model.Sizes = []int{6, 8, 8, 3}
	cfg.Optim.LR = 0.01
	cfg.Optim.Schedule = "cosine"
	cfg.Train.Epochs = 2
	cfg.PC.Steps, cfg.PC.XLR, cfg.PC.Nudging, cfg.PC.Beta = 4, 0.1, nudging, 0.2
	return cfg
}

// newTestTrainer loads cfg's data and builds its float64 trainer.
func newTestTrainer(t *testing.T, cfg *config.Config) *Trainer[float64] {
	t.Helper()
	d, err := LoadData(cfg, FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer[float64](cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func readWeights(t *testing.T, path string) map[string]model.Tensor {
	t.Helper()
	ts, _, err := model.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// A rule that updates the weights at every inference step (iPC) splits
// across cores like one that updates once: every update is a barrier over
// the parts, so two threads end where one does, to float64 rounding (the
// batch gradient is summed in another order). So do the feedback rules,
// whose copies share B (fa, dfa) or draw the same M from the batch's seed
// (brsf). No run leaves a goroutine behind.
func TestSplitServesMultiUpdateRules(t *testing.T) {
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	for _, c := range []struct{ method, nudging string }{{"ipc", "none"}, {"ipc", "centred"}, {"pc", "centred"}, {"ipc", "random-sign"}, {"fa", "none"}, {"brsf", "none"}, {"dfa", "none"}} {
		var last [2]map[string]model.Tensor
		for k, threads := range []int{1, 2} {
			cfg := tinyRuleConfig(t, dir, c.method, c.nudging)
			cfg.Train.Threads = threads
			cfg.Train.OutDir = filepath.Join(dir, c.method+c.nudging+string(rune('0'+threads)))
			if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
				t.Fatal(err)
			}
			last[k] = readWeights(t, filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors"))
		}
		for name, a := range last[0] {
			fa, fb := a.Float64s(), last[1][name].Float64s()
			for i := range fa {
				if math.Abs(fa[i]-fb[i]) > 1e-9*(1+math.Abs(fa[i])) {
					t.Fatalf("%s/%s: %s[%d] = %v with one thread, %v with two", c.method, c.nudging, name, i, fa[i], fb[i])
				}
			}
		}
	}
	// Workers end with their run; allow the runtime a moment to reap.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before the runs, %d after", before, n)
	}
}

// iPC and nudged pc resume bit-identically after interrupts mid-epoch.
func TestNewRulesResumeBitIdentical(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ method, nudging string }{{"ipc", "none"}, {"ipc", "centred"}, {"pc", "random-sign"}, {"pc", "negative"}} {
		cfg := tinyRuleConfig(t, dir, c.method, c.nudging)
		cfg.Train.Epochs = 3
		checkResumeIdentical(t, cfg, dir, c.method+"-"+c.nudging, 9)
	}
}

// A signal inside a batch's inference stops the run within a second, and
// the checkpoint holds the last completed batch: iPC's updates of the
// stopped batch are undone. With a billion inference steps the first
// batch never completes, so the checkpoint holds the initial weights.
func TestInterruptInsideInference(t *testing.T) {
	dir := t.TempDir()
	for _, method := range []string{"pc", "ipc"} {
		for _, threads := range []int{1, 2} {
			cfg := tinyRuleConfig(t, dir, method, "none")
			cfg.PC.Steps = 1_000_000_000
			cfg.PC.XLR = 1e-4
			cfg.Train.Threads = threads
			cfg.Train.OutDir = filepath.Join(dir, method+string(rune('0'+threads)))
			d, err := LoadData(&cfg, FetchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			init, err := NewTrainer[float64](&cfg, d)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			begin := time.Now()
			_, err = Train(ctx, &cfg, RunOptions{})
			if err != ErrInterrupted {
				t.Fatalf("%s: err = %v", method, err)
			}
			if d := time.Since(begin); d > 1300*time.Millisecond {
				t.Errorf("%s/%d threads: stopped %v after start (signal at 300 ms)", method, threads, d)
			}
			got := readWeights(t, filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors"))
			for _, p := range init.G.Params() {
				g := got[p.Name].Float64s()
				for i, v := range p.Value.Data {
					if g[i] != v {
						t.Fatalf("%s/%d threads: %s[%d] = %v in the checkpoint, %v before the first batch", method, threads, p.Name, i, g[i], v)
					}
				}
			}
		}
	}
}
