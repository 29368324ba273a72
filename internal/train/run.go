package train

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Reporter shows a run's progress to a person. Every method may be a
// no-op.
type Reporter interface {
	// Logf reports what a run does (the quiet may skip it).
	Logf(format string, args ...any)
	// Noticef reports what the user must know, such as how to resume an
	// interrupted run: shown even when quiet.
	Noticef(format string, args ...any)
	EpochStart(p EpochPlan)
	Batch(batch int, loss float64, samples int)
	EpochEnd(m EpochMetrics)
}

// EpochPlan is where an epoch starts and how long the run is.
type EpochPlan struct {
	// Epoch is the epoch (1-based) of Epochs (train.epochs); it starts, or
	// resumes, at batch StartBatch of Batches.
	Epoch, Epochs, Batches, StartBatch int
	// Step is the optimizer steps done before it, TotalSteps those of the
	// whole run.
	Step, TotalSteps int
	// MaxSteps is train.max_steps when it ends the run before its epochs
	// (progress is then counted in steps), else 0.
	MaxSteps int
	// LogEvery is train.log_every_s.
	LogEvery float64
}

// plan describes the epoch (0-based) starting at batch start.
func (t *Trainer[T]) plan(epoch, start, batches int) EpochPlan {
	cfg := t.Cfg
	p := EpochPlan{Epoch: epoch + 1, Epochs: cfg.Train.Epochs, Batches: batches, StartBatch: start,
		Step: t.Pos.Step, TotalSteps: t.Sched.Total, LogEvery: cfg.Train.LogEveryS}
	if m := cfg.Train.MaxSteps; m > 0 && m < cfg.Train.Epochs*batches {
		p.MaxSteps = m
	}
	return p
}

// RunOptions are the train command's options beyond the config.
type RunOptions struct {
	// ConfigName names the run when train.out_dir is empty.
	ConfigName string
	// Force lets a run overwrite an existing run directory.
	Force bool
	// Resume is a run directory to continue.
	Resume string
	// poison is a test seam: see Trainer.poison.
	poison   func(step int) bool
	Reporter Reporter
	Fetch    FetchOptions
}

// Summary is summary.json.
type Summary struct {
	Method  string `json:"method"`
	DType   string `json:"dtype"`
	Seed    uint64 `json:"seed"`
	Version string `json:"version"`
	Backend string `json:"backend"`
	OutDir  string `json:"out_dir"`
	// Epochs and Steps completed; an epoch that train.max_steps cut short
	// counts in Epochs, and MaxSteps is then train.max_steps (0 when the
	// run did all its epochs).
	Epochs   int `json:"epochs"`
	Steps    int `json:"steps"`
	MaxSteps int `json:"max_steps,omitempty"`
	// FinalTestAcc is the test accuracy after the last epoch: the run's
	// result when it has no validation split.
	FinalTestAcc  float64 `json:"final_test_acc"`
	FinalTestLoss float64 `json:"final_test_loss"`
	// BestTestAcc is the test accuracy of the epoch with the highest
	// validation accuracy, BestEpoch that epoch (BestSelectedBy
	// "val_acc"); checkpoints/best.safetensors holds it. All three are
	// absent without a validation split (data.val_split: 0): no epoch is
	// then chosen, and no best.safetensors is written.
	BestTestAcc    *float64 `json:"best_test_acc,omitempty"`
	BestEpoch      int      `json:"best_epoch,omitempty"`
	BestSelectedBy string   `json:"best_selected_by,omitempty"`
	// TestSelectedTestAcc is the highest test accuracy of any epoch and
	// TestSelectedEpoch that epoch: chosen by the test set itself, an
	// optimistic figure kept for comparison, never the run's result.
	TestSelectedTestAcc float64 `json:"test_selected_test_acc"`
	TestSelectedEpoch   int     `json:"test_selected_epoch"`
	// WallSeconds is the whole command's time; TrainSeconds the training
	// loops' only (the epochs' seconds). After a resume both count every
	// segment of the run.
	WallSeconds  float64 `json:"wall_seconds"`
	TrainSeconds float64 `json:"train_seconds"`
}

