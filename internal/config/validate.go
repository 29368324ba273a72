package config

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
)

// Validate checks every field and returns all problems in one error, each
// naming its key.
func (c *Config) Validate() error {
	ps := c.problems()
	if len(ps) == 0 {
		return nil
	}
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.text
	}
	return fmt.Errorf("%s", strings.Join(texts, "; "))
}

// problem is one invalid setting: its key and the message, which starts
// with the key.
type problem struct{ key, text string }

// maxThreads bounds train.threads whatever the machine: each thread holds
// a copy of the model's buffers.
const maxThreads = 1024

func (c *Config) problems() []problem {
	var p []problem
	bad := func(key, format string, args ...any) {
		p = append(p, problem{key, key + ": " + fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, val string, valid []string) {
		if !slices.Contains(valid, val) {
			bad(key, "%q is not one of %s", val, strings.Join(valid, ", "))
		}
	}
	// method and the keys only it reads are checked by its rule
	// (rule.Check), which knows the registered names.
	if c.Method == "" {
		bad("method", "is empty")
	}
	oneOf("dtype", c.DType, []string{"float32", "float64"})
	oneOf("loss", c.Loss, []string{"ce", "mse"})
	if !(c.Model.Dropout >= 0 && c.Model.Dropout < 1) {
		bad("model.dropout", "must be in [0, 1) (got %v)", c.Model.Dropout)
	}
	if !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1) {
		bad("label_smoothing", "must be in [0, 1) (got %v)", c.LabelSmoothing)
	}
	oneOf("data.name", c.Data.Name, []string{"mnist", "fashion-mnist", "cifar10", "npz"})
	if c.Data.CropPadding < 0 {
		bad("data.crop_padding", "must be ≥ 0 (got %d)", c.Data.CropPadding)
	}
	if c.Data.Name == "npz" && c.Data.Path == "" {
		bad("data.path", "required when data.name is npz")
	}
	if c.Data.BatchSize < 1 {
		bad("data.batch_size", "must be ≥ 1 (got %d)", c.Data.BatchSize)
	}
	if c.Data.ValSplit < 0 || c.Data.ValSplit >= 1 {
		bad("data.val_split", "must be in [0, 1) (got %g)", c.Data.ValSplit)
	}
	oneOf("data.normalize", c.Data.Normalize, []string{"auto", "none", "scale", "standard"})
	oneOf("model.type", c.Model.Type, []string{"mlp", "cnn", "vgg5", "graph", "rnn", "lstm", "resmlp", "skipmlp"})
	if len(c.Model.Vertices) > 0 && c.Model.Type != "graph" {
		bad("model.vertices", "is for model.type graph")
	}
	if c.Model.Hidden < 1 {
		bad("model.hidden", "must be ≥ 1 (got %d)", c.Model.Hidden)
	}
	if c.Model.Steps < 1 {
		bad("model.steps", "must be ≥ 1 (got %d)", c.Model.Steps)
	}
	if c.Model.Depth < 1 {
		bad("model.depth", "must be ≥ 1 (got %d)", c.Model.Depth)
	}
	oneOf("model.parameterization", c.Model.Parameterization, []string{"standard", "mupc"})
	if c.Model.Parameterization == "mupc" && c.Model.Type != "skipmlp" {
		bad("model.parameterization", "mupc is for model.type skipmlp (got model.type %s)", c.Model.Type)
	}
	if c.Model.Blocks < 0 {
		bad("model.blocks", "must be ≥ 0 (got %d)", c.Model.Blocks)
	}
	switch c.Model.Type {
	case "graph":
		if _, err := c.VertexSpecs(); err != nil {
			p = append(p, problem{"model.vertices", err.Error()})
		}
	case "cnn":
		if _, err := c.LayerSpecs(); err != nil {
			p = append(p, problem{"model.layers", err.Error()})
		}
	case "mlp":
		if len(c.Model.Layers) > 0 {
			bad("model.layers", "is for model.type cnn; an mlp is described by model.sizes")
		}
	default:
		if len(c.Model.Layers) > 0 {
			bad("model.layers", "must be empty for model.type %s (the preset defines them)", c.Model.Type)
		}
	}
	if c.Model.Type == "mlp" {
		if len(c.Model.Sizes) < 2 {
			bad("model.sizes", "needs at least an input and an output size (got %v)", c.Model.Sizes)
		}
		for i, s := range c.Model.Sizes {
			if s < 1 {
				bad("model.sizes", "entry %d is %d; sizes must be ≥ 1", i, s)
				break
			}
		}
		if len(c.Model.Sizes) >= 2 && c.Model.Sizes[len(c.Model.Sizes)-1] < 2 {
			bad("model.sizes", "the output size is the number of classes and must be ≥ 2")
		}
	}
	oneOf("model.activation", c.Model.Activation, model.ActivationNames())
	oneOf("model.init", c.Model.Init, model.InitNames())
	if c.PC.Steps < 0 {
		bad("pc.steps", "must be ≥ 0 (got %d)", c.PC.Steps)
	}
	if c.PC.XMomentum < 0 || c.PC.XMomentum >= 1 {
		bad("pc.x_momentum", "must be in [0, 1) (got %g)", c.PC.XMomentum)
	}
	if c.PC.EnergyGrowthLimit < 0 || (c.PC.EnergyGrowthLimit > 0 && c.PC.EnergyGrowthLimit <= 1) {
		bad("pc.energy_growth_limit", "must be > 1, or 0 to disable (got %g)", c.PC.EnergyGrowthLimit)
	}
	oneOf("pc.nudging", c.PC.Nudging, NudgingModes)
	oneOf("zil.schedule", c.ZIL.Schedule, []string{"sequential", "parallel"})
	if c.ZIL.Gamma <= 0 {
		bad("zil.gamma", "must be > 0 (got %g)", c.ZIL.Gamma)
	}
	oneOf("optim.name", c.Optim.Name, optim.Names())
	if c.Optim.LR <= 0 {
		bad("optim.lr", "must be > 0 (got %g)", c.Optim.LR)
	}
	if c.Optim.Momentum < 0 || c.Optim.Momentum >= 1 {
		bad("optim.momentum", "must be in [0, 1) (got %g)", c.Optim.Momentum)
	}
	if c.Optim.Nesterov && c.Optim.Momentum == 0 {
		bad("optim.nesterov", "needs optim.momentum > 0")
	}
	if c.Optim.WeightDecay < 0 {
		bad("optim.weight_decay", "must be ≥ 0 (got %g)", c.Optim.WeightDecay)
	}
	if !(c.Optim.Eps > 0) || math.IsInf(c.Optim.Eps, 0) {
		bad("optim.eps", "must be a finite number > 0 (got %g)", c.Optim.Eps)
	}
	oneOf("optim.schedule", c.Optim.Schedule, optim.ScheduleNames())
	// With optim.lr ≤ 0 already reported, min_lr has no valid range to
	// report against.
	if c.Optim.MinLR < 0 || (c.Optim.LR > 0 && c.Optim.MinLR > c.Optim.LR) {
		bad("optim.min_lr", "must be in [0, optim.lr] (got %g)", c.Optim.MinLR)
	}
	if c.Optim.WarmupSteps < 0 {
		bad("optim.warmup_steps", "must be ≥ 0 (got %d)", c.Optim.WarmupSteps)
	}
	if c.Train.Epochs < 1 {
		bad("train.epochs", "must be ≥ 1 (got %d)", c.Train.Epochs)
	}
	if c.Train.MaxSteps < 0 {
		bad("train.max_steps", "must be ≥ 0 (got %d)", c.Train.MaxSteps)
	}
	if c.Train.Threads < 0 || c.Train.Threads > maxThreads {
		bad("train.threads", "must be in [0, %d] (got %d; 0 means every core)", maxThreads, c.Train.Threads)
	}
	if c.Train.TelemetryEvery < 0 {
		bad("train.telemetry_every", "must be ≥ 0 (got %d)", c.Train.TelemetryEvery)
	}
	if !(c.Train.LogEveryS >= 0) || math.IsInf(c.Train.LogEveryS, 0) {
		bad("train.log_every_s", "must be a finite number ≥ 0, 0 for no progress lines (got %g)", c.Train.LogEveryS)
	}
	if c.Train.CheckpointEvery < 0 {
		bad("train.checkpoint_every", "must be ≥ 0 (got %d)", c.Train.CheckpointEvery)
	}
	c.generativeProblems(bad)
	return p
}

// LayerSpecs parses model.layers.
func (c *Config) LayerSpecs() ([]model.LayerSpec, error) {
	if len(c.Model.Layers) == 0 {
		return nil, fmt.Errorf("model.layers: a cnn needs a layer list, e.g. [{conv: {out: 32, kernel: 3, padding: 1}}, {act: gelu}, {maxpool: 2}, {flatten: {}}, {dense: {out: 10}}]")
	}
	var out []model.LayerSpec
	for i, entry := range c.Model.Layers {
		where := fmt.Sprintf("model.layers[%d]", i)
		if len(entry) != 1 {
			return nil, fmt.Errorf("%s: each entry has exactly one key (conv, act, maxpool, avgpool, flatten, dense), got %d", where, len(entry))
		}
		for kind, v := range entry {
			s, err := layerSpec(kind, v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", where, kind, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func layerSpec(kind string, v any) (model.LayerSpec, error) {
	s := model.LayerSpec{Kind: kind}
	fields := func(allowed ...string) (map[string]int, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want a mapping of %s, got %v", strings.Join(allowed, ", "), v)
		}
		out := map[string]int{}
		for k, raw := range m {
			if !slices.Contains(allowed, k) {
				return nil, fmt.Errorf("unknown field %q (valid: %s)", k, strings.Join(allowed, ", "))
			}
			n, ok := raw.(int)
			if !ok || n < 0 {
				return nil, fmt.Errorf("%s must be a non-negative integer, got %v", k, raw)
			}
			out[k] = n
		}
		return out, nil
	}
	switch kind {
	case "conv":
		f, err := fields("out", "kernel", "stride", "padding")
		if err != nil {
			return s, err
		}
		if f["out"] < 1 || f["kernel"] < 1 {
			return s, fmt.Errorf("out and kernel are required and ≥ 1")
		}
		s.Out, s.Kernel, s.Stride, s.Padding = f["out"], f["kernel"], f["stride"], f["padding"]
		if _, set := f["stride"]; set && s.Stride < 1 {
			return s, fmt.Errorf("stride must be ≥ 1")
		}
	case "dense":
		f, err := fields("out")
		if err != nil {
			return s, err
		}
		if s.Out = f["out"]; s.Out < 1 {
			return s, fmt.Errorf("out is required and ≥ 1")
		}
	case "act":
		name, ok := v.(string)
		if !ok {
			return s, fmt.Errorf("want an activation name (%s)", strings.Join(model.ActivationNames(), ", "))
		}
		if _, err := model.LookupActivation(name); err != nil {
			return s, err
		}
		s.Activation = name
	case "maxpool", "avgpool":
		if n, ok := v.(int); ok {
			s.Kernel = n
		} else {
			f, err := fields("kernel", "stride")
			if err != nil {
				return s, err
			}
			s.Kernel, s.Stride = f["kernel"], f["stride"]
		}
		if s.Kernel < 1 {
			return s, fmt.Errorf("kernel must be ≥ 1")
		}
	case "flatten":
		if m, ok := v.(map[string]any); v != nil && (!ok || len(m) > 0) {
			return s, fmt.Errorf("takes no settings: write {flatten: {}}")
		}
	default:
		return s, fmt.Errorf("unknown layer (valid: conv, act, maxpool, avgpool, flatten, dense)")
	}
	return s, nil
}

// VertexSpecs parses model.vertices.
func (c *Config) VertexSpecs() ([]model.VertexSpec, error) {
	if len(c.Model.Vertices) == 0 {
		return nil, fmt.Errorf("model.vertices: a graph needs vertices, e.g. [{name: h1, op: dense, in: [input], out: 128}, {name: out, op: dense, in: [h1], out: 10, act: gelu}]")
	}
	var out []model.VertexSpec
	for i, m := range c.Model.Vertices {
		where := fmt.Sprintf("model.vertices[%d]", i)
		if n, ok := m["name"].(string); ok {
			where += fmt.Sprintf(" (%s)", n)
		}
		var s model.VertexSpec
		for k, v := range m {
			var err error
			switch k {
			case "name", "op", "share":
				str, ok := v.(string)
				if !ok {
					err = fmt.Errorf("must be a string")
				}
				switch k {
				case "name":
					s.Name = str
				case "op":
					s.Op = str
				default:
					s.Share = str
				}
			case "in", "act":
				var list []string
				switch x := v.(type) {
				case string:
					list = []string{x}
				case []any:
					for _, e := range x {
						str, ok := e.(string)
						if !ok {
							err = fmt.Errorf("must list strings")
						}
						list = append(list, str)
					}
				default:
					err = fmt.Errorf("must be a string or a list of strings")
				}
				if k == "in" {
					s.In = list
				} else {
					s.Act = list
				}
			case "out", "kernel", "stride", "padding":
				n, ok := v.(int)
				if !ok || n < 0 {
					err = fmt.Errorf("must be a non-negative integer")
				}
				switch k {
				case "out":
					s.Out = n
				case "kernel":
					s.Kernel = n
				case "stride":
					s.Stride = n
				default:
					s.Padding = n
				}
			default:
				err = fmt.Errorf("unknown field (valid: name, op, in, out, kernel, stride, padding, act, share)")
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", where, k, err)
			}
		}
		if s.Name == "" || s.Op == "" {
			return nil, fmt.Errorf("%s: needs name and op", where)
		}
		out = append(out, s)
	}
	return out, nil
}
