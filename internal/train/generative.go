package train

import (
	"context"
	"math/rand/v2"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// A generative network (data.direction generative) maps the one-hot label
// (its input vertex, C units) to the sample (its output, mse against the
// sample as a real-valued target). Training clamps both ends, so every
// rule trains it unchanged; recognition is inference with the label
// vertex free (relax.Infer).

// streamEvalInit is the seed stream of eval.input_init noise.
const streamEvalInit = 3

// modelDims is the input shape and output size BuildModel gets for d:
// the data's own for a discriminative network, ([C], sample size) for a
// generative one.
func modelDims(cfg *config.Config, d *Data) ([]int, int) {
	if cfg.Generative() {
		return []int{d.Classes}, model.Shape(d.Shape).Size()
	}
	return d.Shape, d.Classes
}

// newPart builds one rule on g; for a generative network it is wrapped so
// that each batch's labels become the input and its samples the target.
func newPart[T tensor.Float](info *rule.Info, cfg *config.Config, g *model.Graph[T], loss model.Loss[T]) (rule.Rule[T], error) {
	if !cfg.Generative() {
		return rule.New(info, rule.Env[T]{Cfg: cfg, G: g, Loss: loss})
	}
	tl := &model.TargetMSE[T]{}
	r, err := rule.New(info, rule.Env[T]{Cfg: cfg, G: g, Loss: tl})
	if err != nil {
		return nil, err
	}
	return &genRule[T]{inner: r, loss: tl, classes: g.Vertices[0].Shape.Size()}, nil
}

// genRule runs a rule on (one-hot label → sample).
type genRule[T tensor.Float] struct {
	inner   rule.Rule[T]
	loss    *model.TargetMSE[T]
	classes int
	onehot  tensor.Mat[T]
}

// Step trains on b with the input and target swapped. The Result's
// Correct is 0: a generative network's accuracy needs inference
// (evaluation does it).
func (r *genRule[T]) Step(ctx context.Context, b *rule.Batch[T], u rule.Updater) (relax.Result, error) {
	oneHot(&r.onehot, b.Labels, r.classes)
	r.loss.Y = b.X
	gb := rule.Batch[T]{X: &r.onehot, Labels: b.Labels, Seed: b.Seed}
	res, err := r.inner.Step(ctx, &gb, u)
	res.Correct = 0
	return res, err
}

func (r *genRule[T]) Trace(tr *[]float64) {
	if t, ok := r.inner.(rule.Tracer); ok {
		t.Trace(tr)
	}
}

func (r *genRule[T]) Close() {
	if c, ok := r.inner.(interface{ Close() }); ok {
		c.Close()
	}
}

// oneHot sets m to the one-hot rows of labels over c classes.
func oneHot[T tensor.Float](m *tensor.Mat[T], labels []int, c int) {
	m.Resize(len(labels), c)
	m.Zero()
	for i, l := range labels {
		m.Data[i*c+l] = 1
	}
}

// initInput sets x0 (rows × c) to eval.input_init's start of a free label
// vertex: every unit 1/C, zeros, or N(0, 0.01²) noise from rng.
func initInput[T tensor.Float](x0 *tensor.Mat[T], rows, c int, mode string, rng *rand.Rand) {
	x0.Resize(rows, c)
	for i := range x0.Data {
		switch mode {
		case "uniform":
			x0.Data[i] = T(1 / float64(c))
		case "zeros":
			x0.Data[i] = 0
		case "noise":
			x0.Data[i] = T(0.01 * rng.NormFloat64())
		}
	}
}

// evalRunner evaluates a model on a split.
type evalRunner interface {
	run(v data.View, split string, classes int) EvalResult
}

func newEvalFor[T tensor.Float](cfg *config.Config, g *model.Graph[T], loss model.Loss[T], d *Data) evalRunner {
	if !cfg.Generative() {
		return newEvaluator(g, loss, d.Norm, 1000)
	}
	return newGenEvaluator(cfg, g, d.Norm, cfg.Eval.Samples)
}

// genEvaluator classifies by inference: the sample clamped at the output,
// the label vertex free from eval.input_init, eval.steps steps; the
// prediction is the arg-max of the inferred label. Loss is F per sample
// at the end of inference.
type genEvaluator[T tensor.Float] struct {
	cfg    *config.Config
	inf    *relax.Infer[T]
	loss   *model.TargetMSE[T]
	norm   data.Norm
	limit  int // samples per split (0: all)
	x, x0  tensor.Mat[T]
	labels []int
}

func newGenEvaluator[T tensor.Float](cfg *config.Config, g *model.Graph[T], norm data.Norm, limit int) *genEvaluator[T] {
	tl := &model.TargetMSE[T]{}
	return &genEvaluator[T]{cfg: cfg, inf: relax.NewInfer[T](g, tl), loss: tl, norm: norm, limit: limit}
}

func (e *genEvaluator[T]) settings() relax.FreeSettings {
	c := e.cfg.Eval
	return relax.FreeSettings{Steps: c.Steps, LR: c.XLR, Momentum: c.XMomentum, FreeInput: true, Decay: c.Decay}
}

func (e *genEvaluator[T]) run(v data.View, split string, classes int) EvalResult {
	if e.limit > 0 && v.Len() > e.limit {
		v = data.View{DS: v.DS, Idx: v.Idx[:e.limit]}
	}
	r := EvalResult{Split: split, Samples: v.Len(), PerClass: make([]float64, classes), Support: make([]int, classes), Confusion: make([][]int, classes)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, classes)
	}
	if v.Len() == 0 {
		return r
	}
	rng := rngFor(e.cfg.Seed, streamEvalInit)
	const batch = 500
	if len(e.labels) < batch {
		e.labels = make([]int, batch)
	}
	var fSum float64
	correct := 0
	for lo := 0; lo < v.Len(); lo += batch {
		ids := v.Idx[lo:min(lo+batch, v.Len())]
		labels := e.labels[:len(ids)]
		data.Batch(&e.x, labels, v.DS, ids, e.norm)
		e.loss.Y, e.loss.Free = &e.x, nil
		var pred func(i int) int
		if e.cfg.Eval.Classify == "energy" {
			pred = e.byEnergy(labels, classes, &fSum)
		} else {
			initInput(&e.x0, len(ids), classes, e.cfg.Eval.InputInit, rng)
			res, _ := e.inf.Run(context.Background(), &e.x0, labels, e.settings())
			fSum += res.Energy * float64(len(ids))
			in := e.inf.Values()[0]
			pred = func(i int) int { return tensor.ArgMax(in.Row(i)) }
		}
		for i, l := range labels {
			r.Support[l]++
			p := pred(i)
			r.Confusion[l][p]++
			if p == l {
				correct++
			}
		}
	}
	r.Loss = fSum / float64(v.Len())
	r.Accuracy = float64(correct) / float64(v.Len())
	for k := range classes {
		if r.Support[k] > 0 {
			r.PerClass[k] = float64(r.Confusion[k][k]) / float64(r.Support[k])
		}
	}
	return r
}

