package rule

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// The feedback-alignment family (RULES.md §5): backprop whose input VJP of
// every dense and conv layer uses a feedback tensor B of the weight's shape
// in place of the weight W; the parameter gradients stay BP's (δ times the
// layer's input).
//
//	fa    B = B₀, Xavier-uniform, drawn once         stored: B
//	usf   B = σ·sign(W), recomputed every step       stored: nothing
//	frsf  B = |M₀| ∘ sign(W), M₀ drawn once          stored: M₀
//	brsf  B = |M| ∘ sign(W), M drawn every batch     stored: the next batch's M
//
// brsf's first batch uses the M drawn at initialisation (or read from
// model.init_from); after each batch's update the next M is drawn from that
// batch's seed, so the checkpoint holds the M the next batch uses and a
// resumed run continues exactly.
//
// σ = √(2/(fan_in + fan_out)) of the layer (for conv, fans are channels
// times kernel area, as PyTorch's); Xavier-uniform is U(−√3σ, √3σ).

var faInfo = constructors(Info{
	Name:    "fa",
	Summary: "feedback alignment: backprop with a fixed random matrix B in place of each weight in the backward pass",
	Cost:    "1×",
	Exact:   "no; equals BP when B = W (feedback.* set to the weights through model.init_from)",
	Hint:    "lower optim.lr",
}, newFeedback[float32](feedbackFA), newFeedback[float64](feedbackFA))

var usfInfo = constructors(Info{
	Name:    "usf",
	Summary: "uniform sign-concordant feedback: backprop through σ·sign(W) instead of W",
	Cost:    "≈ 1× (one pass over the weights per batch)",
	Exact:   "no; B has exactly W's signs",
	Hint:    "lower optim.lr",
}, newFeedback[float32](feedbackUSF), newFeedback[float64](feedbackUSF))

var frsfInfo = constructors(Info{
	Name:    "frsf",
	Summary: "fixed random-magnitude sign-concordant feedback: backprop through |M₀|∘sign(W), M₀ drawn once",
	Cost:    "≈ 1× (one pass over the weights per batch)",
	Exact:   "no; B has exactly W's signs",
	Hint:    "lower optim.lr",
}, newFeedback[float32](feedbackFRSF), newFeedback[float64](feedbackFRSF))

var brsfInfo = constructors(Info{
	Name:    "brsf",
	Summary: "batch random-magnitude sign-concordant feedback: backprop through |M|∘sign(W), M drawn every batch",
	Cost:    "≈ 1× (one draw per weight per batch)",
	Exact:   "no; B has exactly W's signs",
	Hint:    "lower optim.lr",
}, newFeedback[float32](feedbackBRSF), newFeedback[float64](feedbackBRSF))

type feedbackKind int

const (
	feedbackFA feedbackKind = iota
	feedbackUSF
	feedbackFRSF
	feedbackBRSF
)

// feedbackStream is the PCG stream of the run's seed that the feedback
// tensors are drawn from at initialisation, redrawStream that of each
// batch's seed that brsf draws its next M from. The trainer's own streams
// (weights 1, validation split 2, shuffles 1000+epoch, augmentation
// 1<<62+…) are untouched, so the other rules' random choices stay as they
// were.
const (
	feedbackStream = 3
	redrawStream   = 4
)

// FeedbackPrefix starts the name of every feedback tensor:
// "feedback.{weight name}".
const FeedbackPrefix = "feedback."

// Feedbacker is a rule that backpropagates through feedback tensors in
// place of weights; Feedback lists, per weight, the B its last Step used
// (for alignment telemetry). Its matrices are the rule's: read them, do
// not keep them.
type Feedbacker[T tensor.Float] interface {
	Feedback() []WeightFeedback[T]
}

// WeightFeedback pairs a weight with the B that takes its place.
type WeightFeedback[T tensor.Float] struct {
	W *model.Param[T]
	B *tensor.Mat[T]
}

// fbWeight is one weight (shared by every layer that uses it, for tied
// weights) and its feedback.
type fbWeight[T tensor.Float] struct {
	w      *model.Param[T]
	layers []model.FeedbackLayer[T]
	sigma  float64
	buf    *model.Buffer[T] // fa: B; frsf: M₀; brsf: M; usf: nil
	b      *tensor.Mat[T]   // the B of the VJP
}

type feedback[T tensor.Float] struct {
	kind    feedbackKind
	g       *model.Graph[T]
	ws      *model.Workspace[T]
	loss    model.Loss[T]
	weights []fbWeight[T]
	// owner: this rule made the buffers (it works on the model's own
	// graph, not a copy for part of a batch) and so redraws brsf's M.
	owner bool
	pcg   *rand.PCG
	rng   *rand.Rand
	out   []WeightFeedback[T]
}

var _ Feedbacker[float64] = (*feedback[float64])(nil)

