package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Version is pctrain's version, set by the command at build time.
var Version = "dev"

// EpochMetrics is one line of metrics.jsonl.
type EpochMetrics struct {
	Epoch     int      `json:"epoch"`
	Step      int      `json:"step"`
	Method    string   `json:"method"`
	TrainLoss float64  `json:"train_loss"`
	TrainAcc  float64  `json:"train_acc"`
	TestLoss  float64  `json:"test_loss"`
	TestAcc   float64  `json:"test_acc"`
	ValLoss   *float64 `json:"val_loss,omitempty"`
	ValAcc    *float64 `json:"val_acc,omitempty"`
	// Energy is the batch-mean F at the end of inference, averaged over
	// the epoch's batches; EnergyPerLevel splits it by vertex (input side
	// first, output last). For bp it is the loss.
	Energy         float64   `json:"energy"`
	EnergyPerLevel []float64 `json:"energy_per_level"`
	InferenceSteps int       `json:"inference_steps"`
	LR             float64   `json:"lr"`
	// Seconds is the wall time of the epoch's training loop (evaluation
	// excluded); SamplesPerSec = training samples / Seconds.
	Seconds       float64 `json:"seconds"`
	SamplesPerSec float64 `json:"samples_per_sec"`
}

// Hooks attach behaviour to the training loop. Every field may be nil.
type Hooks[T tensor.Float] struct {
	// EpochStart is called when an epoch (0-based) starts or resumes at
	// batch startBatch of batches.
	EpochStart func(epoch, startBatch, batches int)
	// AfterGrad is called with the rule's first gradient of each batch in
	// the graph's Grad buffers, before its optimizer step (compare
	// measures agreement here); the time it takes is not counted as
	// training time.
	AfterGrad func(step int, x *tensor.Mat[T], labels []int)
	// Batch is called after every batch.
	Batch func(epoch, batch int, r relax.Result, batchSize int)
	// Epoch is called at the end of every epoch, with the run state to
	// checkpoint; an error stops the run.
	Epoch func(m EpochMetrics, state *Trainer[T]) error
	// Telemetry receives a record every train.telemetry_every steps.
	Telemetry func(Telemetry) error
	// Warn receives notices for the user (the stability probe's).
	Warn func(msg string)
}

// Trainer is the training loop over one model, learning rule and
// optimizer.
type Trainer[T tensor.Float] struct {
	Cfg   *config.Config
	G     *model.Graph[T]
	Loss  model.Loss[T]
	Info  *rule.Info
	Rule  rule.Rule[T]
	Opt   *optim.Optimizer[T]
	Sched optim.Schedule
	Data  *Data
	Hooks Hooks[T]

	Pos   Position
	stats epochStats
	Best  bestState
	eval  evalRunner
	// Interrupted receives the run's state when ctx ends mid-epoch.
	Interrupted func(state *Trainer[T]) error
	// poison, in tests, turns a step's loss into NaN to exercise the
	// divergence guard.
	poison func(step int) bool
	bpRef  *bpRef[T] // backprop on the same graph, for telemetry
	traj   []float64
	upd    updater[T]
	batch  rule.Batch[T]
	saved  optim.Saved[T] // the state before a multi-update batch
	// stab is the stability probe of the batch in progress; unstable says
	// the last probe was past its limit.
	stab     *StabilityRecord
	unstable bool
	drops    []*model.Dropout[T] // the model's dropout layers, on during Rule.Step
}

// dropoutSeed is the seed of a batch's dropout masks: the batch seed
// (which nudging's signs also draw from) moved to a stream of its own.
func dropoutSeed(batchSeed uint64) uint64 { return batchSeed ^ 0x6a09e667f3bcc909 }

// NewTrainer builds the model, initialises it from the seed (or
// model.init_from), and prepares method and optimizer.
func NewTrainer[T tensor.Float](cfg *config.Config, d *Data) (*Trainer[T], error) {
	g, err := buildFor[T](cfg, d)
	if err != nil {
		return nil, userErr("%v", err)
	}
	if err := g.Init(rngFor(cfg.Seed, streamInit), InitName(cfg)); err != nil {
		return nil, userErr("model.init: %v", err)
	}
	// The rule adds its buffers (drawn from their own seeded stream), so
	// the file can set them too.
	t, err := newTrainerFor(cfg, d, g)
	if err != nil {
		return nil, err
	}
	if cfg.Model.InitFrom != "" {
		ck, err := readCheckpoint(cfg.Model.InitFrom)
		if err != nil {
			t.Close()
			return nil, userErr("model.init_from: %v", err)
		}
		if err := ck.loadWeights(g, buffersIfPresent); err != nil {
			t.Close()
			return nil, userErr("model.init_from: %v", err)
		}
	}
	return t, nil
}

