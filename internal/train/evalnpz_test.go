package train

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
)

// eval --npz judges images in [0, 1] as the classifier judges its own test
// split: the test images of a byte dataset, written as intensities ÷255
// with their labels, give the test split's confusion matrix and (to
// rounding) its loss. An --npz path that skipped the data's scale (×255
// back to raw bytes) or its standardisation would see other inputs.
func TestEvalNPZMatchesTheTestSplit(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	const d = 8
	gen := func(n int) ([]uint8, []int64) {
		x := make([]uint8, n*d)
		y := make([]int64, n)
		for i := range y {
			y[i] = int64(i % 3)
			for j := range d {
				x[i*d+j] = uint8(min(255, 40*((int(y[i])+j)%3)+rng.IntN(120)))
			}
		}
		return x, y
	}
	xtr, ytr := gen(90)
	xte, yte := gen(30)
	path := filepath.Join(dir, "u8.npz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNPZ(f, map[string][]byte{
		"x_train": data.EncodeNPY([]int{90, d}, xtr), "y_train": data.EncodeNPY([]int{90}, ytr),
		"x_test": data.EncodeNPY([]int{30, d}, xte), "y_test": data.EncodeNPY([]int{30}, yte),
	}, []string{"x_train", "y_train", "x_test", "y_test"}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg := config.Default()
	cfg.Method = "bp"
	cfg.DType = "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: path, BatchSize: 10, Shuffle: true, Normalize: "standard"}
	cfg.Model.Sizes = []int{d, 6, 3}
	cfg.Train.Epochs = 2
	cfg.Train.OutDir = filepath.Join(dir, "run")
	if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors")
	want, err := Eval(EvalOptions{Checkpoint: ck, Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([]float32, len(xte))
	for i, b := range xte {
		imgs[i] = float32(b) / 255
	}
	gen2 := filepath.Join(dir, "generated.npz")
	g, err := os.Create(gen2)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNPZ(g, map[string][]byte{"images": data.EncodeNPY([]int{30, d}, imgs), "labels": data.EncodeNPY([]int{30}, yte)}, []string{"images", "labels"}); err != nil {
		t.Fatal(err)
	}
	g.Close()
	got, err := Eval(EvalOptions{Checkpoint: ck, NPZ: gen2})
	if err != nil {
		t.Fatal(err)
	}
	if got.Samples != 30 || got.Accuracy != want.Accuracy || !slices.EqualFunc(got.Confusion, want.Confusion, slices.Equal) {
		t.Errorf("--npz: %d samples, accuracy %v, confusion %v; the test split: accuracy %v, confusion %v", got.Samples, got.Accuracy, got.Confusion, want.Accuracy, want.Confusion)
	}
	if math.Abs(got.Loss-want.Loss) > 1e-6*want.Loss {
		t.Errorf("--npz loss %v, test split %v", got.Loss, want.Loss)
	}
	if _, err := Eval(EvalOptions{Checkpoint: ck, NPZ: path}); err == nil {
		t.Error("an .npz without images and labels was accepted")
	}
}
