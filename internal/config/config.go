// Package config defines pctrain's typed configuration, its defaults, and
// Load, which merges defaults, a YAML file, PCTRAIN_ environment variables
// and --set overrides (in that order of precedence, lowest first) and
// validates the result with errors that name the key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Config is one experiment. Every field's yaml key is its mapstructure tag.
type Config struct {
	// Seed seeds every random choice (initialisation, shuffling, splits).
	Seed uint64 `mapstructure:"seed" yaml:"seed"`
	// Method names the learning rule (`pctrain rules` lists them).
	Method string `mapstructure:"method" yaml:"method"`
	// DType is float32 (speed) or float64 (exactness checks).
	DType string `mapstructure:"dtype" yaml:"dtype"`
	// Loss is mse (½‖y − mu_L‖², one-hot y) or ce (softmax cross-entropy).
	Loss string `mapstructure:"loss" yaml:"loss"`
	// LabelSmoothing ε replaces the one-hot target by (1−ε)·onehot + ε/C
	// for either loss, for every rule (0 = none, PyTorch's
	// CrossEntropyLoss(label_smoothing=ε)); in [0, 1).
	LabelSmoothing float64     `mapstructure:"label_smoothing" yaml:"label_smoothing"`
	Data           DataConfig  `mapstructure:"data" yaml:"data"`
	Model          ModelConfig `mapstructure:"model" yaml:"model"`
	PC             PCConfig    `mapstructure:"pc" yaml:"pc"`
	ZIL            ZILConfig   `mapstructure:"zil" yaml:"zil"`
	Optim          OptimConfig `mapstructure:"optim" yaml:"optim"`
	Train          TrainConfig `mapstructure:"train" yaml:"train"`
	Eval           EvalConfig  `mapstructure:"eval" yaml:"eval"`

	// sources maps each key set by Load or With to its source (SourceOf).
	sources map[string]string
}

// DataConfig selects and prepares the dataset.
type DataConfig struct {
	// Name is mnist, fashion-mnist, cifar10 or npz.
	Name string `mapstructure:"name" yaml:"name"`
	// Dir holds the IDX files; empty means datasets/NAME, fetched there
	// automatically when missing.
	Dir string `mapstructure:"dir" yaml:"dir"`
	// Path is the .npz file for name npz (x_train, y_train, x_test, y_test).
	Path      string `mapstructure:"path" yaml:"path"`
	BatchSize int    `mapstructure:"batch_size" yaml:"batch_size"`
	// Shuffle draws a new sample order every epoch.
	Shuffle bool `mapstructure:"shuffle" yaml:"shuffle"`
	// ValSplit is the fraction of the training set held out for
	// validation; by default DefaultValSplit = 0.1 (6,000 of MNIST's and
	// Fashion-MNIST's 60,000 training images, 5,000 of CIFAR-10's 50,000).
	// checkpoints/best.safetensors is the epoch of highest validation
	// accuracy. 0 = none: the final epoch is then the result and no best
	// checkpoint is written (nothing is chosen by test accuracy).
	ValSplit float64 `mapstructure:"val_split" yaml:"val_split"`
	// Flip mirrors each training image horizontally with probability ½.
	Flip bool `mapstructure:"flip" yaml:"flip"`
	// CropPadding pads training images by this many pixels (with the
	// value of a black pixel) and crops a random window of the original
	// size; 0 disables it.
	CropPadding int `mapstructure:"crop_padding" yaml:"crop_padding"`
	// Normalize is none (values as given), scale (÷255), standard (÷255,
	// then zero mean and unit variance per channel over the training
	// split) or auto (standard for image datasets, none for npz).
	Normalize string `mapstructure:"normalize" yaml:"normalize"`
	// Direction is discriminative (the sample is the input, the label the
	// target) or generative (the one-hot label is the input, the sample
	// the output's mse target; see EvalConfig for recognition). Empty
	// means discriminative.
	Direction string `mapstructure:"direction" yaml:"direction"`
}