func newFeedback[T tensor.Float](kind feedbackKind) func(Env[T]) (Rule[T], error) {
	return func(env Env[T]) (Rule[T], error) {
		r := &feedback[T]{kind: kind, g: env.G, ws: model.NewWorkspace(env.G), loss: env.Loss}
		r.pcg = rand.NewPCG(0, 0)
		r.rng = rand.New(r.pcg)
		ws, err := feedbackWeights(env.G)
		if err != nil {
			return nil, err
		}
		init := rand.New(rand.NewPCG(env.Cfg.Seed, feedbackStream))
		for i := range ws {
			fw := &ws[i]
			w := fw.w
			if kind != feedbackUSF {
				buf, created, err := ensureBuffer(env.G, FeedbackPrefix+w.Name, w.Shape, w.Value.Rows, w.Value.Cols)
				if err != nil {
					return nil, err
				}
				if created {
					xavierUniform(init, buf.Value.Data, fw.sigma)
				}
				r.owner = created
				fw.buf = buf
			}
			if kind == feedbackFA {
				fw.b = fw.buf.Value
			} else {
				fw.b = tensor.New[T](w.Value.Rows, w.Value.Cols)
			}
			r.out = append(r.out, WeightFeedback[T]{W: w, B: fw.b})
		}
		r.weights = ws
		return r, nil
	}
}

// feedbackWeights lists g's dense and conv weights in parameter order,
// each with every layer that computes with it.
func feedbackWeights[T tensor.Float](g *model.Graph[T]) ([]fbWeight[T], error) {
	var ws []fbWeight[T]
	index := map[*model.Param[T]]int{}
	for _, vx := range g.Vertices {
		for _, l := range vx.AllLayers() {
			if len(l.Params()) == 0 {
				continue
			}
			fl, ok := l.(model.FeedbackLayer[T])
			if !ok {
				return nil, fmt.Errorf("vertex %q: a %s layer has no feedback form (dense and conv have)", vx.Name, l.Kind())
			}
			w := fl.Weight()
			i, ok := index[w]
			if !ok {
				in, out := l.(model.Fanner).Fans()
				i = len(ws)
				index[w] = i
				ws = append(ws, fbWeight[T]{w: w, sigma: xavierSigma(in, out)})
			}
			ws[i].layers = append(ws[i].layers, fl)
		}
	}
	return ws, nil
}

// ensureBuffer returns g's buffer name, adding it (zeroed; created true)
// when g has none: a graph working on part of a batch shares the model's
// buffers before its rule is built.
func ensureBuffer[T tensor.Float](g *model.Graph[T], name string, shape []int, rows, cols int) (*model.Buffer[T], bool, error) {
	if b := g.Buffer(name); b != nil {
		if b.Value.Rows != rows || b.Value.Cols != cols {
			return nil, false, fmt.Errorf("buffer %s is %d×%d, the rule needs %d×%d", name, b.Value.Rows, b.Value.Cols, rows, cols)
		}
		return b, false, nil
	}
	b, err := g.AddBuffer(name, shape, rows, cols)
	return b, true, err
}

// xavierSigma is √(2/(fan_in + fan_out)).
func xavierSigma(in, out int) float64 { return math.Sqrt(2 / float64(in+out)) }

// xavierUniform fills p from U(−√3σ, √3σ), drawn in float64 (so float32
// and float64 runs of one seed agree up to rounding).
func xavierUniform[T tensor.Float](rng *rand.Rand, p []T, sigma float64) {
	bound := math.Sqrt(3) * sigma
	for i := range p {
		p[i] = T((2*rng.Float64() - 1) * bound)
	}
}

// sign is −1, 0 or 1.
func sign[T tensor.Float](v T) T {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// prepare sets each B from the current weights: usf σ·sign(W), frsf and
// brsf |M|∘sign(W).
func (r *feedback[T]) prepare() {
	for i := range r.weights {
		fw := &r.weights[i]
		w, b := fw.w.Value.Data, fw.b.Data
		switch r.kind {
		case feedbackUSF:
			s := T(fw.sigma)
			for j, v := range w {
				b[j] = s * sign(v)
			}
		case feedbackFRSF, feedbackBRSF:
			m := fw.buf.Value.Data
			for j, v := range w {
				b[j] = T(math.Abs(float64(m[j]))) * sign(v)
			}
		}
	}
}

// redraw draws brsf's M for the next batch from this batch's seed. Only
// the owner writes; the copies of a split batch read M at the start of
// the batch, before the update's barrier, and the owner writes after it.
func (r *feedback[T]) redraw(seed uint64) {
	if r.kind != feedbackBRSF || !r.owner {
		return
	}
	r.pcg.Seed(seed, redrawStream)
	for i := range r.weights {
		xavierUniform(r.rng, r.weights[i].buf.Value.Data, r.weights[i].sigma)
	}
}

// install points every layer's input VJP at its B (on) or back at W.
func (r *feedback[T]) install(on bool) {
	for _, fw := range r.weights {
		for _, l := range fw.layers {
			if on {
				l.SetFeedback(fw.b)
			} else {
				l.SetFeedback(nil)
			}
		}
	}
}

func (r *feedback[T]) Feedback() []WeightFeedback[T] { return r.out }

// Step is backprop through the feedback tensors. The layers use W again
// before the update, so whatever reads the gradient then (BP's reference
// in telemetry, compare) backpropagates through W. A batch whose update
// fails (the run stops) leaves brsf's M as it was: the batch runs again.
func (r *feedback[T]) Step(_ context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	r.g.ZeroGrad()
	r.prepare()
	r.install(true)
	loss, correct := r.g.Backprop(r.ws, b.X, b.Labels, r.loss)
	r.install(false)
	res := relax.Result{Loss: loss, Correct: correct, Energy: loss / float64(b.X.Rows), Samples: b.X.Rows}
	if err := u.Update(); err != nil {
		return res, err
	}
	r.redraw(b.Seed)
	return res, nil
}
