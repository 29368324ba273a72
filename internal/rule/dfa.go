package rule

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// dfa is direct feedback alignment (Nøkland 2016; RULES.md §5) on a chain
// model: with e = ∂ℓ/∂mu_L per sample, the output vertex's gradient is
// BP's and every hidden vertex v gets
//
//	δ_v = φ'(mu_v) ⊙ (e B_v)
//
// with B_v a fixed Xavier-uniform n_out × n_v matrix, stored as
// "feedback.{weight of v}"; there is no layer-to-layer backward pass. φ' is
// the derivative of the activation the next vertex applies to v's output:
// the act (and flatten) layers that open its chain, up to its first other
// layer (a pooling, or the weight); none means φ' = 1.
var dfaInfo = constructors(Info{
	Name:    "dfa",
	Summary: "direct feedback alignment: the output error sent to every hidden layer through a fixed random matrix",
	Cost:    "≈ 1× (no backward pass between layers)",
	Exact:   "no; equals BP on one hidden layer when B = the output weights",
	Check:   checkChain,
	Hint:    "lower optim.lr",
}, newDFA[float32], newDFA[float64])

// chainModels are the model types whose graph is a chain.
var chainModels = []string{"mlp", "cnn", "vgg5"}

func checkChain(c *config.Config) []string {
	if !slices.Contains(chainModels, c.Model.Type) {
		return []string{fmt.Sprintf("model.type: %s runs on chain models only (mlp, cnn, vgg5), not %s", c.Method, c.Model.Type)}
	}
	return nil
}

type dfaVertex[T tensor.Float] struct {
	v   int
	b   *tensor.Mat[T] // B_v, n_out × n_v
	phi []model.Layer[T]
	// Buffers of the φ layers: outputs (h), derivatives (d), input
	// gradients (g).
	h, d, g []*tensor.Mat[T]
}

type dfa[T tensor.Float] struct {
	g      *model.Graph[T]
	ws     *model.Workspace[T]
	loss   model.Loss[T]
	hidden []dfaVertex[T]
	eb     *tensor.Mat[T] // e·B_v
}

// derivLayer is an element-wise layer that computes its derivative in its
// forward pass, as the graph's backprop runs it (the same arithmetic).
type derivLayer[T tensor.Float] interface {
	ForwardDeriv(y, d, x *tensor.Mat[T])
	VJPDeriv(dx, d, dy *tensor.Mat[T])
}

func newDFA[T tensor.Float](env Env[T]) (Rule[T], error) {
	g := env.G
	out := g.Output()
	r := &dfa[T]{g: g, ws: model.NewWorkspace(g), loss: env.Loss, eb: &tensor.Mat[T]{}}
	nOut := g.Vertices[out].Shape.Size()
	weight := make([]*model.Param[T], len(g.Vertices))
	for v := 1; v <= out; v++ {
		vx := g.Vertices[v]
		if len(vx.Inputs) != 1 || vx.Inputs[0] != v-1 || vx.Pre != nil || len(vx.Layers) == 0 {
			return nil, fmt.Errorf("dfa runs on chain models only (mlp, cnn, vgg5): vertex %q is not one layer chain on the one before", vx.Name)
		}
		last := vx.Layers[len(vx.Layers)-1]
		fl, ok := last.(model.FeedbackLayer[T])
		if !ok {
			return nil, fmt.Errorf("dfa: vertex %q does not end in a dense or conv layer", vx.Name)
		}
		for _, l := range vx.Layers[:len(vx.Layers)-1] {
			if len(l.Params()) > 0 {
				return nil, fmt.Errorf("dfa: vertex %q has a %s layer with parameters before its weight", vx.Name, l.Kind())
			}
		}
		weight[v] = fl.Weight()
	}
	init := rand.New(rand.NewPCG(env.Cfg.Seed, feedbackStream))
	for v := 1; v < out; v++ {
		nv := g.Vertices[v].Shape.Size()
		buf, created, err := ensureBuffer(g, FeedbackPrefix+weight[v].Name, []int{nOut, nv}, nOut, nv)
		if err != nil {
			return nil, err
		}
		if created {
			xavierUniform(init, buf.Value.Data, xavierSigma(nv, nOut))
		}
		hv := dfaVertex[T]{v: v, b: buf.Value}
		child := g.Vertices[v+1].Layers
		// φ is the activation applied to v's output (RULES.md §5): the
		// element-wise act and dropout layers (and flattens, which only reshape) that
		// open the next vertex's chain, stopping at anything that changes
		// the size (a pooling layer: B_v maps e into v's own space).
		for _, l := range child[:len(child)-1] {
			_, act := l.(*model.Act[T])
			_, flat := l.(model.Flatten[T])
			_, drop := l.(*model.Dropout[T]) // its mask is part of φ'
			if !act && !flat && !drop {
				break
			}
			hv.phi = append(hv.phi, l)
			hv.h = append(hv.h, &tensor.Mat[T]{})
			hv.d = append(hv.d, &tensor.Mat[T]{})
			hv.g = append(hv.g, &tensor.Mat[T]{})
		}
		r.hidden = append(r.hidden, hv)
	}
	return r, nil
}

// Step: the forward pass, e at the output, BP's gradient of the output
// vertex, and each hidden vertex's gradient from its δ_v.
func (r *dfa[T]) Step(_ context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	g, ws := r.g, r.ws
	g.ZeroGrad()
	out := g.Output()
	logits := g.Forward(ws, b.X)
	correct := model.CountCorrect(logits, b.Labels)
	e := ws.Delta(out)
	// OutputError gives eps = −∂ℓ/∂mu; negate for e.
	sum := r.loss.OutputError(e, logits, b.Labels)
	tensor.Scale(-1, e.Data)
	alpha := 1 / T(b.X.Rows)
	g.VJPVertex(ws, out, e, nil, true, alpha)
	for i := range r.hidden {
		hv := &r.hidden[i]
		r.eb.Resize(e.Rows, hv.b.Cols)
		tensor.Gemm(false, false, 1, e, hv.b, 0, r.eb)
		delta := ws.Delta(hv.v)
		hv.phiVJP(delta, ws.Mu[hv.v], r.eb)
		g.VJPVertex(ws, hv.v, delta, nil, true, alpha)
	}
	res := relax.Result{Loss: sum, Correct: correct, Energy: sum / float64(b.X.Rows), Samples: b.X.Rows}
	return res, u.Update()
}

// phiVJP sets dst = Jᵀ·dy for the φ layers at x (dst = dy without any).
func (hv *dfaVertex[T]) phiVJP(dst, x, dy *tensor.Mat[T]) {
	if len(hv.phi) == 0 {
		dst.CopyFrom(dy)
		return
	}
	in := x
	for k, l := range hv.phi {
		if dl, ok := l.(derivLayer[T]); ok {
			dl.ForwardDeriv(hv.h[k], hv.d[k], in)
		} else {
			l.Forward(hv.h[k], in)
		}
		in = hv.h[k]
	}
	for k := len(hv.phi) - 1; k >= 0; k-- {
		o, xk := dst, x
		if k > 0 {
			o, xk = hv.g[k], hv.h[k-1]
		}
		if dl, ok := hv.phi[k].(derivLayer[T]); ok {
			dl.VJPDeriv(o, hv.d[k], dy)
		} else {
			hv.phi[k].VJP(o, xk, hv.h[k], dy, false, 0)
		}
		dy = o
	}
}