// ModelConfig describes the network.
type ModelConfig struct {
	// Type is mlp (Sizes), cnn (Layers), vgg5 (PCX's VGG-5), graph
	// (Vertices), rnn or lstm (many-to-one over Steps slices of the input,
	// Hidden units), resmlp (a residual MLP: Hidden wide, Blocks blocks) or
	// skipmlp (μPC's residual MLP: Depth hidden layers of Hidden units,
	// a one-level skip at every hidden layer but the first, no biases).
	Type string `mapstructure:"type" yaml:"type"`
	// Sizes are the widths from input to output, e.g. [784, 128, 10]
	// (mlp).
	Sizes []int `mapstructure:"sizes" yaml:"sizes"`
	// Layers is the ordered layer list of a cnn, each entry one of
	//   {conv: {out: 32, kernel: 3, stride: 1, padding: 1}}
	//   {act: gelu}
	//   {maxpool: 2} or {maxpool: {kernel: 2, stride: 2}} (avgpool alike)
	//   {flatten: {}}
	//   {dense: {out: 10}}
	// Parameters of entry i are layers.{i}.weight / .bias.
	Layers []map[string]any `mapstructure:"layers" yaml:"layers"`
	// Vertices describe a graph, in order, the last being the output:
	//   {name: h1, op: dense, in: [input], out: 128}
	//   {name: h2, op: dense, in: [h1], out: 128, act: gelu}  (act on the inputs)
	//   {name: s, op: add, in: [h2, h1]}
	//   {name: x2, op: dense, in: ["input[28:56]"], out: 64, share: x1}
	// ops: dense, conv, act, add, concat, mul, identity, flatten, maxpool,
	// avgpool. Parameters are {name}.weight / {name}.bias.
	Vertices []map[string]any `mapstructure:"vertices" yaml:"vertices"`
	// Hidden is the width of rnn, lstm, resmlp and skipmlp models.
	Hidden int `mapstructure:"hidden" yaml:"hidden"`
	// Steps is the number of time steps of rnn and lstm models.
	Steps int `mapstructure:"steps" yaml:"steps"`
	// Blocks is the number of residual blocks of a resmlp.
	Blocks int `mapstructure:"blocks" yaml:"blocks"`
	// Depth is the number of hidden layers of a skipmlp.
	Depth int `mapstructure:"depth" yaml:"depth"`
	// Parameterization of a skipmlp: standard (every scaling 1, weights
	// from Init) or mupc (RULES.md §4: forward scalings a_in = 1/√D,
	// a_h = 1/√(N·H), a_out = 1/N and N(0, 1) weights; Init is not used).
	Parameterization string `mapstructure:"parameterization" yaml:"parameterization"`
	// Activation of hidden values: relu, tanh, sigmoid, gelu, leaky-relu
	// or linear.
	Activation string `mapstructure:"activation" yaml:"activation"`
	Bias       bool   `mapstructure:"bias" yaml:"bias"`
	// Dropout is the probability p of zeroing each input of a dense or
	// conv layer that follows an activation (inverted dropout: kept
	// values are scaled by 1/(1−p)), in training only. One mask per
	// batch, drawn from the seed and the batch's step, held fixed through
	// the batch's inference, so every rule sees one function per batch.
	// 0 (the default) is off.
	Dropout float64 `mapstructure:"dropout" yaml:"dropout"`
	// Init is the initialiser (default = PyTorch's nn.Linear).
	Init string `mapstructure:"init" yaml:"init"`
	// InitFrom is a safetensors checkpoint whose weights replace the
	// initialisation.
	InitFrom string `mapstructure:"init_from" yaml:"init_from"`
	// Direction is discriminative (one bottom-up prediction per vertex)
	// or bidirectional (bPC, Oliviers, Tang & Bogacz 2025: every vertex
	// also has a top-down prediction from the vertex above, by a second
	// MLP of the reversed sizes whose parameters are topdown.layers.{i};
	// mlp and pc only). "" is discriminative.
	Direction string `mapstructure:"direction" yaml:"direction"`
	// TopDownWeight is α_gen of a bidirectional network: F gains
	// α·Σ_v ½‖x_v − nu_v‖² over the top-down predictions nu_v. 0 trains
	// the bottom-up network exactly as pc (the top-down one gets zero
	// gradients).
	TopDownWeight float64 `mapstructure:"topdown_weight" yaml:"topdown_weight"`
}

