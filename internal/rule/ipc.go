package rule

import (
	"context"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

var ipcInfo = constructors(Info{
	Name:        "ipc",
	Summary:     "incremental PC: a value-node step and a weight update at each of T steps",
	Cost:        "≈ T× (2T× centred)",
	Exact:       "approximates BP; with T = 1 one BP step of the output layer",
	Keys:        []string{"pc.steps", "pc.x_lr", "pc.x_momentum", "pc.nudging", "pc.beta", "pc.energy_growth_limit"},
	Check:       checkInference,
	Steps:       func(c *config.Config, _ int) int { return phaseSteps(c) },
	Updates:     func(c *config.Config) int { return c.PC.Steps },
	Hint:        "lower optim.lr or pc.x_lr, or use fewer pc.steps",
	EnergyGuard: true,
}, newIPC[float32], newIPC[float64])

// ipc is incremental predictive coding (RULES.md §1): from C1, for t = 0 …
// T−1, the errors of the current state (x, θ) give both the value-node
// step (as IL) and the batch-mean parameter gradient (as IL's at that
// state), and both are applied — the parameters by one optimizer step at
// the batch's learning rate. No update follows the last step. With
// nudging the gradient at each step is (1/β)·∂F_β/∂θ; centred nudging runs
// its −|β| phase on a second State in lockstep, and each step's update
// averages the two phases' gradients.
type ipc[T tensor.Float] struct {
	g *model.Graph[T]
	ilPhases[T]
	trace *[]float64
}

func newIPC[T tensor.Float](env Env[T]) (Rule[T], error) {
	return &ipc[T]{g: env.G, ilPhases: newILPhases(env)}, nil
}

func (r *ipc[T]) Trace(tr *[]float64)      { r.trace = tr }
func (r *ipc[T]) Values() []*tensor.Mat[T] { return r.il.Values() }

func (r *ipc[T]) Step(ctx context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	var buf [2]float64
	betas := r.nudge.betas(b.Seed, &buf)
	ils := []*relax.IL[T]{r.il, r.second}[:len(betas)]
	weight := 1 / float64(len(betas))
	var res relax.Result
	n := b.X.Rows
	for k, il := range ils {
		l, c := il.Begin(b.X, b.Labels, betas[k])
		if k == 0 {
			res.Loss, res.Correct = l, c
		}
	}
	record := func(outLoss float64) {
		if r.trace != nil {
			var tr relax.Result
			r.il.Energy(&tr, outLoss, n)
			*r.trace = append(*r.trace, tr.Energy)
		}
	}
	if r.trace != nil {
		*r.trace = append((*r.trace)[:0], betas[0]*res.Loss/float64(n))
	}
	for t := 0; t < r.s.Steps; t++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if t > 0 {
			// The parameters moved: every prediction is recomputed.
			for k, il := range ils {
				outLoss := il.Predict(b.Labels, true)
				if k == 0 {
					record(outLoss)
				}
			}
		}
		r.g.ZeroGrad()
		for k, il := range ils {
			il.Relax(r.s.LR, r.s.Momentum, weight/betas[k])
		}
		if err := u.Update(); err != nil {
			return res, err
		}
	}
	for k, il := range ils {
		outLoss := il.Predict(b.Labels, true)
		if k == 0 {
			r.il.Energy(&res, outLoss, n)
			if r.s.Steps > 0 {
				record(outLoss)
			}
		}
	}
	res.Steps = r.s.Steps * len(betas)
	res.Samples = n
	return res, nil
}

var _ Tracer = (*ipc[float64])(nil)
var _ Valuer[float64] = (*pc[float64])(nil)
