package train

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
)

// writeCompletionNPZ writes 60 training and 8 test samples of 6 units in
// [0, 1], 3 classes. With other set, each test sample's second half (the
// units bottom-half hides in a vector) takes other values; everything else
// is the same bytes.
func writeCompletionNPZ(t *testing.T, path string, other bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	const d = 6
	gen := func(n int, hiddenOther bool) ([]float32, []int64) {
		x := make([]float32, n*d)
		y := make([]int64, n)
		for i := range y {
			y[i] = int64(i % 3)
			for j := range d {
				x[i*d+j] = float32(0.2 + 0.2*float64((int(y[i])+j)%3) + 0.1*rng.Float64())
			}
		}
		if hiddenOther {
			for i := range y {
				for j := d / 2; j < d; j++ {
					x[i*d+j] = float32(1 - x[i*d+j])
				}
			}
		}
		return x, y
	}
	xtr, ytr := gen(60, false)
	xte, yte := gen(8, other)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := data.WriteNPZ(f, map[string][]byte{
		"x_train": data.EncodeNPY([]int{60, d}, xtr), "y_train": data.EncodeNPY([]int{60}, ytr),
		"x_test": data.EncodeNPY([]int{8, d}, xte), "y_test": data.EncodeNPY([]int{8}, yte),
	}, []string{"x_train", "y_train", "x_test", "y_test"}); err != nil {
		t.Fatal(err)
	}
}

// Completion infers the hidden pixels from the visible ones only. Three
// identities, each with the one-line bug it catches:
//   - the completed image's visible pixels are the original's, bit for bit
//     (a completion that copied the prediction everywhere fails);
//   - the completed hidden pixels do not depend on the hidden pixels'
//     true values: two test sets that differ only there give bit-identical
//     completions (an inference that ignored the mask, clamping every
//     pixel to the truth, sees the difference);
//   - masked_mse and mean_fill_mse are means over the hidden pixels only,
//     recomputed here from the returned images and the training mean
//     (a sum over every pixel, or a count of every pixel, fails).
func TestCompleteUsesTheMaskOnly(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.npz"), filepath.Join(dir, "b.npz")
	writeCompletionNPZ(t, a, false)
	writeCompletionNPZ(t, b, true)
	cfg := config.Default()
	cfg.Method = "pc"
	cfg.Loss = "mse"
	cfg.DType = "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: a, BatchSize: 10, Shuffle: true, Normalize: "none", Direction: "generative"}
	cfg.Model.Sizes = []int{3, 8, 6}
	cfg.Model.Activation = "tanh"
	cfg.Train.Epochs = 2
	cfg.Train.OutDir = filepath.Join(dir, "run")
	cfg.Eval.XLR = 0.05
	if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors")
	complete := func(path string) *Completion {
		c := cfg
		c.Data.Path = path
		res, err := Complete(CompleteOptions{Checkpoint: ck, Config: &c, Mask: Mask{Kind: "bottom-half"}, N: 8, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ra, rb := complete(a), complete(b)
	if ra.MaskedPixels != 8*3 {
		t.Fatalf("%d masked pixels, want 24 (8 samples × the last 3 of 6 units)", ra.MaskedPixels)
	}
	// Training mean image, from the npz's training samples.
	arrs, err := data.ReadNPZ(a)
	if err != nil {
		t.Fatal(err)
	}
	mean := make([]float64, 6)
	xtr := arrs["x_train"].F32
	for i, v := range xtr {
		mean[i%6] += float64(v) / 60
	}
	var sq, sqMean float64
	for i := range ra.Original {
		for j := range 6 {
			o, c := ra.Original[i][j], ra.Completed[i][j]
			if j < 3 {
				if c != o {
					t.Errorf("sample %d, visible unit %d: completed %v, original %v; want them equal", i, j, c, o)
				}
				if rb.Completed[i][j] != rb.Original[i][j] {
					t.Errorf("second set, sample %d, visible unit %d changed", i, j)
				}
				continue
			}
			if c != rb.Completed[i][j] {
				t.Errorf("sample %d, hidden unit %d: completed %v, but %v when only the hidden truth differs; the completion saw the hidden pixels", i, j, c, rb.Completed[i][j])
			}
			if ra.Masked[i][j] != 0.5 {
				t.Errorf("sample %d, hidden unit %d shown as %v in the masked image, want 0.5", i, j, ra.Masked[i][j])
			}
			sq += (c - o) * (c - o)
			sqMean += (mean[j] - o) * (mean[j] - o)
		}
	}
	if want := sq / 24; math.Abs(ra.MaskedMSE-want) > 1e-12 || want == 0 {
		t.Errorf("masked MSE %v, want %v (over the hidden pixels)", ra.MaskedMSE, want)
	}
	if want := sqMean / 24; math.Abs(ra.MeanFillMSE-want) > 1e-6*want {
		t.Errorf("mean-fill MSE %v, want %v (over the hidden pixels)", ra.MeanFillMSE, want)
	}
}
