package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Checkpoint format: a safetensors file holding every parameter under its
// model name ("layers.{i}.weight" [out, in], "layers.{i}.bias" [out]), the
// graph's buffers under theirs (a rule's feedback tensors,
// "feedback.{param}"), the optimizer's buffers as "optim.{param}.m" /
// ".v", and __metadata__ with the keys below. FormatVersion changes when the meaning of a key does.
const (
	FormatName    = "pctrain-checkpoint"
	FormatVersion = "1"
)

// Position is where a run stands: Epoch is the epoch in progress (or the
// next one), Batch the next batch of it, Step the optimizer steps taken.
type Position struct {
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
	Step  int `json:"step"`
}

// epochStats are the running sums of the epoch in progress.
type epochStats struct {
	LossSum   float64   `json:"loss_sum"`
	Correct   int       `json:"correct"`
	Samples   int       `json:"samples"`
	EnergySum float64   `json:"energy_sum"`
	LevelSums []float64 `json:"level_sums"`
	Batches   int       `json:"batches"`
	Seconds   float64   `json:"seconds"`
}

// bestState tracks the best epoch by the selection metric.
type bestState struct {
	Metric string  `json:"metric"` // "val_acc" or "test_acc"
	Value  float64 `json:"value"`
	Epoch  int     `json:"epoch"`
	Test   float64 `json:"test_acc"`
}

type checkpointMeta struct {
	Pos    Position
	Config *config.Config
	Stats  epochStats
	Best   bestState
	// TrainSeconds are the seconds of the completed epochs, WallSeconds the
	// run's time so far, both over every segment of a resumed run.
	TrainSeconds, WallSeconds float64
	// SelectedBy is "val_acc" for best.safetensors (the epoch of highest
	// validation accuracy), empty for every other checkpoint.
	SelectedBy string
}

// saveCheckpoint writes g, opt and the run state to path atomically.
func saveCheckpoint[T tensor.Float](path string, g *model.Graph[T], opt *optim.Optimizer[T], m checkpointMeta) error {
	var ts []model.Tensor
	for _, p := range g.Params() {
		ts = append(ts, tensorOf(p.Name, p.Shape, p.Value.Data))
	}
	for _, b := range g.Buffers() {
		ts = append(ts, tensorOf(b.Name, b.Shape, b.Value.Data))
	}
	if opt != nil {
		st := opt.State()
		for _, p := range g.Params() {
			for _, suf := range []string{".m", ".v"} {
				if buf, ok := st["optim."+p.Name+suf]; ok {
					ts = append(ts, tensorOf("optim."+p.Name+suf, p.Shape, buf))
				}
			}
		}
	}
	stats, _ := json.Marshal(m.Stats)
	best, _ := json.Marshal(m.Best)
	meta := map[string]string{
		"format":         FormatName,
		"format_version": FormatVersion,
		"config":         string(m.Config.YAML()),
		"epoch":          strconv.Itoa(m.Pos.Epoch),
		"batch":          strconv.Itoa(m.Pos.Batch),
		"step":           strconv.Itoa(m.Pos.Step),
		"dtype":          tensor.DType[T](),
		"method":         m.Config.Method,
		"epoch_stats":    string(stats),
		"best":           string(best),
		"pctrain":        Version,
		"train_seconds":  strconv.FormatFloat(m.TrainSeconds, 'g', -1, 64),
		"wall_seconds":   strconv.FormatFloat(m.WallSeconds, 'g', -1, 64),
	}
	if m.SelectedBy != "" {
		meta["selected_by"] = m.SelectedBy
	}
	if opt != nil {
		meta["optim_step"] = strconv.Itoa(opt.StepCount)
	}
	if sc := g.Scalings(); len(sc) > 0 {
		meta["scalings"] = string(scalingsJSON(sc))
	}
	return model.WriteFileAtomic(path, func(w io.Writer) error {
		return model.EncodeSafetensors(w, ts, meta)
	})
}

func tensorOf[T tensor.Float](name string, shape []int, data []T) model.Tensor {
	t := model.Tensor{Name: name, Shape: shape}
	switch d := any(data).(type) {
	case []float32:
		t.F32 = slices.Clone(d)
	case []float64:
		t.F64 = slices.Clone(d)
	}
	return t
}

