package train

import (
	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/tensor"
)

// EvalOptions are the eval command's inputs.
type EvalOptions struct {
	Checkpoint string
	// Config, when non-nil, describes model and data instead of the
	// checkpoint's own config (for checkpoints written elsewhere).
	Config *config.Config
	Split  string
	Fetch  FetchOptions
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
	g, err := BuildModel[T](cfg, d.Shape, d.Classes)
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
	r := t.Evaluate(opts.Split)
	return &r, nil
}
