package rule

import (
	"context"
	"fmt"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

var epcInfo = constructors(Info{
	Name:        "epc",
	Summary:     "error-based PC: T steps on the errors (one forward and reverse pass each), then one weight update",
	Cost:        "≈ T× (T+1 forward, T reverse passes)",
	Exact:       "approximates BP; with T = 1 each hidden gradient is pc.x_lr × BP's to O(pc.x_lr²)",
	Keys:        []string{"pc.steps", "pc.x_lr", "pc.x_momentum", "pc.energy_growth_limit"},
	Check:       checkEPC,
	Steps:       func(c *config.Config, _ int) int { return c.PC.Steps },
	Hint:        "lower optim.lr or pc.x_lr, or use fewer pc.steps",
	EnergyGuard: true,
}, newEPC[float32], newEPC[float64])

// checkEPC is checkInference without nudging, which RULES.md §3 does not
// define for ePC.
func checkEPC(cfg *config.Config) []string {
	var p []string
	if cfg.PC.Steps < 1 {
		p = append(p, fmt.Sprintf("pc.steps: must be ≥ 1 for method epc (got %d)", cfg.PC.Steps))
	}
	if !(cfg.PC.XLR > 0) {
		p = append(p, fmt.Sprintf("pc.x_lr: must be > 0 (got %g)", cfg.PC.XLR))
	}
	if cfg.PC.Nudging != "" && cfg.PC.Nudging != "none" {
		p = append(p, fmt.Sprintf("pc.nudging: must be none for method epc (got %s)", cfg.PC.Nudging))
	}
	return p
}

// epc is error-based PC (RULES.md §3): the errors e_v of the hidden
// vertices start at 0 every batch, take pc.steps steps of gradient descent
// (pc.x_lr, pc.x_momentum) on E(e), and the parameter gradient is IL's at
// the resulting states. See relax.EPC.
type epc[T tensor.Float] struct {
	g     *model.Graph[T]
	p     *relax.EPC[T]
	cfg   *config.Config
	trace *[]float64
	probe *relax.Probe[T]
}

// Stability probes ∂²E/∂e² at e = 0 for the batch.
func (r *epc[T]) Stability(b *Batch[T]) (Stability, bool) {
	if r.probe == nil {
		r.probe = relax.NewProbe(r.p.State)
	}
	return Stability{Eta: r.cfg.PC.XLR, Momentum: r.cfg.PC.XMomentum, LambdaMax: r.probe.EPC(b.X, b.Labels)}, true
}

func newEPC[T tensor.Float](env Env[T]) (Rule[T], error) {
	return &epc[T]{g: env.G, p: relax.NewEPC(relax.NewState(env.G, env.Loss)), cfg: env.Cfg}, nil
}

func (r *epc[T]) Trace(tr *[]float64)      { r.trace = tr }
func (r *epc[T]) Values() []*tensor.Mat[T] { return r.p.Values() }

func (r *epc[T]) Step(ctx context.Context, b *Batch[T], u Updater) (relax.Result, error) {
	r.g.ZeroGrad()
	pc := r.cfg.PC
	res, err := r.p.Run(ctx, b.X, b.Labels, pc.Steps, pc.XLR, pc.XMomentum, r.trace)
	if err != nil {
		return res, err
	}
	return res, u.Update()
}

var _ Tracer = (*epc[float64])(nil)
var _ Prober[float64] = (*epc[float64])(nil)
var _ Prober[float64] = (*pc[float64])(nil)
var _ Prober[float64] = (*ipc[float64])(nil)
var _ Valuer[float64] = (*epc[float64])(nil)