// Train runs the experiment cfg describes (or resumes opts.Resume) and
// writes its files. It returns the summary.
func Train(ctx context.Context, cfg *config.Config, opts RunOptions) (*Summary, error) {
	if cfg.DType == "float64" {
		return trainT[float64](ctx, cfg, opts)
	}
	return trainT[float32](ctx, cfg, opts)
}

// ResumeConfig reads the resolved config of a run directory.
func ResumeConfig(dir string) (*config.Config, error) {
	p := filepath.Join(dir, "config.yaml")
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, userErr("--resume %s: not a run directory (%v)", dir, unwrapPathErr(err))
	}
	c, err := configFromYAML(raw, p)
	if err != nil {
		return nil, &UserError{Err: err}
	}
	return c, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// chooseOutDir picks the run directory and checks, without writing
// anything, that the run may use it: a new or empty folder, or with
// --force a run of pctrain's own. A folder holding anything else is never
// written into, --force or not.
func chooseOutDir(cfg *config.Config, opts RunOptions) (string, error) {
	dir := cfg.Train.OutDir
	if dir == "" {
		base := opts.ConfigName
		if base == "" {
			base = cfg.Method
		}
		dir = filepath.Join("runs", base)
		for i := 2; isRun(dir) || foreignEntry(dir) != ""; i++ {
			dir = filepath.Join("runs", fmt.Sprintf("%s-%d", base, i))
		}
		return dir, nil
	}
	if isRun(dir) {
		if !opts.Force {
			return "", userErr("train.out_dir: %s already holds a run (use --resume %s to continue it, --force to overwrite it, or another --out)", dir, dir)
		}
		return dir, nil
	}
	if f := foreignEntry(dir); f != "" {
		return "", userErr("train.out_dir: %s is not a pctrain run (no config.yaml) but holds %s: pctrain writes only into a new or empty folder or a run of its own; choose another --out", dir, f)
	}
	return dir, nil
}

// isRun reports whether dir holds a pctrain run (its config.yaml).
func isRun(dir string) bool { return exists(filepath.Join(dir, "config.yaml")) }

// foreignEntry returns the name of the first entry of dir that a run
// starting there would not have made itself ("" for a missing or empty
// folder). A run creates checkpoints/ (and a sweep sweep.json) before its
// config.yaml, so a run stopped in between leaves only those.
func foreignEntry(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		switch {
		case e.Name() == ".write-test", e.Name() == "sweep.json" && !e.IsDir():
			continue
		case e.Name() == "checkpoints" && e.IsDir():
			if sub, err := os.ReadDir(filepath.Join(dir, "checkpoints")); err == nil && len(sub) == 0 {
				continue
			}
			return "checkpoints/ with files in it"
		}
		return e.Name()
	}
	return ""
}

