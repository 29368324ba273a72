package config

import "slices"

// EvalConfig configures inference at evaluation time in a generative
// network (data.direction generative): recognition (`pctrain eval`: the
// sample clamped at the output, the label vertex free, the prediction the
// arg-max of the inferred label), generation and completion. Training is
// not affected.
type EvalConfig struct {
	// Steps is the number of inference steps.
	Steps int `mapstructure:"steps" yaml:"steps"`
	// XLR is the value-node step size γ.
	XLR float64 `mapstructure:"x_lr" yaml:"x_lr"`
	// XMomentum is the value-node SGD momentum.
	XMomentum float64 `mapstructure:"x_momentum" yaml:"x_momentum"`
	// InputInit is where a free input vertex starts: uniform (every unit
	// 1/C), zeros, or noise (seeded N(0, 0.01²) per unit, from seed).
	InputInit string `mapstructure:"input_init" yaml:"input_init"`
	// Decay is λ of the value-node decay (Sun & Orchard 2020): F gains
	// (λ/2)‖x_v‖² for every free value node. 0 disables it.
	Decay float64 `mapstructure:"decay" yaml:"decay"`
	// Classify is how recognition decides: argmax (the label vertex free,
	// the arg-max of the inferred label) or energy (for every class k the
	// label clamped to one-hot k, the hidden values inferred, the class
	// of lowest F; C inferences per sample). "" is argmax.
	Classify string `mapstructure:"classify" yaml:"classify"`
	// Samples limits how many samples of the test (and validation) split
	// the per-epoch evaluation of a generative network infers (0: all);
	// `pctrain eval` always uses the whole split.
	Samples int `mapstructure:"samples" yaml:"samples"`
}

// InputInits lists the values of eval.input_init.
var InputInits = []string{"uniform", "zeros", "noise"}

func defaultEval() EvalConfig {
	return EvalConfig{Steps: 100, XLR: 0.1, XMomentum: 0.5, InputInit: "uniform", Classify: "argmax"}
}

// Generative reports whether the network maps labels to samples.
func (c *Config) Generative() bool { return c.Data.Direction == "generative" }

// Bidirectional reports whether the network has top-down predictions too
// (model.direction bidirectional, bPC).
func (c *Config) Bidirectional() bool { return c.Model.Direction == "bidirectional" }

func (c *Config) generativeProblems(bad func(key, format string, args ...any)) {
	if !slices.Contains([]string{"", "discriminative", "generative"}, c.Data.Direction) {
		bad("data.direction", "%q is not one of discriminative, generative", c.Data.Direction)
	}
	if c.Generative() && c.Loss != "mse" {
		bad("loss", "a generative network (data.direction generative) needs mse (got %q)", c.Loss)
	}
	if c.Generative() && c.Model.Type != "mlp" {
		bad("model.type", "data.direction generative supports mlp (got %q)", c.Model.Type)
	}
	if c.Generative() && c.Train.TelemetryEvery > 0 {
		bad("train.telemetry_every", "is not supported with data.direction generative (got %d)", c.Train.TelemetryEvery)
	}
	if !slices.Contains([]string{"", "discriminative", "bidirectional"}, c.Model.Direction) {
		bad("model.direction", "%q is not one of discriminative, bidirectional", c.Model.Direction)
	}
	if c.Bidirectional() {
		if c.Model.Type != "mlp" {
			bad("model.direction", "bidirectional supports model.type mlp (got %q)", c.Model.Type)
		}
		if c.Method != "pc" {
			bad("model.direction", "bidirectional is trained by method pc (got %q)", c.Method)
		}
		if c.PC.Nudging != "" && c.PC.Nudging != "none" {
			bad("pc.nudging", "is not supported with model.direction bidirectional (got %q)", c.PC.Nudging)
		}
		if c.Generative() {
			bad("data.direction", "a bidirectional network reads the sample and predicts the label (data.direction discriminative)")
		}
		if c.Train.TelemetryEvery > 0 {
			bad("train.telemetry_every", "is not supported with model.direction bidirectional (got %d)", c.Train.TelemetryEvery)
		}
	}
	if c.Model.TopDownWeight < 0 {
		bad("model.topdown_weight", "must be ≥ 0 (got %g)", c.Model.TopDownWeight)
	}
	if c.Eval.Steps < 0 {
		bad("eval.steps", "must be ≥ 0 (got %d)", c.Eval.Steps)
	}
	if !(c.Eval.XLR > 0) {
		bad("eval.x_lr", "must be > 0 (got %g)", c.Eval.XLR)
	}
	if c.Eval.XMomentum < 0 || c.Eval.XMomentum >= 1 {
		bad("eval.x_momentum", "must be in [0, 1) (got %g)", c.Eval.XMomentum)
	}
	if c.Eval.Decay < 0 {
		bad("eval.decay", "must be ≥ 0 (got %g)", c.Eval.Decay)
	}
	if c.Eval.Samples < 0 {
		bad("eval.samples", "must be ≥ 0 (got %d)", c.Eval.Samples)
	}
	if !slices.Contains([]string{"", "argmax", "energy"}, c.Eval.Classify) {
		bad("eval.classify", "%q is not one of argmax, energy", c.Eval.Classify)
	}
	if !slices.Contains(InputInits, c.Eval.InputInit) {
		bad("eval.input_init", "%q is not one of uniform, zeros, noise", c.Eval.InputInit)
	}
}
