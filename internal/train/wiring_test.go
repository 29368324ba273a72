package train

// Tests of the training loop's wiring, through the trainer's public hooks:
// every expectation is computed here, independently of the trainer (a
// linear model's gradient and PyTorch's optimizer rules by hand, the
// documented LR schedule, sample identities recovered from their values).

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// writeWiringNPZ writes nTrain/nTest samples of d values, 3 classes; class
// y shifts feature j by sep when j%3 == y. Every sample's values are
// distinct, so a sample can be recognised in a batch. The test labels are
// shifted by testShift (mod 3).
func writeWiringNPZ(t *testing.T, path string, nTrain, nTest, d int, sep float64, testShift int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	gen := func(n, shift int) ([]float64, []int64) {
		x := make([]float64, n*d)
		y := make([]int64, n)
		for i := range y {
			c := i % 3
			y[i] = int64((c + shift) % 3)
			for j := 0; j < d; j++ {
				x[i*d+j] = rng.NormFloat64()
				if j%3 == c {
					x[i*d+j] += sep
				}
			}
		}
		return x, y
	}
	xtr, ytr := gen(nTrain, 0)
	xte, yte := gen(nTest, testShift)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := data.WriteNPZ(f, map[string][]byte{
		"x_train": data.EncodeNPY([]int{nTrain, d}, xtr), "y_train": data.EncodeNPY([]int{nTrain}, ytr),
		"x_test": data.EncodeNPY([]int{nTest, d}, xte), "y_test": data.EncodeNPY([]int{nTest}, yte),
	}, []string{"x_train", "y_train", "x_test", "y_test"}); err != nil {
		t.Fatal(err)
	}
}

// refOpt is PyTorch's SGD / Adam / AdamW written out for one flat vector
// (torch.optim docs, "Algorithm" sections), kept apart from package optim.
type refOpt struct {
	name        string
	mom, wd     float64
	nesterov    bool
	buf, m, v   []float64
	t           int
	b1, b2, eps float64
}

func (o *refOpt) step(p, g []float64, lr float64) {
	if o.buf == nil {
		o.buf, o.m, o.v = make([]float64, len(p)), make([]float64, len(p)), make([]float64, len(p))
		o.b1, o.b2, o.eps = 0.9, 0.999, 1e-8
	}
	o.t++
	switch o.name {
	case "sgd":
		for i := range p {
			gi := g[i]
			if o.wd != 0 {
				gi += o.wd * p[i]
			}
			if o.mom != 0 {
				if o.t == 1 {
					o.buf[i] = gi // torch.clone(d_p) on the first step
				} else {
					o.buf[i] = o.mom*o.buf[i] + gi
				}
				if o.nesterov {
					gi = gi + o.mom*o.buf[i]
				} else {
					gi = o.buf[i]
				}
			}
			p[i] -= lr * gi
		}
	case "adam", "adamw":
		bc1 := 1 - math.Pow(o.b1, float64(o.t))
		bc2 := 1 - math.Pow(o.b2, float64(o.t))
		for i := range p {
			gi := g[i]
			if o.name == "adamw" {
				p[i] *= 1 - lr*o.wd
			} else if o.wd != 0 {
				gi += o.wd * p[i]
			}
			o.m[i] = o.b1*o.m[i] + (1-o.b1)*gi
			o.v[i] = o.b2*o.v[i] + (1-o.b2)*gi*gi
			denom := math.Sqrt(o.v[i])/math.Sqrt(bc2) + o.eps
			p[i] -= lr / bc1 * o.m[i] / denom
		}
	}
}

// linearRef is the expected batch of a linear model (sizes [d, k], MSE
// loss ½‖onehot(y) − (W x + b)‖² per sample): summed loss, correct count
// and the batch-mean gradient of W ([k, d], row-major) and b.
func linearRef(W, b []float64, x *tensor.Mat[float64], labels []int, k int) (loss float64, correct int, gW, gb []float64) {
	d := x.Cols
	gW, gb = make([]float64, k*d), make([]float64, k)
	n := float64(x.Rows)
	for r := 0; r < x.Rows; r++ {
		row := x.Row(r)
		best := 0
		logits := make([]float64, k)
		for o := 0; o < k; o++ {
			s := b[o]
			for j := 0; j < d; j++ {
				s += W[o*d+j] * row[j]
			}
			logits[o] = s
			if s > logits[best] {
				best = o
			}
		}
		if best == labels[r] {
			correct++
		}
		for o := 0; o < k; o++ {
			y := 0.0
			if o == labels[r] {
				y = 1
			}
			e := logits[o] - y
			loss += 0.5 * e * e
			gb[o] += e / n
			for j := 0; j < d; j++ {
				gW[o*d+j] += e * row[j] / n
			}
		}
	}
	return loss, correct, gW, gb
}