// byEnergy classifies the batch in e.x by energy: for every class k the
// label vertex clamped to one-hot k, eval.steps steps on the hidden values,
// F per sample at the end; the prediction is the class of lowest F. It adds
// the lowest F of every sample to *fSum.
func (e *genEvaluator[T]) byEnergy(labels []int, classes int, fSum *float64) func(int) int {
	n := len(labels)
	best := make([]float64, n)
	arg := make([]int, n)
	s := e.settings()
	s.FreeInput = false
	ks := make([]int, n)
	for k := range classes {
		for i := range ks {
			ks[i] = k
		}
		oneHot(&e.x0, ks, classes)
		e.inf.Run(context.Background(), &e.x0, labels, s)
		f := e.inf.SampleEnergies(s.Decay)
		for i := range n {
			if k == 0 || f[i] < best[i] {
				best[i], arg[i] = f[i], k
			}
		}
	}
	for _, f := range best {
		*fSum += f
	}
	return func(i int) int { return arg[i] }
}

// buildFor builds cfg's model for d (generative networks: labels in,
// samples out).
func buildFor[T tensor.Float](cfg *config.Config, d *Data) (*model.Graph[T], error) {
	shape, outputs := modelDims(cfg, d)
	return BuildModel[T](cfg, shape, outputs)
}