func newTrainerFor[T tensor.Float](cfg *config.Config, d *Data, g *model.Graph[T]) (*Trainer[T], error) {
	loss, err := model.NewSmoothedLoss[T](cfg.Loss, cfg.LabelSmoothing)
	if err != nil {
		return nil, userErr("loss: %v", err)
	}
	shape, outputs := modelDims(cfg, d)
	info, r, err := newRule(cfg, g, shape, outputs, loss)
	if err != nil {
		return nil, userErr("method: %v", err)
	}
	opt, err := optim.New(optim.Settings{Name: cfg.Optim.Name, Momentum: cfg.Optim.Momentum, Nesterov: cfg.Optim.Nesterov, WeightDecay: cfg.Optim.WeightDecay, Eps: cfg.Optim.Eps}, g.Params())
	if err != nil {
		return nil, userErr("optim.name: %v", err)
	}
	total := cfg.Train.Epochs * batchesPerEpoch(d.Train.Len(), cfg.Data.BatchSize)
	if cfg.Train.MaxSteps > 0 {
		total = min(total, cfg.Train.MaxSteps)
	}
	t := &Trainer[T]{
		Cfg: cfg, G: g, Loss: loss, Info: info, Rule: r, Opt: opt, Data: d,
		Sched: optim.Schedule{Name: cfg.Optim.Schedule, Base: cfg.Optim.LR, Warmup: cfg.Optim.WarmupSteps, Total: total, MinLR: cfg.Optim.MinLR},
		eval:  newEvalFor(cfg, g, loss, d),
	}
	t.drops = g.Dropouts()
	t.Best.Metric = "test_acc"
	if d.Val.Len() > 0 {
		t.Best.Metric = "val_acc"
	}
	t.Best.Value = -1
	t.upd.t = t
	return t, nil
}

// Close releases what the rule holds beyond the run (the worker
// goroutines of a batch split across cores). Run calls it when it ends.
func (t *Trainer[T]) Close() {
	if c, ok := t.Rule.(interface{ Close() }); ok {
		c.Close()
	}
}

// updater is the rule.Updater of the trainer: each Update is one
// optimizer step at the batch's learning rate, checked for finite
// weights. Before a batch's first update it runs what looks at the
// rule's gradient (telemetry, the AfterGrad hook) and, for a rule that
// updates several times per batch, saves the state so an interrupted
// batch can be undone.
type updater[T tensor.Float] struct {
	t       *Trainer[T]
	lr      float64
	n       int // updates made in this batch
	due     bool
	pending Telemetry
	paused  time.Duration
}

func (u *updater[T]) begin(lr float64, due bool) {
	u.lr, u.n, u.due, u.paused = lr, 0, due, 0
}

func (u *updater[T]) Update() error {
	t := u.t
	if u.n == 0 {
		if t.Info.UpdatesPerBatch(t.Cfg) > 1 {
			t.Opt.Save(&t.saved)
		}
		p := time.Now()
		if u.due {
			u.pending = t.gradTelemetry(t.batch.X, t.batch.Labels)
		}
		if t.Hooks.AfterGrad != nil {
			t.Hooks.AfterGrad(t.Pos.Step, t.batch.X, t.batch.Labels)
		}
		u.paused += time.Since(p)
	}
	t.Opt.Step(u.lr)
	u.n++
	return t.checkWeights()
}

// batches is the number of batches of an epoch.
func (t *Trainer[T]) batches() int { return batchesPerEpoch(t.Data.Train.Len(), t.Cfg.Data.BatchSize) }

func batchesPerEpoch(n, bs int) int { return (n + bs - 1) / bs }

// finished reports whether the run has done all its work.
func (t *Trainer[T]) finished() bool {
	return t.Pos.Epoch >= t.Cfg.Train.Epochs || (t.Cfg.Train.MaxSteps > 0 && t.Pos.Step >= t.Cfg.Train.MaxSteps)
}

