package rule

import (
	"context"
	"fmt"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

var zilInfo = constructors(Info{
	Name:    "zil",
	Summary: "zero-divergence IL: PC whose updates equal BP's exactly, at BP's cost",
	Cost:    "1× (sequential); ≈ depth× (parallel)",
	Exact:   "equal to BP bit for bit with zil.gamma 1",
	Keys:    []string{"zil.schedule", "zil.gamma"},
	Steps:   func(_ *config.Config, depth int) int { return depth },
	Hint:    "lower optim.lr",
	Warning: func(c *config.Config) string { return gammaWarning(c) },
}, newZIL[float32], newZIL[float64])

var faZILInfo = constructors(Info{
	Name:    "fa-zil",
	Summary: "Z-IL whose updates each error neuron triggers locally (no clock)",
	Cost:    "≈ depth×",
	Exact:   "equal to BP with zil.gamma 1",
	Keys:    []string{"zil.gamma"},
	Steps:   func(_ *config.Config, depth int) int { return depth },
	Hint:    "lower optim.lr",
	Warning: func(c *config.Config) string { return gammaWarning(c) },
}, newFaZIL[float32], newFaZIL[float64])

// gammaWarning says when a Z-IL run is not exact: with zil.gamma ≠ 1 the
// gradient of level t is BP's scaled by gammaᵗ (PC-SPEC §3, C3).
func gammaWarning(c *config.Config) string {
	if c.ZIL.Gamma != 1 {
		return fmt.Sprintf("zil.gamma is %g, not 1: %s is no longer exact (the gradient of level t is BP's times %g^t)", c.ZIL.Gamma, c.Method, c.ZIL.Gamma)
	}
	return ""
}

type zil[T tensor.Float] struct {
	g     *model.Graph[T]
	z     *relax.ZIL[T]
	gamma float64
	sched relax.Schedule
}

func newZIL[T tensor.Float](env Env[T]) (Rule[T], error) {
	sched, err := relax.ParseSchedule(env.Cfg.ZIL.Schedule)
	if err != nil {
		return nil, err
	}
	return &zil[T]{g: env.G, z: relax.NewZIL(relax.NewState(env.G, env.Loss)), gamma: env.Cfg.ZIL.Gamma, sched: sched}, nil
}

func (r *zil[T]) Values() []*tensor.Mat[T] { return r.z.Values() }

func (r *zil[T]) Step(_ context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	r.g.ZeroGrad()
	res := r.z.Run(b.X, b.Labels, r.gamma, r.sched)
	return res, u.Update()
}

type faZIL[T tensor.Float] struct {
	g     *model.Graph[T]
	fa    *relax.FaZIL[T]
	gamma float64
}

func newFaZIL[T tensor.Float](env Env[T]) (Rule[T], error) {
	return &faZIL[T]{g: env.G, fa: relax.NewFaZIL(relax.NewState(env.G, env.Loss)), gamma: env.Cfg.ZIL.Gamma}, nil
}

func (r *faZIL[T]) Values() []*tensor.Mat[T] { return r.fa.Values() }

func (r *faZIL[T]) Step(_ context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	r.g.ZeroGrad()
	res := r.fa.Run(b.X, b.Labels, r.gamma)
	return res, u.Update()
}
