package train

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
)

// optim.eps reaches Adam: its first step moves every weight with a
// non-zero gradient by lr·g/(|g| + ε) (bias correction makes m̂ = g and
// √v̂ = |g|), so with the default ε = 1e-8 each moves by ≈ lr, and with
// ε = 1e6 by ≈ lr·|g|/1e6, a millionth of that.
func TestOptimEpsReachesAdam(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 64, 16, 6, 0.8, 0, 5)
	move := func(eps float64) float64 {
		cfg := config.Default()
		cfg.Method, cfg.DType = "bp", "float64"
		cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 64, Normalize: "none"}
		cfg.Model.Sizes = []int{6, 3}
		cfg.Optim = config.OptimConfig{Name: "adam", LR: 0.01, Eps: eps, Schedule: "constant"}
		cfg.Train.Epochs, cfg.Train.MaxSteps, cfg.Train.Threads = 1, 1, 1
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		d, err := LoadData(&cfg, FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer[float64](&cfg, d)
		if err != nil {
			t.Fatal(err)
		}
		w := tr.G.Params()[0].Value.Data
		before := append([]float64(nil), w...)
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		m := 0.0
		for i := range w {
			m = math.Max(m, math.Abs(w[i]-before[i]))
		}
		return m
	}
	def, big := move(1e-8), move(1e6)
	if math.Abs(def-0.01) > 1e-6 {
		t.Errorf("ε = 1e-8: largest first-step move %g, want lr = 0.01", def)
	}
	if big > 1e-6*def || big == 0 {
		t.Errorf("ε = 1e6: largest first-step move %g, want about a millionth of %g (ε not passed to the optimizer?)", big, def)
	}
}

// optim.eps defaults to Adam's usual 1e-8 (the value that was hard-coded,
// so earlier runs keep their numbers) and must be a finite number > 0.
func TestOptimEpsDefaultAndRange(t *testing.T) {
	if e := config.Default().Optim.Eps; e != 1e-8 {
		t.Errorf("default optim.eps %g, want 1e-8", e)
	}
	for _, v := range []string{"0", "-1e-8", ".inf", ".nan"} {
		if _, err := config.Load(config.Sources{Sets: []string{"optim.eps=" + v}}); err == nil {
			t.Errorf("optim.eps=%s accepted", v)
		}
	}
}