// PCConfig configures the state-based PC rules' inference (pc, ipc).
type PCConfig struct {
	// Steps is the number of inference steps T per batch.
	Steps int `mapstructure:"steps" yaml:"steps"`
	// XLR is the value-node step size γ.
	XLR float64 `mapstructure:"x_lr" yaml:"x_lr"`
	// XMomentum is the value-node SGD momentum.
	XMomentum float64 `mapstructure:"x_momentum" yaml:"x_momentum"`
	// EnergyGrowthLimit stops the run when the energy at the end of
	// inference exceeds this multiple of the energy at its start (the
	// feed-forward loss): inference is then diverging. 0 disables it.
	EnergyGrowthLimit float64 `mapstructure:"energy_growth_limit" yaml:"energy_growth_limit"`
	// Nudging nudges the output towards the target instead of clamping
	// it (pc and ipc, RULES.md §2): none, positive, negative, centred or
	// random-sign.
	Nudging string `mapstructure:"nudging" yaml:"nudging"`
	// Beta is the nudging strength |β| (its sign comes from Nudging).
	Beta float64 `mapstructure:"beta" yaml:"beta"`
}

// ZILConfig configures Z-IL and Fa-Z-IL.
type ZILConfig struct {
	// Schedule is sequential (BP's cost) or parallel (every vertex every
	// step).
	Schedule string `mapstructure:"schedule" yaml:"schedule"`
	// Gamma is the value-node step size; only 1 is exact.
	Gamma float64 `mapstructure:"gamma" yaml:"gamma"`
}

// OptimConfig configures the parameter optimizer.
type OptimConfig struct {
	// Name is sgd, adam or adamw.
	Name        string  `mapstructure:"name" yaml:"name"`
	LR          float64 `mapstructure:"lr" yaml:"lr"`
	Momentum    float64 `mapstructure:"momentum" yaml:"momentum"`
	Nesterov    bool    `mapstructure:"nesterov" yaml:"nesterov"`
	WeightDecay float64 `mapstructure:"weight_decay" yaml:"weight_decay"`
	// Eps is Adam's and AdamW's ε in p ← p − lr·m̂/(√v̂ + ε), 1e-8 by
	// default (PyTorch's). It scales with the gradient: to match a
	// library that sums rather than averages gradients over the batch,
	// multiply it by the batch size.
	Eps float64 `mapstructure:"eps" yaml:"eps"`
	// Schedule is constant or cosine (decaying to MinLR over the run).
	Schedule string  `mapstructure:"schedule" yaml:"schedule"`
	MinLR    float64 `mapstructure:"min_lr" yaml:"min_lr"`
	// WarmupSteps ramps the learning rate linearly over the first steps.
	WarmupSteps int `mapstructure:"warmup_steps" yaml:"warmup_steps"`
}

// TrainConfig controls the training loop and its outputs.
type TrainConfig struct {
	Epochs int `mapstructure:"epochs" yaml:"epochs"`
	// MaxSteps stops after this many optimizer steps (0 = no limit); the
	// run then ends normally with its checkpoints, metrics and summary.
	MaxSteps int `mapstructure:"max_steps" yaml:"max_steps"`
	// OutDir is the run directory; empty means runs/<config name>, then
	// each --set as -key=value, with a numeric suffix if that exists.
	OutDir string `mapstructure:"out_dir" yaml:"out_dir"`
	// CheckpointEvery writes checkpoints/epoch-N.safetensors every N
	// epochs (0 = only last and best).
	CheckpointEvery int `mapstructure:"checkpoint_every" yaml:"checkpoint_every"`
	// TelemetryEvery records, every N optimizer steps (and at the first),
	// a line of telemetry.jsonl: the energy trajectory over inference
	// steps (pc), energy per vertex, norms of value nodes, weights and
	// gradients. 0 disables it.
	TelemetryEvery int `mapstructure:"telemetry_every" yaml:"telemetry_every"`
	// Threads is how many parts of each batch are computed at once, one
	// core each; 0 means every core (GOMAXPROCS). Results are
	// bit-identical for a given thread count, and differ in the last bits
	// between counts (the batch gradient is summed in a different order).
	Threads int `mapstructure:"threads" yaml:"threads"`
	// TelemetryBPCosine adds, to each telemetry line, the cosine between
	// every parameter's update direction and BP's gradient at the same
	// weights (one extra backprop pass per recorded step).
	TelemetryBPCosine bool `mapstructure:"telemetry_bp_cosine" yaml:"telemetry_bp_cosine"`
	// LogEveryS is, when stderr is not a terminal (nohup, a batch job, a
	// pipe), the seconds between plain progress lines within an epoch
	// (epoch, batch, loss, samples/s, ETA); 0 turns them off. A terminal
	// shows a progress bar instead.
	LogEveryS float64 `mapstructure:"log_every_s" yaml:"log_every_s"`
}

