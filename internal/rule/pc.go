package rule

import (
	"context"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

var pcInfo = constructors(Info{
	Name:        "pc",
	Summary:     "inference learning: T value-node steps, then one weight update (pc.nudging)",
	Cost:        "≈ T× (2T× centred)",
	Exact:       "approximates BP; nudged gradients tend to BP's as pc.beta → 0 at equilibrium",
	Keys:        []string{"pc.steps", "pc.x_lr", "pc.x_momentum", "pc.nudging", "pc.beta", "pc.energy_growth_limit"},
	Check:       checkInference,
	Steps:       func(c *config.Config, _ int) int { return phaseSteps(c) },
	Hint:        "lower optim.lr or pc.x_lr, or use fewer pc.steps",
	EnergyGuard: true,
}, newPC[float32], newPC[float64])

// pc is IL (PC-SPEC §3) with optional nudging (RULES.md §2). Centred
// nudging runs its second phase on a second State from the same C1 start;
// the Result (energy, values, trace) is the first (+|β|) phase's.
type pc[T tensor.Float] struct {
	g *model.Graph[T]
	ilPhases[T]
}

func newPC[T tensor.Float](env Env[T]) (Rule[T], error) {
	if env.G.TopDown != nil {
		return newBPC(env), nil
	}
	return &pc[T]{g: env.G, ilPhases: newILPhases(env)}, nil
}

func (r *pc[T]) Trace(tr *[]float64)      { r.s.Trace = tr }
func (r *pc[T]) Values() []*tensor.Mat[T] { return r.il.Values() }

func (r *pc[T]) Step(ctx context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	r.g.ZeroGrad()
	var buf [2]float64
	betas := r.nudge.betas(b.Seed, &buf)
	s := r.s
	s.Beta = betas[0]
	if len(betas) == 2 {
		s.GradWeight = 0.5
	}
	res, err := r.il.Run(ctx, b.X, b.Labels, s)
	if err != nil {
		return res, err
	}
	if len(betas) == 2 {
		s.Beta, s.Trace = betas[1], nil
		if _, err := r.second.Run(ctx, b.X, b.Labels, s); err != nil {
			return res, err
		}
		res.Steps *= 2
	}
	return res, u.Update()
}
