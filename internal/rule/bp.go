package rule

import (
	"context"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

var bpInfo = constructors(Info{
	Name:    "bp",
	Summary: "backprop: forward, backward, one weight update",
	Cost:    "1×",
	Exact:   "the reference",
	Hint:    "lower optim.lr",
}, newBP[float32], newBP[float64])

type bp[T tensor.Float] struct {
	g    *model.Graph[T]
	ws   *model.Workspace[T]
	loss model.Loss[T]
}

func newBP[T tensor.Float](env Env[T]) (Rule[T], error) {
	return &bp[T]{g: env.G, ws: model.NewWorkspace(env.G), loss: env.Loss}, nil
}

func (r *bp[T]) Step(_ context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	r.g.ZeroGrad()
	loss, correct := r.g.Backprop(r.ws, b.X, b.Labels, r.loss)
	res := relax.Result{Loss: loss, Correct: correct, Energy: loss / float64(b.X.Rows), Samples: b.X.Rows}
	return res, u.Update()
}
