package rule

import (
	"context"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// bpc is pc on a bidirectional graph (model.direction bidirectional):
// relax.BPC's inference on the summed energy, then one weight update of
// both directions. pc's constructor builds it when the graph has a
// top-down graph.
type bpc[T tensor.Float] struct {
	g *model.Graph[T]
	b *relax.BPC[T]
	s relax.ILSettings
}

func newBPC[T tensor.Float](env Env[T]) *bpc[T] {
	return &bpc[T]{g: env.G, b: relax.NewBPC(relax.NewState(env.G, env.Loss), env.Cfg.Model.TopDownWeight),
		s: relax.ILSettings{Steps: env.Cfg.PC.Steps, LR: env.Cfg.PC.XLR, Momentum: env.Cfg.PC.XMomentum}}
}

func (r *bpc[T]) Values() []*tensor.Mat[T] { return r.b.Values() }

func (r *bpc[T]) Step(ctx context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	r.g.ZeroGrad()
	res, err := r.b.Run(ctx, b.X, b.Labels, r.s)
	if err != nil {
		return res, err
	}
	return res, u.Update()
}