// Run trains from t.Pos until the configured epochs or steps are done,
// ctx ends (then Interrupted is called and ErrInterrupted returned), or a
// quantity diverges (*DivergedError).
func (t *Trainer[T]) Run(ctx context.Context) error {
	defer t.Close()
	cfg := t.Cfg
	bs := cfg.Data.BatchSize
	nb := batchesPerEpoch(t.Data.Train.Len(), bs)
	x := &tensor.Mat[T]{}
	labels := make([]int, bs)
	var scratch []T
	fill := t.Data.Norm.Fill(t.Data.Shape[0])
	augSrc := rand.NewPCG(0, 0)
	aug := rand.New(augSrc)
	for !t.finished() {
		var shuffle = rngFor(cfg.Seed, streamShuffle+uint64(t.Pos.Epoch))
		if !cfg.Data.Shuffle {
			shuffle = nil
		}
		order := data.Order(t.Data.Train, shuffle)
		if t.Pos.Batch == 0 {
			t.stats = epochStats{}
		}
		if t.Hooks.EpochStart != nil {
			t.Hooks.EpochStart(t.Pos.Epoch, t.Pos.Batch, nb)
		}
		start := time.Now()
		var paused time.Duration
		interrupted := func() error {
			t.stats.Seconds += time.Since(start).Seconds() - paused.Seconds()
			if t.Interrupted != nil {
				if err := t.Interrupted(t); err != nil {
					return err
				}
			}
			return ErrInterrupted
		}
		for t.Pos.Batch < nb {
			if ctx.Err() != nil {
				return interrupted()
			}
			ids := order[t.Pos.Batch*bs : min((t.Pos.Batch+1)*bs, len(order))]
			data.Batch(x, labels[:len(ids)], t.Data.Train.DS, ids, t.Data.Norm)
			if cfg.Data.Flip || cfg.Data.CropPadding > 0 {
				// Reseeded per batch from its position, so a resumed run
				// draws the same crops and flips.
				augSrc.Seed(cfg.Seed, streamAugment+uint64(t.Pos.Epoch)<<32+uint64(t.Pos.Batch))
				scratch = data.Augment(x, t.Data.Shape, aug, cfg.Data.CropPadding, cfg.Data.Flip, fill, scratch)
			}
			due := t.telemetryDue()
			tr, traces := t.Rule.(rule.Tracer)
			if due && traces {
				tr.Trace(&t.traj)
			}
			t.batch = rule.Batch[T]{X: x, Labels: labels[:len(ids)], Seed: batchSeed(cfg.Seed, t.Pos.Step)}
			if due {
				p := time.Now()
				t.probeStability(&t.batch)
				paused += time.Since(p)
				if err := t.stabilityGuard(nil); err != nil {
					return err
				}
			}
			t.upd.begin(t.Sched.LR(t.Pos.Step), due)
			model.DropoutOn(t.drops, dropoutSeed(t.batch.Seed), 0)
			r, err := t.Rule.Step(ctx, &t.batch, &t.upd)
			model.DropoutOff(t.drops)
			if due && traces {
				tr.Trace(nil)
			} else {
				t.traj = t.traj[:0]
			}
			paused += t.upd.paused
			if err != nil {
				if ctx.Err() != nil && !isDiverged(err) {
					// Stopped inside the batch: undo its updates, so the
					// checkpoint is that of the last completed batch.
					if t.upd.n > 0 && t.Info.UpdatesPerBatch(cfg) > 1 {
						t.Opt.Restore(&t.saved)
					}
					return interrupted()
				}
				return err
			}
			if t.poison != nil && t.poison(t.Pos.Step) {
				r.Loss = math.NaN()
			}
			if err := t.checkFinite(r); err != nil {
				return err
			}
			if due {
				if err := t.stabilityGuard(&r); err != nil {
					return err
				}
				p := time.Now()
				if err := t.Hooks.Telemetry(t.telemetry(r, t.traj)); err != nil {
					return err
				}
				paused += time.Since(p)
			}
			t.Pos.Step++
			t.Pos.Batch++
			t.accumulate(r, len(ids))
			if t.Hooks.Batch != nil {
				t.Hooks.Batch(t.Pos.Epoch, t.Pos.Batch, r, len(ids))
			}
			if cfg.Train.MaxSteps > 0 && t.Pos.Step >= cfg.Train.MaxSteps {
				break
			}
		}
		t.stats.Seconds += time.Since(start).Seconds() - paused.Seconds()
		m := t.endEpoch()
		t.Pos.Epoch++
		t.Pos.Batch = 0
		if t.Hooks.Epoch != nil {
			if err := t.Hooks.Epoch(m, t); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Trainer[T]) accumulate(r relax.Result, n int) {
	s := &t.stats
	s.LossSum += r.Loss
	s.Correct += r.Correct
	s.Samples += n
	s.EnergySum += r.Energy
	if len(s.LevelSums) < len(r.EnergyLevels) {
		s.LevelSums = append(s.LevelSums, make([]float64, len(r.EnergyLevels)-len(s.LevelSums))...)
	}
	for i, e := range r.EnergyLevels {
		s.LevelSums[i] += e
	}
	s.Batches++
}

// endEpoch evaluates and fills the epoch's metrics; it updates Best.
func (t *Trainer[T]) endEpoch() EpochMetrics {
	s := t.stats
	m := EpochMetrics{Epoch: t.Pos.Epoch + 1, Step: t.Pos.Step, Method: t.Info.Name, Seconds: s.Seconds,
		LR: t.Sched.LR(max(t.Pos.Step-1, 0))}
	if s.Samples > 0 {
		m.TrainLoss = s.LossSum / float64(s.Samples)
		m.TrainAcc = float64(s.Correct) / float64(s.Samples)
	}
	if s.Batches > 0 {
		m.Energy = s.EnergySum / float64(s.Batches)
		// Per level, input side first; vertex 0 (the input) has no error.
		for _, e := range s.LevelSums[min(1, len(s.LevelSums)):] {
			m.EnergyPerLevel = append(m.EnergyPerLevel, e/float64(s.Batches))
		}
	}
	if s.Seconds > 0 {
		m.SamplesPerSec = float64(s.Samples) / s.Seconds
	}
	m.InferenceSteps = t.Info.InferenceSteps(t.Cfg, t.G.Depth())
	test := t.eval.run(t.Data.Test, "test", t.Data.Classes)
	m.TestLoss, m.TestAcc = test.Loss, test.Accuracy
	sel := test.Accuracy
	if t.Data.Val.Len() > 0 {
		val := t.eval.run(t.Data.Val, "val", t.Data.Classes)
		m.ValLoss, m.ValAcc = &val.Loss, &val.Accuracy
		sel = val.Accuracy
	}
	if sel > t.Best.Value {
		t.Best.Value, t.Best.Epoch, t.Best.Test = sel, m.Epoch, test.Accuracy
	}
	return m
}

// checkFinite stops on a NaN or Inf loss or energy.
func (t *Trainer[T]) checkFinite(r relax.Result) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	hint := t.Info.Hint
	if bad(r.Loss) {
		return &DivergedError{Quantity: "loss", Epoch: t.Pos.Epoch + 1, Step: t.Pos.Step + 1, Hint: hint}
	}
	if bad(r.Energy) {
		where := ""
		for v, e := range r.EnergyLevels {
			if bad(e) {
				where = "vertex " + t.G.Vertices[v].Name
				break
			}
		}
		return &DivergedError{Quantity: "energy", Where: where, Epoch: t.Pos.Epoch + 1, Step: t.Pos.Step + 1, Hint: hint}
	}
	// Inference descends F from its feed-forward value, the loss; energy
	// that grows far beyond it means the value-node steps diverge.
	if lim := t.Cfg.PC.EnergyGrowthLimit; t.Info.EnergyGuard && lim > 0 && r.Samples > 0 {
		start := r.Loss / float64(r.Samples)
		if r.StartEnergy > 0 {
			start = r.StartEnergy
		}
		if r.Energy > lim*start {
			return &DivergedError{Quantity: "inference energy", Where: "vertex " + t.G.Vertices[worstLevel(r.EnergyLevels)].Name,
				Epoch: t.Pos.Epoch + 1, Step: t.Pos.Step + 1, Hint: "lower pc.x_lr or pc.x_momentum, or use fewer pc.steps",
				Detail: fmt.Sprintf("grew from %.4g to %.4g during inference, more than pc.energy_growth_limit = %g times", start, r.Energy, lim)}
		}
	}
	return nil
}

// worstLevel returns the vertex with the largest energy term.
func worstLevel(levels []float64) int {
	w := 0
	for v, e := range levels {
		if e > levels[w] || math.IsNaN(e) {
			w = v
		}
	}
	return w
}

// batchSeed is the seed of a rule's random choices in the batch at step:
// the same for every part of a split batch, and on resume.
func batchSeed(seed uint64, step int) uint64 {
	z := seed + 0x9e3779b97f4a7c15*uint64(step+1)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func isDiverged(err error) bool {
	var de *DivergedError
	return errors.As(err, &de)
}

func (t *Trainer[T]) checkWeights() error {
	for _, p := range t.G.Params() {
		if !tensor.AllFinite(p.Value.Data) {
			return &DivergedError{Quantity: "weights", Where: p.Name, Epoch: t.Pos.Epoch + 1, Step: t.Pos.Step + 1, Hint: t.Info.Hint}
		}
	}
	return nil
}

// Evaluate runs the model on a split ("test", "val" or "train").
func (t *Trainer[T]) Evaluate(split string) EvalResult {
	v := t.Data.Test
	switch split {
	case "val":
		v = t.Data.Val
	case "train":
		v = t.Data.Train
	}
	return t.eval.run(v, split, t.Data.Classes)
}
