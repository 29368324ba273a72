package train

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
)

func tinyBPC(t *testing.T, dir string) config.Config {
	t.Helper()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZ(t, npz)
	cfg := config.Default()
	cfg.Method = "pc"
	cfg.DType = "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Normalize: "none", ValSplit: 0.2}
	cfg.Model.Sizes = []int{6, 8, 5, 3}
	cfg.PC.XLR = 0.1
	cfg.Train.Epochs = 3
	return cfg
}

// A bidirectional network with model.topdown_weight 0 trains its
// bottom-up weights exactly as pc (the whole trainer: rule, split over
// cores, optimizer, schedule, evaluation): the same checkpoint tensors
// and metrics, bit for bit, plus the top-down tensors. An α that leaked
// into the bottom-up errors, or top-down parameters that shifted the
// initialisation of the bottom-up ones, fails.
func TestBidirectionalWithZeroTopDownWeightIsPC(t *testing.T) {
	dir := t.TempDir()
	pc := tinyBPC(t, dir)
	pc.Train.OutDir = filepath.Join(dir, "pc")
	bi := pc
	bi.Model.Direction = "bidirectional"
	bi.Model.TopDownWeight = 0
	bi.Train.OutDir = filepath.Join(dir, "bpc")
	for _, c := range []*config.Config{&pc, &bi} {
		if _, err := Train(context.Background(), c, RunOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wp := readWeights(t, filepath.Join(pc.Train.OutDir, "checkpoints", "last.safetensors"))
	wb := readWeights(t, filepath.Join(bi.Train.OutDir, "checkpoints", "last.safetensors"))
	top := 0
	for name, tb := range wb {
		if strings.HasPrefix(name, "topdown.layers.") {
			top++
			continue
		}
		if !strings.HasPrefix(name, "layers.") {
			continue
		}
		if tp, ok := wp[name]; !ok || !slices.Equal(tp.F64, tb.F64) {
			t.Errorf("%s differs from pc's", name)
		}
	}
	if top != 6 {
		t.Errorf("%d top-down tensors, want 6", top)
	}
	mp, mb := readMetrics(t, pc.Train.OutDir), readMetrics(t, bi.Train.OutDir)
	for i := range mp {
		if mp[i].TrainLoss != mb[i].TrainLoss || mp[i].TestAcc != mb[i].TestAcc || mp[i].TestLoss != mb[i].TestLoss {
			t.Errorf("epoch %d: pc %+v, bidirectional %+v", i+1, mp[i], mb[i])
		}
	}
}

// A bidirectional checkpoint round-trips: every tensor (both directions)
// loads back bit for bit into a freshly built model, eval reproduces the
// run's final test metrics from it, and generate runs its top-down graph
// (the generated sample of a label is the top-down prediction chain from
// its one-hot, recomputed here from the loaded weights).
func TestBidirectionalCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyBPC(t, dir)
	cfg.Model.Direction = "bidirectional"
	cfg.Model.TopDownWeight = 0.5
	cfg.Train.OutDir = filepath.Join(dir, "run")
	if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors")
	ck, err := readCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := BuildModel[float64](&cfg, []int{6}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := ck.loadWeights(g, buffersIfPresent); err != nil {
		t.Fatal(err)
	}
	saved := readWeights(t, path)
	for _, p := range g.Params() {
		if !slices.Equal(saved[p.Name].F64, p.Value.Data) {
			t.Errorf("%s: loaded values differ from the file", p.Name)
		}
	}
	if g.TopDown == nil || len(g.Params()) != 12 {
		t.Fatalf("%d parameters, want 12 (6 per direction)", len(g.Params()))
	}
	ms := readMetrics(t, cfg.Train.OutDir)
	r, err := Eval(EvalOptions{Checkpoint: path, Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if last := ms[len(ms)-1]; r.Accuracy != last.TestAcc || r.Loss != last.TestLoss {
		t.Errorf("eval: accuracy %v loss %v, the run's last epoch %v %v", r.Accuracy, r.Loss, last.TestAcc, last.TestLoss)
	}
	imgs, err := Generate(GenerateOptions{Checkpoint: path, Labels: []int{2}, PerLabel: 1})
	if err != nil {
		t.Fatal(err)
	}
	ws := model.NewWorkspace(g.TopDown)
	oneHot := &model.Mat[float64]{}
	oneHot.Resize(1, 3)
	oneHot.Data[2] = 1
	want := g.TopDown.Forward(ws, oneHot)
	for j, p := range imgs.Pixels[0] {
		if w := min(1, max(0, want.Data[j])); p != w {
			t.Errorf("generated unit %d = %v, top-down prediction %v", j, p, w)
		}
	}
}
