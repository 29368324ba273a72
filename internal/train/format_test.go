package train

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
)

// Checkpoints keep PyTorch's layout, on read and on write. A linear model's
// weight W is built here as a safetensors file by hand, shape [out, in] =
// [3, 6], row o holding output o's weights. Loaded with model.init_from, the
// model's test loss equals the loss computed here from x·Wᵀ + b (the read
// layout). After a run whose steps cannot move a float64 weight (lr
// 1e-300), last.safetensors holds, byte for byte, the same header shape
// [3, 6] and the same row-major little-endian values (the write layout).
func TestCheckpointLayoutIsOutIn(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 60, 30, 6, 1.5, 0, 13)
	W := make([]float64, 18)
	for i := range W {
		W[i] = 0.1*float64(i%7) - 0.25
	}
	b := []float64{0.3, -0.1, 0.05}
	hj := `{"layers.0.weight":{"dtype":"F64","shape":[3,6],"data_offsets":[0,144]},"layers.0.bias":{"dtype":"F64","shape":[3],"data_offsets":[144,168]}}`
	file := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	file = append(file, hj...)
	for _, v := range append(slices.Clone(W), b...) {
		file = binary.LittleEndian.AppendUint64(file, math.Float64bits(v))
	}
	init := filepath.Join(dir, "init.safetensors")
	if err := os.WriteFile(init, file, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Method, cfg.DType, cfg.Loss = "bp", "float64", "mse"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 20, Normalize: "none"}
	cfg.Model.Sizes = []int{6, 3}
	cfg.Model.InitFrom = init
	cfg.Optim = config.OptimConfig{Name: "sgd", LR: 1e-300, Schedule: "constant"}
	cfg.Train.Epochs = 1
	d, err := LoadData(&cfg, FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer[float64](&cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := data.LoadNPZ(npz)
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for i := 0; i < test.N(); i++ {
		for o := 0; o < 3; o++ {
			s := b[o]
			for j := 0; j < 6; j++ {
				s += W[o*6+j] * float64(test.F64[i*6+j])
			}
			y := 0.0
			if int(test.Labels[i]) == o {
				y = 1
			}
			want += 0.5 * (s - y) * (s - y)
		}
	}
	want /= float64(test.N())
	if got := tr.Evaluate("test").Loss; math.Abs(got-want) > 1e-12*want {
		t.Fatalf("test loss after init_from %g, from x·Wᵀ + b with W [out, in] %g", got, want)
	}
	cfg.Train.OutDir = filepath.Join(dir, "run")
	if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	hl := binary.LittleEndian.Uint64(raw)
	hdr := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw[8:8+hl], &hdr); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if err := json.Unmarshal(hdr["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pctrain-checkpoint" || meta["format_version"] != "1" {
		t.Errorf("metadata format %q version %q", meta["format"], meta["format_version"])
	}
	type entry struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets []int  `json:"data_offsets"`
	}
	body := raw[8+hl:]
	for name, vals := range map[string][]float64{"layers.0.weight": W, "layers.0.bias": b} {
		var e entry
		if err := json.Unmarshal(hdr[name], &e); err != nil || len(e.Offsets) != 2 {
			t.Fatalf("%s: header entry %s (%v)", name, hdr[name], err)
		}
		wantShape := []int{3, 6}
		if name == "layers.0.bias" {
			wantShape = []int{3}
		}
		if e.DType != "F64" || !slices.Equal(e.Shape, wantShape) || e.Offsets[1]-e.Offsets[0] != 8*len(vals) {
			t.Fatalf("%s: header %+v, want F64 shape %v", name, e, wantShape)
		}
		for i, v := range vals {
			if got := math.Float64frombits(binary.LittleEndian.Uint64(body[e.Offsets[0]+8*i:])); got != v {
				t.Fatalf("%s[%d] = %g in the file, want %g (row-major [out, in])", name, i, got, v)
			}
		}
	}
}