// SourceOf names where key's value came from — the YAML file, "--set
// key=value", "environment PCTRAIN_…=…", a flag such as "--threads 4", or
// the overrides of With — or "" when it is the default (or the config was
// read back from a run's YAML).
func (c *Config) SourceOf(key string) string {
	if c == nil {
		return ""
	}
	return c.sources[key]
}

// Default returns the defaults: PCX's MNIST MLP settings for PC.
func Default() Config {
	return Config{
		Seed: 1, Method: "pc", DType: "float32", Loss: "ce",
		Data: DataConfig{Name: "mnist", BatchSize: 128, Shuffle: true, ValSplit: DefaultValSplit, Normalize: "auto", Direction: "discriminative"},
		Model: ModelConfig{Type: "mlp", Sizes: []int{784, 128, 128, 128, 10}, Layers: []map[string]any{}, Vertices: []map[string]any{},
			Hidden: 128, Steps: 28, Blocks: 2, Depth: 8, Parameterization: "standard", Activation: "gelu", Bias: true, Init: "default", Direction: "discriminative", TopDownWeight: 1},
		PC:    PCConfig{Steps: 8, XLR: 0.01, XMomentum: 0.65, EnergyGrowthLimit: 10, Nudging: "none", Beta: 0.1},
		ZIL:   ZILConfig{Schedule: "sequential", Gamma: 1},
		Optim: OptimConfig{Name: "adamw", LR: 3e-4, WeightDecay: 0, Eps: 1e-8, Schedule: "constant"},
		Train: TrainConfig{Epochs: 25, LogEveryS: 30},
		Eval:  defaultEval(),
	}
}

// DefaultValSplit is data.val_split's default: a tenth of the training
// set is held out, so "best" is chosen on data the test set never sees.
const DefaultValSplit = 0.1

// NudgingModes lists the values of pc.nudging.
var NudgingModes = []string{"none", "positive", "negative", "centred", "random-sign"}

// Error is a configuration problem; it names the source (file, flag or
// environment variable) and the key.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Sources are the inputs Load merges.
type Sources struct {
	// File is a YAML file (may be empty for defaults only).
	File string
	// Sets are key=value overrides, values read as YAML.
	Sets []string
	// Env is the environment (os.Environ() form); PCTRAIN_KEY_PATH
	// variables override keys (PCTRAIN_OPTIM_LR → optim.lr).
	Env []string
	// Flags are command-line flags bound to keys (--threads sets
	// train.threads), applied last; errors name the flag.
	Flags []Flag
}

// Flag is one command-line flag bound to a config key.
type Flag struct {
	// Flag is the flag as the user wrote it, e.g. "--threads -5".
	Flag string
	// Key is the config key it sets and Value its value, read as YAML.
	Key, Value string
}

