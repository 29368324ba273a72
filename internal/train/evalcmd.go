package train

import (
	"encoding/json"
	"path/filepath"
	"strconv"

	"github.com/pctrain/pctrain/internal/config"
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
	r := t.Evaluate(opts.Split)
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