// loadedCheckpoint is a decoded checkpoint file.
type loadedCheckpoint struct {
	Path    string
	Tensors map[string]model.Tensor
	Meta    map[string]string
}

func readCheckpoint(path string) (*loadedCheckpoint, error) {
	ts, meta, err := model.ReadSafetensors(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, userErr("checkpoint %s does not exist", path)
		}
		return nil, userErr("checkpoint %v", err)
	}
	ck := &loadedCheckpoint{Path: path, Tensors: ts, Meta: meta}
	if err := checkFiniteTensors(ck); err != nil {
		return nil, err
	}
	return ck, nil
}

// config returns the resolved config stored in a pctrain checkpoint.
func (c *loadedCheckpoint) config() (*config.Config, error) {
	if c.Meta["format"] != FormatName {
		return nil, userErr("checkpoint %s: not a pctrain checkpoint (no %q metadata); pass --config to describe the model", c.Path, FormatName)
	}
	if v := c.Meta["format_version"]; v != FormatVersion {
		return nil, userErr("checkpoint %s: format version %q, this pctrain reads %q", c.Path, v, FormatVersion)
	}
	cfg, err := configFromYAML([]byte(c.Meta["config"]), "checkpoint "+c.Path)
	if err != nil {
		return nil, &UserError{Err: err}
	}
	return cfg, nil
}

// buffers says what loading does with the graph's buffers (a rule's
// feedback tensors).
type buffers int

const (
	// buffersIfPresent loads those the file has and keeps the others as
	// drawn (model.init_from, eval).
	buffersIfPresent buffers = iota
	// buffersRequired refuses a file missing one (resume: the run's
	// state must come back whole).
	buffersRequired
)

// loadWeights copies the checkpoint's parameters and buffers into g. Every
// parameter must be present with its shape, buffers as mode says; tensors
// the model lacks (other than optimizer state) are an error, since they
// mean another architecture or a rule with other buffers.
func (c *loadedCheckpoint) loadWeights(g any, mode buffers) error {
	switch gg := g.(type) {
	case *model.Graph[float32]:
		return loadInto(c, gg, mode)
	case *model.Graph[float64]:
		return loadInto(c, gg, mode)
	}
	panic("train: loadWeights: not a graph")
}

func loadInto[T tensor.Float](c *loadedCheckpoint, g *model.Graph[T], mode buffers) error {
	// A PyTorch nn.Sequential saved on its own names its tensors "0.weight"
	// where pctrain (a Sequential held as "layers") says "layers.0.weight":
	// both spellings load.
	lookup := func(name string) (model.Tensor, bool) {
		if t, ok := c.Tensors[name]; ok {
			return t, true
		}
		t, ok := c.Tensors[strings.TrimPrefix(name, "layers.")]
		return t, ok && strings.HasPrefix(name, "layers.")
	}
	// names holds every tensor name the model accepts: each parameter's
	// own, and for a Sequential's "layers.…" also the bare PyTorch name.
	names := map[string]bool{}
	for _, p := range g.Params() {
		names[p.Name] = true
		if bare, ok := strings.CutPrefix(p.Name, "layers."); ok {
			names[bare] = true
		}
		t, ok := lookup(p.Name)
		if !ok {
			return userErr("checkpoint %s: no tensor %q (a checkpoint of another architecture?)", c.Path, p.Name)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return userErr("checkpoint %s: %s has shape %v, the model needs %v", c.Path, p.Name, t.Shape, p.Shape)
		}
		for i, v := range t.Float64s() {
			p.Value.Data[i] = T(v)
		}
	}
	for _, b := range g.Buffers() {
		names[b.Name] = true
		t, ok := c.Tensors[b.Name]
		if !ok {
			if mode == buffersRequired {
				return userErr("checkpoint %s: no tensor %q, which the method keeps as its state (a checkpoint of another method?)", c.Path, b.Name)
			}
			continue
		}
		if !slices.Equal(t.Shape, b.Shape) {
			return userErr("checkpoint %s: %s has shape %v, the model needs %v", c.Path, b.Name, t.Shape, b.Shape)
		}
		for i, v := range t.Float64s() {
			b.Value.Data[i] = T(v)
		}
	}
	if err := loadScalings(c, g); err != nil {
		return err
	}
	var extra []string
	for name := range c.Tensors {
		if !names[name] && !strings.HasPrefix(name, "optim.") {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		if strings.HasPrefix(extra[0], "feedback.") {
			return userErr("checkpoint %s: tensor %q is not a buffer of this model and method (a checkpoint of another method?)", c.Path, extra[0])
		}
		return userErr("checkpoint %s: tensor %q is not in the model (a checkpoint of another architecture?)", c.Path, extra[0])
	}
	return nil
}

// scalingsJSON is the "scalings" metadata: every Scale layer's constant by
// name (μPC's a_in, a_h.{l}, a_out), so that eval and resume rebuild the
// function that was trained even if the formula that chose them changes.
func scalingsJSON[T tensor.Float](sc []*model.Scale[T]) []byte {
	m := map[string]float64{}
	for _, s := range sc {
		m[s.Name] = s.A
	}
	b, _ := json.Marshal(m)
	return b
}

// loadScalings sets g's Scale constants from the checkpoint's "scalings"
// metadata, when it has one; each must name a Scale layer of g and every
// Scale layer of g must be named.
func loadScalings[T tensor.Float](c *loadedCheckpoint, g *model.Graph[T]) error {
	raw, ok := c.Meta["scalings"]
	if !ok {
		return nil
	}
	var m map[string]float64
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return userErr("checkpoint %s: bad scalings metadata", c.Path)
	}
	sc := g.Scalings()
	if len(sc) != len(m) {
		return userErr("checkpoint %s: %d forward scalings, the model has %d (a checkpoint of another architecture?)", c.Path, len(m), len(sc))
	}
	for _, s := range sc {
		a, ok := m[s.Name]
		if !ok {
			return userErr("checkpoint %s: no forward scaling %q (a checkpoint of another architecture?)", c.Path, s.Name)
		}
		s.A = a
	}
	return nil
}