// Load merges src and validates the result. Every error names its source:
// the file, the --set flag, the flag in Flags, or the PCTRAIN_ variable.
func Load(src Sources) (*Config, error) {
	defaults, err := toMap(Default())
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	flatten("", defaults, keys)
	types := keyTypes()
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.MergeConfigMap(defaults); err != nil {
		return nil, err
	}
	where := src.File
	if where == "" {
		where = "config"
	}
	// setBy names, for each key, the last source that set it.
	setBy := map[string]string{}
	if src.File != "" {
		raw, err := os.ReadFile(src.File)
		if err != nil {
			return nil, errorf("%s: %v", src.File, unwrapPath(err))
		}
		doc, err := checkYAML(raw, src.File, keys, types, setBy)
		if err != nil {
			return nil, err
		}
		if doc != nil {
			if err := v.MergeConfig(bytes.NewReader(raw)); err != nil {
				return nil, errorf("%s: invalid YAML: %s", src.File, yamlMessage(err))
			}
		}
	}
	set := func(source, key, val string) error {
		parsed, err := parseValue(val)
		if err != nil {
			return errorf("%s: %v", source, err)
		}
		if msg := checkValue(types[key], parsed); msg != "" {
			return errorf("%s: %s: %s", source, key, msg)
		}
		v.Set(key, parsed)
		setBy[key] = source
		return nil
	}
	for _, kv := range src.Env {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "PCTRAIN_") {
			continue
		}
		key := envKey(name, keys)
		if key == "" {
			return nil, errorf("environment %s: no such config key%s", name, suggestEnv(name, keys))
		}
		if err := set("environment "+kv, key, val); err != nil {
			return nil, err
		}
	}
	for _, s := range src.Sets {
		key, val, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, errorf("--set %q: want key=value, e.g. --set optim.lr=0.001", s)
		}
		if !keys[key] {
			return nil, errorf("--set %s: no such config key%s", key, suggest(key, keys))
		}
		if err := set("--set "+s, key, val); err != nil {
			return nil, err
		}
	}
	for _, f := range src.Flags {
		if !keys[f.Key] {
			return nil, errorf("%s: no such config key%s", f.Flag, suggest(f.Key, keys))
		}
		if err := set(f.Flag, f.Key, f.Value); err != nil {
			return nil, err
		}
	}
	var c Config
	err = v.UnmarshalExact(&c, func(dc *mapstructure.DecoderConfig) {
		dc.WeaklyTypedInput = false
		dc.ZeroFields = true
	})
	if err != nil {
		return nil, errorf("%s: %s", where, decodeMessage(err))
	}
	if ps := c.problems(); len(ps) > 0 {
		parts := make([]string, len(ps))
		for i, p := range ps {
			source := setBy[p.key]
			if source == "" {
				source = where
			}
			parts[i] = source + ": " + p.text
		}
		return nil, errorf("%s", strings.Join(parts, "; "))
	}
	c.sources = setBy
	return &c, nil
}

func toMap(c Config) (map[string]any, error) {
	raw, err := yaml.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = yaml.Unmarshal(raw, &m)
	return m, err
}

// YAML renders c as YAML (the resolved config a run writes).
func (c Config) YAML() []byte {
	raw, err := yaml.Marshal(c)
	if err != nil {
		panic(err) // a Config always marshals
	}
	return raw
}

// FromYAML parses a resolved config (as written by YAML) and validates it.
//
// Keys the YAML lacks keep their defaults, so a checkpoint written before
// a key existed still loads.
func FromYAML(raw []byte, where string) (*Config, error) {
	c := Default()
	defaults, err := toMap(c)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	flatten("", defaults, keys)
	// The same checks as Load's, so a hand-edited config.yaml gets the
	// same words (yaml.v3's own name Go types).
	if _, err := checkYAML(raw, where, keys, keyTypes(), map[string]string{}); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && err != io.EOF {
		return nil, errorf("%s: invalid config: %s", where, yamlMessage(err))
	}
	if err := c.Validate(); err != nil {
		return nil, errorf("%s: %v", where, err)
	}
	return &c, nil
}

// checkYAML parses a YAML document that must be a mapping of config keys
// and checks its keys and value types (checkDoc); nil for an empty file.
func checkYAML(raw []byte, file string, keys map[string]bool, types map[string]reflect.Type, setBy map[string]string) (map[string]any, error) {
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, errorf("%s: invalid YAML: %s", file, yamlMessage(err))
	}
	if doc == nil {
		return nil, nil
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, errorf("%s: the file must be a mapping of keys (e.g. \"method: pc\"), got %s", file, describe(doc))
	}
	if err := checkDoc("", m, keys, types, file, setBy); err != nil {
		return nil, err
	}
	return m, nil
}

// yamlMessage is a YAML parser's error on one line without the parser's
// own prefixes ("yaml: unmarshal errors:").
func yamlMessage(err error) string {
	m := oneLine(err.Error())
	for _, p := range []string{"yaml: ", "unmarshal errors: "} {
		m = strings.TrimPrefix(m, p)
	}
	return m
}