func closeTo(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

// On a linear model every step of the trainer is checked against a hand
// computation: the gradient the method leaves is the batch mean over the
// batch's samples (the last, partial batch included, also when the batch
// is split across threads); the optimizer applies PyTorch's rule for it at
// the learning rate optim.Schedule gives for that step, with Total =
// min(epochs·batches, train.max_steps) and Adam's step count starting at 1;
// each epoch's train_loss/train_acc are sums over samples divided by the
// number of samples (not means of batch means), its lr is the last step's,
// and the run stops after train.max_steps. A failure names the first step
// where the trainer and PyTorch's rules part.
func TestTrainerStepsMatchHandComputation(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 100, 30, 6, 1.5, 0, 3)
	cases := []struct {
		name     string
		method   string
		threads  int
		opt      config.OptimConfig
		maxSteps int
	}{
		{"sgd-cosine-warmup", "bp", 1, config.OptimConfig{Name: "sgd", LR: 0.2, Schedule: "cosine", WarmupSteps: 3, MinLR: 0.01}, 0},
		{"sgd-nesterov-wd-maxsteps", "bp", 1, config.OptimConfig{Name: "sgd", LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 0.05, Schedule: "cosine", WarmupSteps: 2}, 9},
		{"sgd-momentum-wd", "zil", 1, config.OptimConfig{Name: "sgd", LR: 0.05, Momentum: 0.8, WeightDecay: 0.1, Schedule: "constant"}, 0},
		{"adam-wd-split", "bp", 2, config.OptimConfig{Name: "adam", LR: 0.01, WeightDecay: 0.1, Schedule: "cosine"}, 0},
		{"adamw-maxsteps", "bp", 1, config.OptimConfig{Name: "adamw", LR: 0.02, WeightDecay: 0.3, Schedule: "cosine", WarmupSteps: 4, MinLR: 0.001}, 7},
	}
	for _, c := range cases {
		cfg := config.Default()
		cfg.Method, cfg.DType, cfg.Loss = c.method, "float64", "mse"
		// 80 training samples in batches of 23: 23, 23, 23 and a partial 11
		// (split over two threads: 11 + 12 and 5 + 6 rows).
		cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 23, Shuffle: true, ValSplit: 0.2, Normalize: "none"}
		cfg.Model.Sizes = []int{6, 3}
		cfg.Optim = c.opt
		cfg.Train.Epochs, cfg.Train.MaxSteps, cfg.Train.Threads = 3, c.maxSteps, c.threads
		d, err := LoadData(&cfg, FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer[float64](&cfg, d)
		if err != nil {
			t.Fatal(err)
		}
		const batches = 4
		total := 3 * batches
		if c.maxSteps > 0 {
			total = min(total, c.maxSteps)
		}
		sched := optim.Schedule{Name: c.opt.Schedule, Base: c.opt.LR, Warmup: c.opt.WarmupSteps, Total: total, MinLR: c.opt.MinLR}
		ps := tr.G.Params()
		if len(ps) != 2 || !slices.Equal(ps[0].Shape, []int{3, 6}) || !slices.Equal(ps[1].Shape, []int{3}) {
			t.Fatalf("%s: parameters are not W [3 6], b [3]", c.name)
		}
		// The reference keeps its own copy of the parameters.
		refW := append([]float64(nil), ps[0].Value.Data...)
		refB := append([]float64(nil), ps[1].Value.Data...)
		oW := &refOpt{name: c.opt.Name, mom: c.opt.Momentum, wd: c.opt.WeightDecay, nesterov: c.opt.Nesterov}
		oB := &refOpt{name: c.opt.Name, mom: c.opt.Momentum, wd: c.opt.WeightDecay, nesterov: c.opt.Nesterov}
		steps, failed := 0, false
		var lossSum, energySum float64
		var correct, samples, nBatches int
		var lastLR float64
		fail := func(format string, args ...any) {
			if !failed {
				t.Errorf(c.name+": "+format, args...)
			}
			failed = true
		}
		tr.Hooks.AfterGrad = func(step int, x *tensor.Mat[float64], labels []int) {
			if step != steps {
				fail("AfterGrad at step %d, want %d", step, steps)
			}
			if want := []int{23, 23, 23, 11}[step%batches]; x.Rows != want || len(labels) != want {
				fail("step %d: batch of %d rows, %d labels; want %d", step, x.Rows, len(labels), want)
			}
			loss, corr, gW, gb := linearRef(refW, refB, x, labels, 3)
			lossSum += loss
			energySum += loss / float64(x.Rows)
			nBatches++
			correct += corr
			samples += x.Rows
			for i, g := range gW {
				if !closeTo(ps[0].Grad.Data[i], g, 1e-10) {
					fail("step %d: dW[%d] = %g, the batch mean is %g", step, i, ps[0].Grad.Data[i], g)
					break
				}
			}
			for i, g := range gb {
				if !closeTo(ps[1].Grad.Data[i], g, 1e-10) {
					fail("step %d: db[%d] = %g, the batch mean is %g", step, i, ps[1].Grad.Data[i], g)
					break
				}
			}
			lastLR = sched.LR(step)
			oW.step(refW, gW, lastLR)
			oB.step(refB, gb, lastLR)
		}
		tr.Hooks.Batch = func(_, _ int, _ relax.Result, _ int) {
			for i := range refW {
				if !closeTo(ps[0].Value.Data[i], refW[i], 1e-9) {
					fail("after step %d (lr %g): W[%d] = %.12g, PyTorch's %s rule gives %.12g", steps, sched.LR(steps), i, ps[0].Value.Data[i], c.opt.Name, refW[i])
					break
				}
			}
			for i := range refB {
				if !closeTo(ps[1].Value.Data[i], refB[i], 1e-9) {
					fail("after step %d: b[%d] = %.12g, PyTorch's %s rule gives %.12g", steps, i, ps[1].Value.Data[i], c.opt.Name, refB[i])
					break
				}
			}
			// Keep the reference on the trainer's values so one early
			// difference does not hide the next.
			copy(refW, ps[0].Value.Data)
			copy(refB, ps[1].Value.Data)
			steps++
		}
		var epochs []EpochMetrics
		tr.Hooks.Epoch = func(m EpochMetrics, _ *Trainer[float64]) error {
			epochs = append(epochs, m)
			if !closeTo(m.TrainLoss, lossSum/float64(samples), 1e-10) {
				fail("epoch %d: train_loss %g, the per-sample mean is %g", m.Epoch, m.TrainLoss, lossSum/float64(samples))
			}
			if m.TrainAcc != float64(correct)/float64(samples) {
				fail("epoch %d: train_acc %g, correct/samples = %d/%d", m.Epoch, m.TrainAcc, correct, samples)
			}
			if m.LR != lastLR || m.Step != steps {
				fail("epoch %d: lr %g at step %d, want the last step's lr %g at step %d", m.Epoch, m.LR, m.Step, lastLR, steps)
			}
			// bp's energy is the batch-mean loss, averaged over batches.
			if !closeTo(m.Energy, energySum/float64(nBatches), 1e-10) {
				fail("epoch %d: energy %g, the mean over batches of the batch-mean loss is %g", m.Epoch, m.Energy, energySum/float64(nBatches))
			}
			lossSum, energySum, correct, samples, nBatches = 0, 0, 0, 0, 0
			return nil
		}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if steps != total {
			t.Errorf("%s: %d steps, want %d", c.name, steps, total)
		}
		if c.opt.Name != "sgd" && tr.Opt.StepCount != total {
			t.Errorf("%s: optimizer step count %d, want %d", c.name, tr.Opt.StepCount, total)
		}
		if want := (total + batches - 1) / batches; len(epochs) != want {
			t.Errorf("%s: %d epochs, want %d", c.name, len(epochs), want)
		}
	}
}

