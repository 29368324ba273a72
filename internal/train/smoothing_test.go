package train

import (
	"path/filepath"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/rule"
)

// label_smoothing reaches the loss every rule trains with, for both
// losses; 0 keeps the plain one-hot target. Out-of-range values are
// refused with the key's name.
func TestLabelSmoothingReachesEveryRule(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 32, 16, 6, 0.8, 0, 5)
	for _, name := range rule.Names() {
		for _, loss := range []string{"ce", "mse"} {
			for _, e := range []float64{0, 0.25} {
				cfg := config.Default()
				cfg.Method, cfg.DType, cfg.Loss, cfg.LabelSmoothing = name, "float64", loss, e
				cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Normalize: "none"}
				cfg.Model.Sizes = []int{6, 5, 3}
				if err := cfg.Validate(); err != nil {
					t.Fatal(err)
				}
				d, err := LoadData(&cfg, FetchOptions{})
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTrainer[float64](&cfg, d)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var got float64
				switch l := tr.Loss.(type) {
				case model.CE[float64]:
					got = l.Smoothing
				case model.MSE[float64]:
					got = l.Smoothing
				default:
					t.Fatalf("%s: loss %T", name, tr.Loss)
				}
				if got != e || tr.Loss.Name() != loss {
					t.Errorf("%s %s: trainer's loss %s with smoothing %v, want %v", name, loss, tr.Loss.Name(), got, e)
				}
			}
		}
	}
	for _, e := range []float64{-0.1, 1} {
		cfg := config.Default()
		cfg.LabelSmoothing = e
		if err := cfg.Validate(); err == nil {
			t.Errorf("label_smoothing %v accepted", e)
		}
	}
}