// createOutDir creates the run directory chooseOutDir picked and checks
// that it is writable. (With --force over an earlier run, that run's
// outputs are removed later, once the data has loaded.) undo removes the
// folders it created that are still empty: a run refused before it wrote
// anything (bad data, say) leaves no trace.
func createOutDir(dir string) (undo func(), err error) {
	var created []string
	for p := filepath.Join(dir, "checkpoints"); !exists(p); p = filepath.Dir(p) {
		created = append(created, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	undo = func() {
		for _, p := range created {
			os.Remove(p) // only empty folders go
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
		undo()
		return nil, userErr("train.out_dir: cannot create %s: %v", dir, unwrapPathErr(err))
	}
	probe := filepath.Join(dir, ".write-test")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		undo()
		return nil, userErr("train.out_dir: %s is not writable: %v", dir, unwrapPathErr(err))
	}
	os.Remove(probe)
	return undo, nil
}

// removeOutputs deletes what a run writes besides its config.yaml.
func removeOutputs(dir string) {
	for _, f := range []string{"metrics.jsonl", "metrics.csv", "summary.json", "telemetry.jsonl"} {
		os.Remove(filepath.Join(dir, f))
	}
	os.RemoveAll(filepath.Join(dir, "checkpoints"))
	os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

type nopReporter struct{}

func (nopReporter) Logf(string, ...any)     {}
func (nopReporter) Noticef(string, ...any)  {}
func (nopReporter) EpochStart(EpochPlan)    {}
func (nopReporter) Batch(int, float64, int) {}
func (nopReporter) EpochEnd(EpochMetrics)   {}

func trainT[T tensor.Float](ctx context.Context, cfg *config.Config, opts RunOptions) (*Summary, error) {
	begin := time.Now()
	rep := opts.Reporter
	if rep == nil {
		rep = nopReporter{}
	}
	if opts.Fetch.Logf == nil {
		opts.Fetch.Logf = rep.Logf
	}
	var dir string
	var resume *loadedCheckpoint
	var err error
	// restart: --resume of a run stopped before its first checkpoint
	// (config.yaml written, no last.safetensors): it starts again.
	restart := false
	if opts.Resume != "" {
		dir = opts.Resume
		last := filepath.Join(dir, "checkpoints", "last.safetensors")
		if _, err := os.Stat(last); errors.Is(err, fs.ErrNotExist) && isRun(dir) {
			restart = true
		} else {
			ck, err := readCheckpoint(last)
			if err != nil {
				return nil, err
			}
			if err := checkResumeConfig(dir, cfg, ck); err != nil {
				return nil, err
			}
			resume = ck
		}
	} else if dir, err = chooseOutDir(cfg, opts); err != nil {
		return nil, err
	}
	// Cheap refusals come before the data set is loaded.
	if opts.Resume != "" && exists(filepath.Join(dir, "summary.json")) {
		return nil, userErr("--resume %s: the run has already finished", dir)
	}
	if opts.Resume == "" {
		undo, err := createOutDir(dir)
		if err != nil {
			return nil, err
		}
		// Refused before config.yaml is written: nothing of the run stays.
		defer func() {
			if !isRun(dir) {
				undo()
			}
		}()
	}
	d, err := LoadData(cfg, opts.Fetch)
	if err != nil {
		return nil, err
	}
	if w := ExactnessWarning(cfg, cfg.Method); w != "" {
		rep.Logf("%s", w)
	}
	t, err := NewTrainer[T](cfg, d)
	if err != nil {
		return nil, err
	}
	t.poison = opts.poison
	// Seconds of the segments before this one (a resumed run's).
	var trainSecs, wallBefore float64
	// savedStep is the step of the newest last.safetensors, -1 for none.
	savedStep := -1
	switch {
	case resume != nil:
		if err := resume.loadWeights(t.G, buffersRequired); err != nil {
			return nil, err
		}
		if err := loadOptimizer(resume, t.Opt); err != nil {
			return nil, err
		}
		if t.Pos, t.stats, t.Best, err = resume.runState(); err != nil {
			return nil, err
		}
		if trainSecs, wallBefore, err = resume.times(); err != nil {
			return nil, err
		}
		if t.finished() {
			return nil, userErr("--resume %s: the run has already finished", dir)
		}
		savedStep = t.Pos.Step
		rep.Logf("resuming %s at epoch %d, batch %d (step %d)", dir, t.Pos.Epoch+1, t.Pos.Batch, t.Pos.Step)
	case restart:
		if exists(filepath.Join(dir, "summary.json")) {
			return nil, userErr("--resume %s: the run has already finished", dir)
		}
		removeOutputs(dir)
		rep.Logf("resuming %s: it stopped before its first checkpoint, so it starts from the beginning", dir)
	default:
		if opts.Force {
			removeOutputs(dir)
		}
		cfg.Train.OutDir = dir
		if err := model.WriteFileAtomic(filepath.Join(dir, "config.yaml"), func(w io.Writer) error {
			_, err := w.Write(cfg.YAML())
			return err
		}); err != nil {
			return nil, userErr("train.out_dir: %v", err)
		}
		rep.Logf("run directory %s (%s, %s, %d parameters, backend %s)", dir, cfg.Method, cfg.DType, t.G.NumParams(), tensor.Describe())
	}
	if resume != nil {
		// Temporary files of checkpoints a crash interrupted.
		stale, _ := filepath.Glob(filepath.Join(dir, "checkpoints", ".*.tmp-*"))
		for _, f := range stale {
			os.Remove(f)
		}
		// A crash between writing an epoch's metrics and its checkpoint
		// leaves metrics of an epoch that will run again: drop them, and
		// telemetry of steps that will run again.
		if err := truncateMetrics(dir, t.Pos.Epoch); err != nil {
			return nil, userErr("--resume %s: %v", dir, err)
		}
		if err := truncateTelemetry(dir, t.Pos.Step); err != nil {
			return nil, userErr("--resume %s: %v", dir, err)
		}
	}
	rec, err := newRecorder(dir, t.G.Output())
	if err != nil {
		return nil, err
	}
	defer rec.close()
	ckDir := filepath.Join(dir, "checkpoints")
	meta := func() checkpointMeta {
		savedStep = t.Pos.Step
		return checkpointMeta{Pos: t.Pos, Config: cfg, Stats: t.stats, Best: t.Best,
			TrainSeconds: trainSecs, WallSeconds: wallBefore + time.Since(begin).Seconds()}
	}
	var last EpochMetrics
	t.Hooks = Hooks[T]{
		EpochStart: func(epoch, start, batches int) { rep.EpochStart(t.plan(epoch, start, batches)) },
		Batch:      func(_, batch int, r relax.Result, n int) { rep.Batch(batch, r.Loss/float64(n), n) },
		Epoch: func(m EpochMetrics, _ *Trainer[T]) error {
			last = m
			trainSecs += m.Seconds
			rep.EpochEnd(m)
			if err := rec.write(m); err != nil {
				return userErr("train.out_dir: writing metrics: %v", err)
			}
			if err := saveCheckpoint(filepath.Join(ckDir, "last.safetensors"), t.G, t.Opt, meta()); err != nil {
				return userErr("train.out_dir: writing checkpoint: %v", err)
			}
			// Only a validation-selected epoch is offered as the best: with
			// no validation split, last.safetensors is the result.
			if t.Best.Metric == "val_acc" && t.Best.Epoch == m.Epoch {
				bm := meta()
				bm.SelectedBy = "val_acc"
				if err := saveCheckpoint(filepath.Join(ckDir, "best.safetensors"), t.G, t.Opt, bm); err != nil {
					return userErr("train.out_dir: writing checkpoint: %v", err)
				}
			}
			if k := cfg.Train.CheckpointEvery; k > 0 && m.Epoch%k == 0 {
				p := filepath.Join(ckDir, fmt.Sprintf("epoch-%d.safetensors", m.Epoch))
				if err := saveCheckpoint(p, t.G, t.Opt, meta()); err != nil {
					return userErr("train.out_dir: writing checkpoint: %v", err)
				}
			}
			return nil
		},
	}
	if cfg.Train.TelemetryEvery > 0 {
		tf, err := os.OpenFile(filepath.Join(dir, "telemetry.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, userErr("train.out_dir: %v", unwrapPathErr(err))
		}
		defer tf.Close()
		t.Hooks.Warn = func(msg string) { rep.Logf("warning: %s", msg) }
		t.Hooks.Telemetry = func(rec Telemetry) error {
			line := marshalLine(rec)
			if _, err := tf.Write(append(line, '\n')); err != nil {
				return userErr("train.out_dir: writing telemetry: %v", err)
			}
			return nil
		}
	}
	t.Interrupted = func(*Trainer[T]) error {
		if err := saveCheckpoint(filepath.Join(ckDir, "last.safetensors"), t.G, t.Opt, meta()); err != nil {
			return userErr("train.out_dir: writing checkpoint on interrupt: %v", err)
		}
		rep.Noticef("interrupted at epoch %d, batch %d (step %d): checkpoint written; continue with: pctrain train --resume %s", t.Pos.Epoch+1, t.Pos.Batch, t.Pos.Step, dir)
		return nil
	}
	if err := t.Run(ctx); err != nil {
		var de *DivergedError
		if errors.As(err, &de) && savedStep >= 0 {
			de.Checkpoint, de.CheckpointStep = filepath.Join(ckDir, "last.safetensors"), savedStep
		}
		return nil, err
	}
	s := &Summary{
		Method: cfg.Method, DType: cfg.DType, Seed: cfg.Seed, Version: Version, Backend: tensor.Describe(), OutDir: dir,
		Epochs: t.Pos.Epoch, Steps: t.Pos.Step, FinalTestAcc: last.TestAcc, FinalTestLoss: last.TestLoss,
		WallSeconds: wallBefore + time.Since(begin).Seconds(), TrainSeconds: trainSecs,
	}
	if cfg.Train.MaxSteps > 0 && t.Pos.Step >= cfg.Train.MaxSteps && t.Pos.Step < cfg.Train.Epochs*t.batches() {
		s.MaxSteps = cfg.Train.MaxSteps
	}
	if t.Best.Metric == "val_acc" {
		acc := t.Best.Test
		s.BestTestAcc, s.BestEpoch, s.BestSelectedBy = &acc, t.Best.Epoch, t.Best.Metric
	}
	// From metrics.jsonl, which holds every epoch of every segment.
	if s.TestSelectedEpoch, s.TestSelectedTestAcc, err = bestTestEpoch(filepath.Join(dir, "metrics.jsonl")); err != nil {
		return nil, err
	}
	raw, _ := json.MarshalIndent(s, "", "  ")
	if err := model.WriteFileAtomic(filepath.Join(dir, "summary.json"), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	}); err != nil {
		return nil, userErr("train.out_dir: writing summary: %v", err)
	}
	return s, nil
}

// recorder appends to metrics.jsonl and metrics.csv.
type recorder struct {
	jsonl, csv *os.File
	cw         *csv.Writer
	header     bool
	levels     int
}

func newRecorder(dir string, levels int) (*recorder, error) {
	open := func(name string) (*os.File, error) {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, userErr("train.out_dir: %v", unwrapPathErr(err))
		}
		return f, nil
	}
	r := &recorder{levels: levels}
	var err error
	if r.jsonl, err = open("metrics.jsonl"); err != nil {
		return nil, err
	}
	if r.csv, err = open("metrics.csv"); err != nil {
		r.jsonl.Close()
		return nil, err
	}
	st, _ := r.csv.Stat()
	r.header = st.Size() == 0
	r.cw = csv.NewWriter(r.csv)
	return r, nil
}

func (r *recorder) close() {
	r.jsonl.Close()
	r.csv.Close()
}

func (r *recorder) write(m EpochMetrics) error {
	line := marshalLine(m)
	if _, err := r.jsonl.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := r.jsonl.Sync(); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}
	if r.header {
		h := []string{"epoch", "step", "method", "train_loss", "train_acc", "test_loss", "test_acc", "val_loss", "val_acc", "energy"}
		for i := 1; i <= r.levels; i++ {
			h = append(h, fmt.Sprintf("energy_v%d", i))
		}
		h = append(h, "inference_steps", "lr", "seconds", "samples_per_sec")
		r.cw.Write(h)
		r.header = false
	}
	row := []string{strconv.Itoa(m.Epoch), strconv.Itoa(m.Step), m.Method, f(m.TrainLoss), f(m.TrainAcc), f(m.TestLoss), f(m.TestAcc), opt(m.ValLoss), opt(m.ValAcc), f(m.Energy)}
	for i := 0; i < r.levels; i++ {
		v := ""
		if i < len(m.EnergyPerLevel) {
			v = f(m.EnergyPerLevel[i])
		}
		row = append(row, v)
	}
	row = append(row, strconv.Itoa(m.InferenceSteps), f(m.LR), f(m.Seconds), f(m.SamplesPerSec))
	r.cw.Write(row)
	r.cw.Flush()
	if err := r.cw.Error(); err != nil {
		return err
	}
	return r.csv.Sync()
}

// ConfigName derives a run name from a config file path.
func ConfigName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// RunName names a run of the config file with --set overrides: the
// config's name, then each override as key=value, so that
// `--set data.name=fashion-mnist` on mnist-pc.yaml trains into
// runs/mnist-pc-data.name=fashion-mnist, not a folder named for MNIST.
// Characters a shell or file system would trip on become "_"; a name
// longer than 100 bytes is cut and ends with a hash of the whole.
func RunName(file string, sets []string) string {
	name := ConfigName(file)
	for _, s := range sets {
		key, val, _ := strings.Cut(s, "=")
		name += "-" + strings.TrimSpace(key) + "=" + strings.TrimSpace(val)
	}
	name = strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")
	if len(name) > 100 {
		sum := sha256.Sum256([]byte(name))
		name = name[:91] + "-" + hex.EncodeToString(sum[:4])
	}
	return name
}

// unsafeName matches runs of characters kept out of run folder names.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._=+-]+`)

// ExactnessWarning is the rule's notice for this config (a Z-IL run with
// zil.gamma ≠ 1 is no longer exact), or "".
func ExactnessWarning(cfg *config.Config, method string) string {
	info, err := rule.Lookup(method)
	if err != nil || info.Warning == nil {
		return ""
	}
	c := *cfg
	c.Method = method
	return info.Warning(&c)
}

// truncateMetrics keeps the metrics of the first epochs epochs only.
func truncateMetrics(dir string, epochs int) error {
	for _, name := range []string{"metrics.jsonl", "metrics.csv"} {
		p := filepath.Join(dir, name)
		raw, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		lines := strings.SplitAfter(string(raw), "\n")
		var keep strings.Builder
		for i, l := range lines {
			if l == "" || !strings.HasSuffix(l, "\n") {
				continue // a torn last line
			}
			if name == "metrics.csv" && i == 0 {
				keep.WriteString(l)
				continue
			}
			if epochOfLine(name, l) <= epochs {
				keep.WriteString(l)
			}
		}
		if keep.Len() == len(raw) {
			continue
		}
		if err := model.WriteFileAtomic(p, func(w io.Writer) error {
			_, err := io.WriteString(w, keep.String())
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// truncateTelemetry keeps the telemetry records of the first steps steps.
func truncateTelemetry(dir string, steps int) error {
	p := filepath.Join(dir, "telemetry.jsonl")
	raw, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep strings.Builder
	for _, l := range strings.SplitAfter(string(raw), "\n") {
		var r struct{ Step int }
		if strings.HasSuffix(l, "\n") && json.Unmarshal([]byte(l), &r) == nil && r.Step <= steps {
			keep.WriteString(l)
		}
	}
	if keep.Len() == len(raw) {
		return nil
	}
	return model.WriteFileAtomic(p, func(w io.Writer) error {
		_, err := io.WriteString(w, keep.String())
		return err
	})
}

func epochOfLine(name, line string) int {
	if name == "metrics.csv" {
		n, _ := strconv.Atoi(strings.SplitN(line, ",", 2)[0])
		return n
	}
	var m struct{ Epoch int }
	json.Unmarshal([]byte(line), &m)
	return m.Epoch
}
