package rule

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Nudging (RULES.md §2), shared by pc and ipc: the output is nudged
// towards the target with strength β instead of clamped to it. pc.beta is
// read as a magnitude: positive nudges with +|β|, negative with −|β|,
// centred runs a +|β| and a −|β| phase, random-sign draws the sign per
// batch. With none the output is clamped (β = 1).
type nudging struct {
	mode string
	beta float64 // |pc.beta|
	pcg  *rand.PCG
	rng  *rand.Rand
}

// streamSign separates the random-sign draw from the batch's other uses
// of its seed.
const streamSign = 0x5eed_51c4

func newNudging(cfg *config.Config) nudging {
	n := nudging{mode: cfg.PC.Nudging, beta: math.Abs(cfg.PC.Beta)}
	if n.mode == "" {
		n.mode = "none"
	}
	n.pcg = rand.NewPCG(0, 0)
	n.rng = rand.New(n.pcg)
	return n
}

// betas returns the β of each inference phase for a batch with seed.
func (n *nudging) betas(seed uint64, buf *[2]float64) []float64 {
	switch n.mode {
	case "positive":
		buf[0] = n.beta
	case "negative":
		buf[0] = -n.beta
	case "centred":
		buf[0], buf[1] = n.beta, -n.beta
		return buf[:2]
	case "random-sign":
		n.pcg.Seed(seed, streamSign)
		buf[0] = n.beta
		if n.rng.Uint64()&1 == 1 {
			buf[0] = -n.beta
		}
	default:
		buf[0] = 1
	}
	return buf[:1]
}

func (n *nudging) phases() int {
	if n.mode == "centred" {
		return 2
	}
	return 1
}

// checkNudging is the part of pc's and ipc's Check for pc.beta.
func checkNudging(cfg *config.Config) []string {
	if cfg.PC.Nudging != "none" && cfg.PC.Nudging != "" {
		if cfg.PC.Beta == 0 || math.IsNaN(cfg.PC.Beta) || math.IsInf(cfg.PC.Beta, 0) {
			return []string{fmt.Sprintf("pc.beta: must be a non-zero number with pc.nudging %s (got %g)", cfg.PC.Nudging, cfg.PC.Beta)}
		}
	}
	return nil
}

// checkInference is the part of pc's and ipc's Check for the value-node
// settings.
func checkInference(cfg *config.Config) []string {
	var p []string
	if cfg.PC.Steps < 1 {
		p = append(p, fmt.Sprintf("pc.steps: must be ≥ 1 for method %s (got %d)", cfg.Method, cfg.PC.Steps))
	}
	if !(cfg.PC.XLR > 0) {
		p = append(p, fmt.Sprintf("pc.x_lr: must be > 0 (got %g)", cfg.PC.XLR))
	}
	return append(p, checkNudging(cfg)...)
}

func phaseSteps(cfg *config.Config) int {
	if cfg.PC.Nudging == "centred" {
		return 2 * cfg.PC.Steps
	}
	return cfg.PC.Steps
}

// ilPhases is what pc and ipc share: IL on the model's graph with the
// run's value-node settings and nudging, and for centred nudging a second
// IL on a State of its own for the −|β| phase.
type ilPhases[T tensor.Float] struct {
	il, second *relax.IL[T]
	s          relax.ILSettings
	nudge      nudging
	probe      *relax.Probe[T] // built on the first Stability
}

// Stability probes ∂²F_β/∂x² at the batch's C1 state (β of the first
// phase: centred nudging's +|β|).
func (p *ilPhases[T]) Stability(b *Batch[T]) (Stability, bool) {
	if p.probe == nil {
		p.probe = relax.NewProbe(p.il.State)
	}
	var buf [2]float64
	beta := p.nudge.betas(b.Seed, &buf)[0]
	return Stability{Eta: p.s.LR, Momentum: p.s.Momentum, LambdaMax: p.probe.IL(b.X, b.Labels, beta)}, true
}

func newILPhases[T tensor.Float](env Env[T]) ilPhases[T] {
	p := ilPhases[T]{il: relax.NewIL(relax.NewState(env.G, env.Loss)), nudge: newNudging(env.Cfg),
		s: relax.ILSettings{Steps: env.Cfg.PC.Steps, LR: env.Cfg.PC.XLR, Momentum: env.Cfg.PC.XMomentum}}
	if p.nudge.phases() == 2 {
		p.second = relax.NewIL(relax.NewState(env.G, env.Loss))
	}
	return p
}