// Each epoch visits every training sample exactly once (the partial last
// batch included), in a new order each epoch; the training samples and the
// validation samples are disjoint and together the whole training file,
// with round(val_split·N) held out; every image arrives with its own label;
// and standardisation uses the mean and standard deviation of the training
// samples alone. Samples are recognised by their values, normalised here
// with statistics computed here.
func TestEpochOrderSplitAndStandardisation(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 100, 30, 6, 1.5, 0, 5)
	trainDS, _, err := data.LoadNPZ(npz)
	if err != nil {
		t.Fatal(err)
	}
	for _, shuffle := range []bool{true, false} {
		cfg := config.Default()
		cfg.Method, cfg.DType = "bp", "float64"
		cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 22, Shuffle: shuffle, ValSplit: 0.2, Normalize: "standard"}
		cfg.Model.Sizes = []int{6, 4, 3}
		cfg.Train.Epochs = 3
		cfg.Train.Threads = 1
		d, err := LoadData(&cfg, FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Val.Len() != 20 || d.Train.Len() != 80 {
			t.Fatalf("split %d train + %d val, want 80 + 20", d.Train.Len(), d.Val.Len())
		}
		inVal := map[int]bool{}
		for _, i := range d.Val.Idx {
			if i < 0 || i >= 100 || inVal[i] {
				t.Fatalf("validation index %d out of range or repeated", i)
			}
			inVal[i] = true
		}
		var trainIdx []int
		for i := 0; i < 100; i++ {
			if !inVal[i] {
				trainIdx = append(trainIdx, i)
			}
		}
		// Mean and population std of all values of the training samples.
		vals := trainDS.F64
		if vals == nil {
			for _, v := range trainDS.F32 {
				vals = append(vals, float64(v))
			}
		}
		var s, q float64
		for _, i := range trainIdx {
			for _, v := range vals[i*6 : i*6+6] {
				s += v
				q += v * v
			}
		}
		n := float64(len(trainIdx) * 6)
		mean := s / n
		std := math.Sqrt(q/n - mean*mean)
		norm := func(i int) []float64 {
			r := make([]float64, 6)
			for j := range r {
				r[j] = (vals[i*6+j] - mean) / std
			}
			return r
		}
		tr, err := NewTrainer[float64](&cfg, d)
		if err != nil {
			t.Fatal(err)
		}
		var orders [][]int
		tr.Hooks.EpochStart = func(int, int, int) { orders = append(orders, nil) }
		tr.Hooks.AfterGrad = func(step int, x *tensor.Mat[float64], labels []int) {
			for r := 0; r < x.Rows; r++ {
				found := -1
				for i := 0; i < 100; i++ {
					if tensor.MaxAbsDiff(x.Row(r), norm(i)) < 1e-9 {
						found = i
						break
					}
				}
				if found < 0 {
					t.Fatalf("step %d row %d: %v is no training sample standardised with the training split's mean %g and std %g", step, r, x.Row(r), mean, std)
				}
				if labels[r] != int(trainDS.Labels[found]) {
					t.Fatalf("step %d row %d: sample %d has label %d, the batch says %d", step, r, found, trainDS.Labels[found], labels[r])
				}
				orders[len(orders)-1] = append(orders[len(orders)-1], found)
			}
		}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(orders) != 3 {
			t.Fatalf("%d epochs, want 3", len(orders))
		}
		for e, o := range orders {
			sorted := slices.Sorted(slices.Values(o))
			if !slices.Equal(sorted, trainIdx) {
				t.Fatalf("shuffle %v, epoch %d: visited %d samples %v, want each of the %d training samples (none of the validation split) once", shuffle, e+1, len(o), sorted, len(trainIdx))
			}
			if !shuffle && !slices.Equal(o, trainIdx) {
				t.Errorf("data.shuffle false, epoch %d: order %v, want the file's order", e+1, o)
			}
		}
		if shuffle {
			if slices.Equal(orders[0], trainIdx) {
				t.Error("data.shuffle: epoch 1 is in the file's order")
			}
			for e := 1; e < len(orders); e++ {
				if slices.Equal(orders[e], orders[e-1]) {
					t.Errorf("data.shuffle: epoch %d has the same order as epoch %d", e+1, e)
				}
			}
		}
	}
}