func flatten(prefix string, m map[string]any, keys map[string]bool) {
	for k, v := range m {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flatten(full, sub, keys)
			continue
		}
		keys[full] = true
	}
}

// checkDoc rejects keys of the file that Config does not have (viper's
// own check reports them without the file's spelling) and values of the
// wrong type (mapstructure would truncate 1.5 to an int and name Go
// types); it records which keys the file sets.
func checkDoc(prefix string, m map[string]any, keys map[string]bool, types map[string]reflect.Type, file string, setBy map[string]string) error {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		sub, isMap := m[k].(map[string]any)
		if !keys[full] {
			if isSection(full, keys) {
				if !isMap {
					return errorf("%s: %s: expected a mapping of keys (%s.…), got %s", file, full, full, describe(m[k]))
				}
				if err := checkDoc(full, sub, keys, types, file, setBy); err != nil {
					return err
				}
				continue
			}
			hint := suggest(full, keys)
			if isMap {
				hint = suggestSection(full, keys)
			}
			return errorf("%s: unknown key %q%s", file, full, hint)
		}
		if msg := checkValue(types[full], m[k]); msg != "" {
			return errorf("%s: %s: %s", file, full, msg)
		}
		setBy[full] = file
	}
	return nil
}

// suggestSection names the section (optim, data, …) closest to a
// misspelt one: the one it starts with or that starts it, else the
// nearest by edit distance.
func suggestSection(name string, keys map[string]bool) string {
	parent, _ := "", name
	if i := strings.LastIndex(name, "."); i >= 0 {
		parent = name[:i+1]
	}
	sections := map[string]bool{}
	for k := range keys {
		if !strings.HasPrefix(k, parent) {
			continue
		}
		if sec, _, ok := strings.Cut(k[len(parent):], "."); ok {
			sections[parent+sec] = true
		}
	}
	var best string
	for sec := range sections {
		if (strings.HasPrefix(name, sec) || strings.HasPrefix(sec, name)) && (best == "" || sec < best) {
			best = sec
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return suggest(name, sections)
}

// isSection says whether some key starts with prefix + ".".
func isSection(prefix string, keys map[string]bool) bool {
	for k := range keys {
		if strings.HasPrefix(k, prefix+".") {
			return true
		}
	}
	return false
}

// suggestEnv names the closest PCTRAIN_ variable, for typos.
func suggestEnv(name string, keys map[string]bool) string {
	vars := map[string]bool{}
	for k := range keys {
		vars[envName(k)] = true
	}
	return suggest(name, vars)
}

func envName(key string) string {
	return "PCTRAIN_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// suggest names the closest known key, for typos.
func suggest(key string, keys map[string]bool) string {
	best, bestD := "", 4
	for k := range keys {
		if d := editDistance(key, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// envKey maps PCTRAIN_OPTIM_WEIGHT_DECAY to optim.weight_decay.
func envKey(name string, keys map[string]bool) string {
	for k := range keys {
		if envName(k) == name {
			return k
		}
	}
	return ""
}

func parseValue(s string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("value %q is not valid YAML: %s", s, yamlMessage(err))
	}
	if v == nil {
		return "", nil
	}
	return v, nil
}

var spaces = regexp.MustCompile(`\s+`)

func oneLine(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// decodeMessage turns mapstructure's multi-line report into one line that
// names each key.
func decodeMessage(err error) string {
	msg := err.Error()
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "*"))
		if l == "" || strings.HasPrefix(l, "decoding failed") || strings.Contains(l, "error(s) decoding") {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return oneLine(msg)
	}
	return strings.Join(lines, "; ")
}

// Threads resolves train.threads (0: every core).
func (c *Config) Threads() int {
	if c.Train.Threads > 0 {
		return c.Train.Threads
	}
	return defaultThreads
}

// defaultThreads is the number of cores Go found at start-up, read once:
// a split run raises GOMAXPROCS above its thread count (see train's
// newSplit), which must not change what "every core" means.
var defaultThreads = runtime.GOMAXPROCS(0)