// loadOptimizer restores optimizer buffers and step count for resume.
func loadOptimizer[T tensor.Float](c *loadedCheckpoint, opt *optim.Optimizer[T]) error {
	for name, buf := range opt.State() {
		t, ok := c.Tensors[name]
		if !ok || t.Len() != len(buf) {
			return userErr("checkpoint %s: optimizer state %q missing or of the wrong size", c.Path, name)
		}
		for i, v := range t.Float64s() {
			buf[i] = T(v)
		}
	}
	n, err := strconv.Atoi(c.Meta["optim_step"])
	if err != nil {
		return userErr("checkpoint %s: bad optim_step metadata", c.Path)
	}
	opt.StepCount = n
	return nil
}

// runState decodes the position, epoch sums and best tracking.
func (c *loadedCheckpoint) runState() (Position, epochStats, bestState, error) {
	var p Position
	var s epochStats
	var b bestState
	var err error
	parse := func(key string) int {
		v, e := strconv.Atoi(c.Meta[key])
		if e != nil && err == nil {
			err = userErr("checkpoint %s: bad %s metadata %q", c.Path, key, c.Meta[key])
		}
		return v
	}
	p.Epoch, p.Batch, p.Step = parse("epoch"), parse("batch"), parse("step")
	if e := json.NewDecoder(bytes.NewReader([]byte(c.Meta["epoch_stats"]))).Decode(&s); e != nil && err == nil {
		err = userErr("checkpoint %s: bad epoch_stats metadata", c.Path)
	}
	if e := json.Unmarshal([]byte(c.Meta["best"]), &b); e != nil && err == nil {
		err = userErr("checkpoint %s: bad best metadata", c.Path)
	}
	return p, s, b, err
}

// times decodes the seconds the run spent before this checkpoint (0 for
// checkpoints written before pctrain recorded them).
func (c *loadedCheckpoint) times() (train, wall float64, err error) {
	parse := func(key string) float64 {
		raw, ok := c.Meta[key]
		if !ok {
			return 0
		}
		v, e := strconv.ParseFloat(raw, 64)
		if e != nil && err == nil {
			err = userErr("checkpoint %s: bad %s metadata %q", c.Path, key, raw)
		}
		return v
	}
	train, wall = parse("train_seconds"), parse("wall_seconds")
	return train, wall, err
}