// With a validation split, "best" is the epoch of highest validation
// accuracy, not of highest test accuracy. The test labels here are the
// training labels shifted by one class, so test accuracy falls as the
// model learns while validation accuracy rises; the two choices differ.
func TestBestEpochChosenByValidation(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 150, 60, 6, 0.8, 1, 11)
	cfg := config.Default()
	cfg.Method, cfg.DType = "bp", "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 50, Shuffle: true, ValSplit: 0.3, Normalize: "none"}
	cfg.Model.Sizes = []int{6, 3}
	cfg.Optim = config.OptimConfig{Name: "sgd", LR: 0.02, Schedule: "constant"}
	cfg.Train.Epochs = 6
	cfg.Train.OutDir = filepath.Join(dir, "run")
	s, err := Train(context.Background(), &cfg, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ms := readMetrics(t, cfg.Train.OutDir)
	bestVal, bestTest := 0, 0
	for i, m := range ms {
		if m.ValAcc == nil {
			t.Fatal("no val_acc with a validation split")
		}
		if *m.ValAcc > *ms[bestVal].ValAcc {
			bestVal = i
		}
		if m.TestAcc > ms[bestTest].TestAcc {
			bestTest = i
		}
	}
	if bestVal == bestTest {
		t.Fatalf("the scenario does not separate the choices (both pick epoch %d): %+v", bestVal+1, ms)
	}
	if s.BestSelectedBy != "val_acc" || s.BestEpoch != ms[bestVal].Epoch || s.BestTestAcc == nil || *s.BestTestAcc != ms[bestVal].TestAcc {
		t.Errorf("best: epoch %d (test acc %v) by %s; want epoch %d (test acc %g) by val_acc (the best test epoch is %d)",
			s.BestEpoch, s.BestTestAcc, s.BestSelectedBy, ms[bestVal].Epoch, ms[bestVal].TestAcc, ms[bestTest].Epoch)
	}
	// The epoch of highest test accuracy is reported apart, labelled.
	if s.TestSelectedEpoch != ms[bestTest].Epoch || s.TestSelectedTestAcc != ms[bestTest].TestAcc {
		t.Errorf("test-selected: epoch %d (%g), want epoch %d (%g)", s.TestSelectedEpoch, s.TestSelectedTestAcc, ms[bestTest].Epoch, ms[bestTest].TestAcc)
	}
	_, meta, err := model.ReadSafetensors(filepath.Join(cfg.Train.OutDir, "checkpoints", "best.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if meta["epoch"] != strconv.Itoa(ms[bestVal].Epoch) || meta["selected_by"] != "val_acc" {
		t.Errorf("best.safetensors is of epoch %s (selected_by %q), want %d by val_acc", meta["epoch"], meta["selected_by"], ms[bestVal].Epoch)
	}
}

// Without a validation split nothing is chosen by test accuracy as the
// model to use: no best.safetensors, no best_* in the summary; the
// test-selected epoch is reported under its own name.
func TestNoValidationSplitOffersNoBest(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 150, 60, 6, 0.8, 1, 11)
	cfg := config.Default()
	cfg.Method, cfg.DType = "bp", "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 50, Shuffle: true, ValSplit: 0, Normalize: "none"}
	cfg.Model.Sizes = []int{6, 3}
	cfg.Optim = config.OptimConfig{Name: "sgd", LR: 0.02, Schedule: "constant"}
	cfg.Train.Epochs = 6
	cfg.Train.OutDir = filepath.Join(dir, "run")
	s, err := Train(context.Background(), &cfg, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Train.OutDir, "checkpoints", "best.safetensors")); err == nil {
		t.Error("a run without a validation split wrote best.safetensors (chosen by test accuracy)")
	}
	raw, err := os.ReadFile(filepath.Join(cfg.Train.OutDir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"best_test_acc"`, `"best_epoch"`, `"best_selected_by"`} {
		if strings.Contains(string(raw), k) {
			t.Errorf("summary.json has %s without a validation split: %s", k, raw)
		}
	}
	ms := readMetrics(t, cfg.Train.OutDir)
	bestTest := 0
	for i, m := range ms {
		if m.TestAcc > ms[bestTest].TestAcc {
			bestTest = i
		}
	}
	if !strings.Contains(string(raw), `"test_selected_test_acc"`) || s.TestSelectedEpoch != ms[bestTest].Epoch {
		t.Errorf("summary: test-selected epoch %d, want %d: %s", s.TestSelectedEpoch, ms[bestTest].Epoch, raw)
	}
}

func readMetrics(t *testing.T, dir string) []EpochMetrics {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var ms []EpochMetrics
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m EpochMetrics
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// The energy-growth guard compares F at the end of inference with
// pc.energy_growth_limit times F at the feed-forward state, the batch-mean
// loss (PC-SPEC: F there equals the loss). The ratio is read from the
// telemetry's energy trajectory (F before and after inference); a limit
// just below it must stop the first step, one just above must not, and 0
// disables the guard.
func TestEnergyGrowthGuardUsesLimitAndMeanLoss(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 100, 30, 6, 1.5, 0, 7)
	base := config.Default()
	base.Method, base.DType = "pc", "float64"
	base.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Normalize: "standard"}
	base.Model.Sizes = []int{6, 8, 8, 3}
	base.PC.Steps, base.PC.XLR, base.PC.XMomentum = 6, 2, 0.8
	base.Train.Epochs, base.Train.MaxSteps, base.Train.Threads = 1, 1, 1
	// run trains one step with the given limit and returns the step's
	// energy trajectory (batch-mean F before and after each inference step).
	probe := 1
	run := func(limit float64) ([]float64, error) {
		cfg := base
		cfg.PC.EnergyGrowthLimit = limit
		cfg.Train.TelemetryEvery = probe
		tr := newTestTrainer(t, &cfg)
		var traj []float64
		tr.Hooks.Telemetry = func(r Telemetry) error { traj = append([]float64(nil), r.EnergyTrajectory...); return nil }
		return traj, tr.Run(context.Background())
	}
	traj, err := run(0)
	if err != nil {
		t.Fatalf("limit 0 (disabled): %v", err)
	}
	if len(traj) != base.PC.Steps+1 {
		t.Fatalf("trajectory of %d values, want %d", len(traj), base.PC.Steps+1)
	}
	ratio := traj[len(traj)-1] / traj[0]
	if ratio < 1.5 || ratio > 9 {
		t.Fatalf("F grew by %g during inference; the scenario wants a clear growth below 10", ratio)
	}
	_, err = run(0.97 * ratio)
	var de *DivergedError
	if !errors.As(err, &de) || de.Quantity != "inference energy" || de.Step != 1 {
		t.Errorf("limit %g below the growth %g: err = %v, want inference energy at step 1", 0.97*ratio, ratio, err)
	}
	// Above the growth the growth guard lets the step pass; the stability
	// probe (on with telemetry) sees η·λ_max past its limit and the energy
	// rise, and stops it itself.
	_, err = run(1.03 * ratio)
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "energy rose") {
		t.Errorf("limit %g above the growth %g, probe on: err = %v, want the probe's confirmation", 1.03*ratio, ratio, err)
	}
	probe = 0
	if _, err := run(1.03 * ratio); err != nil {
		t.Errorf("limit %g above the growth %g, probe off: %v", 1.03*ratio, ratio, err)
	}
}

// A weight that becomes NaN in an optimizer step (here from a NaN planted
// in one gradient after the method ran, so the loss and energy of that step
// are finite) stops the run at that step with a DivergedError naming the
// weights and the parameter.
func TestNaNWeightIsDivergence(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeWiringNPZ(t, npz, 100, 30, 6, 1.5, 0, 7)
	cfg := config.Default()
	cfg.Method, cfg.DType = "bp", "float64"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Normalize: "none"}
	cfg.Model.Sizes = []int{6, 8, 3}
	cfg.Optim = config.OptimConfig{Name: "sgd", LR: 0.1, Schedule: "constant"}
	cfg.Train.Epochs, cfg.Train.Threads = 2, 1
	tr := newTestTrainer(t, &cfg)
	tr.Hooks.AfterGrad = func(step int, _ *tensor.Mat[float64], _ []int) {
		if step == 3 {
			tr.G.Params()[2].Grad.Data[1] = math.NaN()
		}
	}
	err := tr.Run(context.Background())
	var de *DivergedError
	if !errors.As(err, &de) || de.Quantity != "weights" || de.Where != tr.G.Params()[2].Name || de.Step != 4 {
		t.Fatalf("err = %v, want weights diverged in %s at step 4", err, tr.G.Params()[2].Name)
	}
}

// The telemetry's BP pass (train.telemetry_bp_cosine) only measures: the
// update is still the method's, so a pc run with telemetry at every step
// ends bit-identical to one without.
func TestTelemetryBPPassLeavesMethodGradient(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZ(t, npz)
	for _, threads := range []int{1, 2} {
		var runs [2]map[string]model.Tensor
		for k, tele := range []bool{false, true} {
			cfg := config.Default()
			cfg.Method = "pc"
			cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, Normalize: "standard"}
			cfg.Model.Sizes = []int{6, 8, 8, 3}
			cfg.Train.Epochs, cfg.Train.Threads = 2, threads
			if tele {
				cfg.Train.TelemetryEvery, cfg.Train.TelemetryBPCosine = 1, true
			}
			cfg.Train.OutDir = filepath.Join(dir, strings.Repeat("t", k+1)+string(rune('0'+threads)))
			if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
				t.Fatal(err)
			}
			ts, _, err := model.ReadSafetensors(filepath.Join(cfg.Train.OutDir, "checkpoints", "last.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			runs[k] = ts
		}
		for name, a := range runs[0] {
			fa, fb := a.Float64s(), runs[1][name].Float64s()
			if !slices.Equal(fa, fb) {
				t.Fatalf("threads %d: %s differs with telemetry_bp_cosine on (the BP pass changed the update)", threads, name)
			}
		}
	}
}

// A checkpoint missing one weight tensor, or (on resume) one optimizer
// buffer, is refused with an error naming it, for model.init_from and
// --resume alike.
func TestCheckpointMissingTensorRefused(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZ(t, npz)
	cfg := config.Default()
	cfg.Method = "bp"
	cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Normalize: "standard"}
	cfg.Model.Sizes = []int{6, 8, 3}
	cfg.Train.Epochs = 2
	run := filepath.Join(dir, "run")
	c1 := cfg
	c1.Train.OutDir = run
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Train(ctx, &c1, RunOptions{Reporter: &cancelAt{at: 9, cancel: cancel}}); err != ErrInterrupted {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	last := filepath.Join(run, "checkpoints", "last.safetensors")
	orig, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	ts, meta, err := model.DecodeSafetensors(orig)
	if err != nil {
		t.Fatal(err)
	}
	without := func(drop string) []byte {
		var keep []model.Tensor
		for _, name := range slices.Sorted(maps.Keys(ts)) {
			if name != drop {
				keep = append(keep, ts[name])
			}
		}
		if len(keep) != len(ts)-1 {
			t.Fatalf("checkpoint has no tensor %q", drop)
		}
		var b strings.Builder
		if err := model.EncodeSafetensors(&b, keep, meta); err != nil {
			t.Fatal(err)
		}
		return []byte(b.String())
	}
	for _, drop := range []string{"layers.0.bias", "layers.1.weight"} {
		p := filepath.Join(dir, "missing.safetensors")
		os.WriteFile(p, without(drop), 0o644)
		c := cfg
		c.Model.InitFrom = p
		d, err := LoadData(&c, FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewTrainer[float32](&c, d)
		var ue *UserError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), drop) {
			t.Errorf("init_from without %s: err = %v, want a user error naming it", drop, err)
		}
	}
	for _, drop := range []string{"layers.1.bias", "optim.layers.0.weight.m", "optim.layers.1.bias.v"} {
		os.WriteFile(last, without(drop), 0o644)
		rc, err := ResumeConfig(run)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Train(context.Background(), rc, RunOptions{Resume: run})
		var ue *UserError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), drop) {
			t.Errorf("resume without %s: err = %v, want a user error naming it", drop, err)
		}
	}
}
