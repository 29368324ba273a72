package train

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/tensor"
)

// The trainer crops every training batch afresh: the offsets differ from
// batch to batch within an epoch and between the same batch of two epochs,
// and every row is its own sample shifted by at most data.crop_padding.
// Each pixel of sample i holds 1000·i + k + 1 (k its row-major index), so
// the centre of a cropped 5×5 image names both the sample and the offset.
func TestTrainerDrawsFreshCropsPerBatch(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "img.npz")
	const n, hw = 60, 25
	x := make([]float64, n*hw)
	y := make([]int64, n)
	for i := 0; i < n; i++ {
		y[i] = int64(i % 3)
		for k := 0; k < hw; k++ {
			x[i*hw+k] = float64(1000*i + k + 1)
		}
	}
	f, err := os.Create(npz)
	if err != nil {
		t.Fatal(err)
	}
	data.WriteNPZ(f, map[string][]byte{
		"x_train": data.EncodeNPY([]int{n, 1, 5, 5}, x), "y_train": data.EncodeNPY([]int{n}, y),
		"x_test": data.EncodeNPY([]int{n, 1, 5, 5}, x), "y_test": data.EncodeNPY([]int{n}, y),
	}, []string{"x_train", "y_train", "x_test", "y_test"})
	f.Close()
	cfg := config.Default()
	cfg.Method, cfg.DType, cfg.Loss = "bp", "float64", "mse"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 20, Shuffle: true, CropPadding: 1, Normalize: "none"}
	cfg.Model.Sizes = []int{25, 3}
	cfg.Optim = config.OptimConfig{Name: "sgd", LR: 1e-300, Schedule: "constant"}
	cfg.Train.Epochs, cfg.Train.Threads = 2, 1
	d, err := LoadData(&cfg, FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer[float64](&cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	var offsets [][]int // per step, dy·3+dx per row
	tr.Hooks.AfterGrad = func(step int, xb *tensor.Mat[float64], labels []int) {
		var o []int
		for r := 0; r < xb.Rows; r++ {
			c := int(xb.Row(r)[2*5+2])
			i, k := (c-1)/1000, (c-1)%1000
			dy, dx := k/5-2, k%5-2
			if i < 0 || i >= n || dy < -1 || dy > 1 || dx < -1 || dx > 1 || labels[r] != i%3 {
				t.Fatalf("step %d row %d: centre %d is no sample's pixel within ±1 of the centre (label %d)", step, r, c, labels[r])
			}
			// The whole image is sample i shifted by (dy, dx), black outside.
			for a := 0; a < 5; a++ {
				for b := 0; b < 5; b++ {
					want := 0.0
					if sa, sb := a+dy, b+dx; sa >= 0 && sa < 5 && sb >= 0 && sb < 5 {
						want = float64(1000*i + sa*5 + sb + 1)
					}
					if got := xb.Row(r)[a*5+b]; got != want {
						t.Fatalf("step %d row %d: pixel (%d, %d) = %g, want %g (sample %d, offset %d, %d)", step, r, a, b, got, want, i, dy, dx)
					}
				}
			}
			o = append(o, (dy+1)*3+dx+1)
		}
		offsets = append(offsets, o)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(offsets) != 6 {
		t.Fatalf("%d steps, want 6", len(offsets))
	}
	for s, o := range offsets {
		if !slices.ContainsFunc(o, func(v int) bool { return v != 4 }) {
			t.Errorf("step %d: no row was shifted", s)
		}
		for s2 := 0; s2 < s; s2++ {
			if slices.Equal(o, offsets[s2]) {
				t.Errorf("steps %d and %d drew the same offsets for every row", s2+1, s+1)
			}
		}
	}
}
