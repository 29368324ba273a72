package train

import (
	"encoding/json"
	"path/filepath"
	"strconv"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// EvalOptions are the eval command's inputs.
type EvalOptions struct {
	Checkpoint string
	// Config, when non-nil, describes model and data instead of the
	// checkpoint's own config (for checkpoints written elsewhere).
	Config *config.Config
	// Sets are key=value overrides of the checkpoint's config (when
	// Config is nil).
	Sets  []string
	Split string
	// NPZ, when set, is evaluated instead of a split: an .npz holding
	// `images` (N samples of the data's shape, pixel intensities in
	// [0, 1], as pctrain generate --npz writes) and integer `labels`. The
	// samples get the checkpoint's data normalisation, so a classifier
	// judges generated images as it would judge test images.
	NPZ   string
	Fetch FetchOptions
}

// Eval evaluates a checkpoint on a split.
func Eval(opts EvalOptions) (*EvalResult, error) {
	ck, err := readCheckpoint(opts.Checkpoint)
	if err != nil {
		return nil, err
	}
	cfg := opts.Config
	if cfg == nil {
		if cfg, err = ck.config(); err != nil {
			return nil, err
		}
		if len(opts.Sets) > 0 {
			if cfg, err = cfg.With(opts.Sets, "--set"); err != nil {
				return nil, err
			}
			if err := rule.Check(cfg, "--set"); err != nil {
				return nil, err
			}
		}
	}
	if cfg.DType == "float64" {
		return evalT[float64](ck, cfg, opts)
	}
	return evalT[float32](ck, cfg, opts)
}

func evalT[T tensor.Float](ck *loadedCheckpoint, cfg *config.Config, opts EvalOptions) (*EvalResult, error) {
	d, err := LoadData(cfg, opts.Fetch)
	if err != nil {
		return nil, err
	}
	if opts.Split == "val" && d.Val.Len() == 0 {
		return nil, userErr("--split val: the config has no validation split (data.val_split is 0)")
	}
	g, err := buildFor[T](cfg, d)
	if err != nil {
		return nil, userErr("%v", err)
	}
	t, err := newTrainerFor(cfg, d, g)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if err := ck.loadWeights(g, buffersIfPresent); err != nil {
		return nil, err
	}
	if ge, ok := t.eval.(*genEvaluator[T]); ok {
		ge.limit = 0 // eval infers the whole split
	}
	var r EvalResult
	if opts.NPZ != "" {
		ds, err := readImagesNPZ(opts.NPZ, d)
		if err != nil {
			return nil, err
		}
		r = t.eval.run(data.All(ds), "npz", d.Classes)
	} else {
		r = t.Evaluate(opts.Split)
	}
	r.Epoch, r.SelectedBy = ck.selection()
	return &r, nil
}

// selection says which epoch a checkpoint holds and how it was chosen:
// "val_acc" for a best.safetensors chosen by validation accuracy,
// "test_acc" for one an older pctrain chose by test accuracy (with no
// validation split), "" for any other checkpoint.
func (c *loadedCheckpoint) selection() (epoch int, by string) {
	epoch, _ = strconv.Atoi(c.Meta["epoch"])
	if s, ok := c.Meta["selected_by"]; ok {
		return epoch, s
	}
	var b bestState
	if filepath.Base(c.Path) == "best.safetensors" && json.Unmarshal([]byte(c.Meta["best"]), &b) == nil && b.Epoch == epoch && b.Epoch > 0 {
		return epoch, b.Metric
	}
	return epoch, ""
}

// readImagesNPZ reads an .npz of `images` in [0, 1] and `labels` as a
// dataset shaped like d's samples, in d's raw units (×255 for byte data),
// so d's normalisation applies to it as to the test split.
func readImagesNPZ(path string, d *Data) (*data.Dataset, error) {
	arrs, err := data.ReadNPZ(path)
	if err != nil {
		return nil, userErr("--npz %s: %v", path, err)
	}
	imgs, okI := arrs["images"]
	labels, okL := arrs["labels"]
	if !okI || !okL {
		return nil, userErr("--npz %s: needs the arrays images and labels (as pctrain generate --npz writes)", path)
	}
	n := len(labels.Int) + len(labels.U8)
	size := 1
	for _, s := range d.Shape {
		size *= s
	}
	vals := make([]float64, 0, len(imgs.F32)+len(imgs.F64))
	for _, v := range imgs.F32 {
		vals = append(vals, float64(v))
	}
	vals = append(vals, imgs.F64...)
	if len(vals) != n*size || n == 0 {
		return nil, userErr("--npz %s: %d image values for %d labels; want %d float values per sample (shape %v)", path, len(vals), n, size, d.Shape)
	}
	scale := 1.0
	if d.Train.DS != nil && d.Train.DS.U8 != nil {
		scale = 255
	}
	ds := &data.Dataset{Shape: d.Shape, F64: vals, Labels: make([]int32, n), Classes: d.Classes}
	for i := range vals {
		vals[i] *= scale
	}
	for i := range n {
		var l int64
		if labels.Int != nil {
			l = labels.Int[i]
		} else {
			l = int64(labels.U8[i])
		}
		if l < 0 || int(l) >= d.Classes {
			return nil, userErr("--npz %s: label %d of sample %d is outside 0..%d", path, l, i, d.Classes-1)
		}
		ds.Labels[i] = int32(l)
	}
	return ds, nil
}
