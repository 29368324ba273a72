// Package optim holds the parameter optimizers (SGD with momentum, Adam,
// AdamW) and learning-rate schedules. Every training method hands its
// gradients to the same optimizer, so BP, PC and Z-IL differ only in the
// gradients.
package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Settings configures an optimizer. Zero values mean the documented default.
type Settings struct {
	// Name is sgd, adam or adamw.
	Name string
	// Momentum for sgd (PyTorch form: v = μ·v + g; p −= lr·v). 0: none.
	Momentum float64
	// Nesterov uses p −= lr·(g + μ·v) for sgd.
	Nesterov bool
	// WeightDecay: L2 added to the gradient for sgd and adam, decoupled
	// (p −= lr·wd·p) for adamw.
	WeightDecay float64
	// Beta1, Beta2, Eps for adam/adamw. Zero: 0.9, 0.999, 1e-8.
	Beta1, Beta2, Eps float64
}

// Names lists the valid optimizer names.
func Names() []string { return []string{"adam", "adamw", "sgd"} }

// Optimizer updates parameters from their gradients.
type Optimizer[T tensor.Float] struct {
	s      Settings
	params []*model.Param[T]
	m, v   [][]T
	// StepCount is the number of steps taken (Adam's bias correction).
	StepCount int
}

// New returns an optimizer for params.
func New[T tensor.Float](s Settings, params []*model.Param[T]) (*Optimizer[T], error) {
	i := sort.SearchStrings(Names(), s.Name)
	if i == len(Names()) || Names()[i] != s.Name {
		return nil, fmt.Errorf("unknown optimizer %q (valid: %s)", s.Name, strings.Join(Names(), ", "))
	}
	if s.Beta1 == 0 {
		s.Beta1 = 0.9
	}
	if s.Beta2 == 0 {
		s.Beta2 = 0.999
	}
	if s.Eps == 0 {
		s.Eps = 1e-8
	}
	o := &Optimizer[T]{s: s, params: params, m: make([][]T, len(params)), v: make([][]T, len(params))}
	for i, p := range params {
		o.m[i] = make([]T, len(p.Value.Data))
		if s.Name != "sgd" {
			o.v[i] = make([]T, len(p.Value.Data))
		}
	}
	return o, nil
}

// Step applies one update with learning rate lr from the current Grads.
func (o *Optimizer[T]) Step(lr float64) {
	o.StepCount++
	switch o.s.Name {
	case "sgd":
		for i, p := range o.params {
			sgdStep(p.Value.Data, p.Grad.Data, o.m[i], T(lr), T(o.s.Momentum), T(o.s.WeightDecay), o.s.Nesterov)
		}
	default:
		t := float64(o.StepCount)
		bc1 := 1 - math.Pow(o.s.Beta1, t)
		bc2 := 1 - math.Pow(o.s.Beta2, t)
		wd, decoupled := o.s.WeightDecay, o.s.Name == "adamw"
		for i, p := range o.params {
			if pv, ok := tensor.F32(p.Value.Data); ok {
				g, _ := tensor.F32(p.Grad.Data)
				m, _ := tensor.F32(o.m[i])
				v, _ := tensor.F32(o.v[i])
				adamStep32(pv, g, m, v, lr, o.s.Beta1, o.s.Beta2, o.s.Eps, bc1, bc2, wd, decoupled)
				continue
			}
			adamStep(p.Value.Data, p.Grad.Data, o.m[i], o.v[i], lr, o.s.Beta1, o.s.Beta2, o.s.Eps, bc1, bc2, wd, decoupled)
		}
	}
}

func sgdStep[T tensor.Float](p, g, buf []T, lr, mom, wd T, nesterov bool) {
	g = g[:len(p)]
	buf = buf[:len(p)]
	for i := range p {
		gi := g[i] + wd*p[i]
		if mom != 0 {
			buf[i] = mom*buf[i] + gi
			if nesterov {
				gi += mom * buf[i]
			} else {
				gi = buf[i]
			}
		}
		p[i] -= lr * gi
	}
}

// adamStep follows PyTorch's Adam/AdamW update formulas:
// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², and
// p ← p − lr/bc1 · m / (√v/√bc2 + eps), with AdamW first decaying p by
// (1 − lr·wd) and Adam adding wd·p to g. Loop invariants are hoisted: one
// square root and one division per element.
func adamStep[T tensor.Float](p, g, m, v []T, lr, b1, b2, eps, bc1, bc2, wd float64, decoupled bool) {
	g = g[:len(p)]
	m = m[:len(p)]
	v = v[:len(p)]
	step := lr / bc1
	invSbc2 := 1 / math.Sqrt(bc2)
	decay := 1.0
	l2 := wd
	if decoupled {
		decay, l2 = 1-lr*wd, 0
	}
	c1, c2 := 1-b1, 1-b2
	for i := range p {
		pi := float64(p[i])
		gi := float64(g[i]) + l2*pi
		pi *= decay
		mi := b1*float64(m[i]) + c1*gi
		vi := b2*float64(v[i]) + c2*gi*gi
		m[i], v[i] = T(mi), T(vi)
		p[i] = T(pi - step*mi/(math.Sqrt(vi)*invSbc2+eps))
	}
}

// adamStep32 is adamStep in float32 arithmetic, as PyTorch computes Adam
// for float32 parameters; float32 division and square root cost less than
// a float64 round trip per element.
func adamStep32(p, g, m, v []float32, lr, b1, b2, eps, bc1, bc2, wd float64, decoupled bool) {
	step := float32(lr / bc1)
	invSbc2 := float32(1 / math.Sqrt(bc2))
	decay, l2 := float32(1), float32(wd)
	if decoupled {
		decay, l2 = float32(1-lr*wd), 0
	}
	tensor.AdamStep32(p, g, m, v, tensor.AdamConsts32{Step: step, InvSqrtBC2: invSbc2, Decay: decay, L2: l2,
		B1: float32(b1), B2: float32(b2), C1: float32(1 - b1), C2: float32(1 - b2), Eps: float32(eps)})
}

// State returns the optimizer's per-parameter buffers named for
// checkpoints: "optim.{param}.m" (momentum / first moment) and
// "optim.{param}.v" (second moment).
func (o *Optimizer[T]) State() map[string][]T {
	st := map[string][]T{}
	for i, p := range o.params {
		st["optim."+p.Name+".m"] = o.m[i]
		if o.v[i] != nil {
			st["optim."+p.Name+".v"] = o.v[i]
		}
	}
	return st
}

// Schedule gives the learning rate at an optimizer step.
type Schedule struct {
	// Name is constant or cosine.
	Name string
	// Base is the peak learning rate.
	Base float64
	// Warmup is the number of steps of linear warm-up from Base/Warmup.
	// Zero: none.
	Warmup int
	// Total is the number of steps; cosine decays to MinLR at Total.
	Total int
	MinLR float64
}

// ScheduleNames lists the valid schedule names.
func ScheduleNames() []string { return []string{"constant", "cosine"} }

// LR returns the learning rate for step (0-based).
func (s Schedule) LR(step int) float64 {
	if s.Warmup > 0 && step < s.Warmup {
		return s.Base * float64(step+1) / float64(s.Warmup)
	}
	if s.Name != "cosine" || s.Total <= s.Warmup {
		return s.Base
	}
	frac := float64(step-s.Warmup) / float64(s.Total-s.Warmup)
	frac = math.Min(frac, 1)
	return s.MinLR + 0.5*(s.Base-s.MinLR)*(1+math.Cos(math.Pi*frac))
}
