// Package rule holds pctrain's learning rules as plug-ins. A rule is one
// file: an Info (its name, help line, cost, exactness, the config keys it
// reads and their checks) and a constructor of its Rule, which is handed
// each batch and an Updater and runs its own inference and weight updates.
// registry.go lists the rules; nothing else in pctrain names one.
package rule

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Batch is one batch of training data. Seed is the same for every part of
// a batch split across cores (a rule's per-batch random choice, such as
// random-sign nudging, draws from it so every part agrees).
type Batch[T tensor.Float] struct {
	X      *tensor.Mat[T]
	Labels []int
	Seed   uint64
}

// Updater applies the gradients a rule has left in its graph's Grad
// buffers as one optimizer step at the batch's learning rate. A rule calls
// it once per weight update (bp, pc: once per batch; iPC: every inference
// step); it returns an error when the run is stopping, which the rule
// returns at once.
type Updater interface {
	Update() error
}

// Rule is a learning rule on one graph. Step zeroes the graph's Grad
// buffers, runs the rule on the batch, and hands every weight update to u.
// The Result's Loss and Correct are those of the feed-forward pass at the
// weights before the batch. Step returns ctx's error, having made no
// further update, when ctx ends during the batch.
type Rule[T tensor.Float] interface {
	Step(ctx context.Context, b *Batch[T], u Updater) (relax.Result, error)
}

// Tracer is a rule that can record its energy trajectory: the next Step
// appends F before inference and after every inference step to *tr (nil
// stops it).
type Tracer interface{ Trace(tr *[]float64) }

// Valuer is a rule with value nodes; Values returns them after the last
// Step (input first).
type Valuer[T tensor.Float] interface{ Values() []*tensor.Mat[T] }

// Stability is the probe of RULES.md §6 at one batch: the inference
// dynamics (of x in IL, of e in ePC) are a descent with step Eta and
// momentum Momentum on an energy whose Hessian in those variables has
// largest eigenvalue LambdaMax, at the start of inference at the current
// weights.
type Stability struct {
	Eta, Momentum, LambdaMax float64
}

// Prober is a rule whose inference can be probed for stability; ok is
// false when it has no such inference.
type Prober[T tensor.Float] interface {
	Stability(b *Batch[T]) (s Stability, ok bool)
}

// Env is what a rule's constructor is handed.
type Env[T tensor.Float] struct {
	Cfg  *config.Config
	G    *model.Graph[T]
	Loss model.Loss[T]
}

// Info describes a rule; its fields are what `pctrain rules` prints.
type Info struct {
	Name string
	// Summary is one line: what the rule does.
	Summary string
	// Cost is the time per batch relative to BP's.
	Cost string
	// Exact says whether and how the rule's updates equal BP's.
	Exact string
	// Keys are the config keys the rule reads.
	Keys []string
	// Check returns the problems of cfg for this rule, each "key: what".
	Check func(cfg *config.Config) []string
	// Steps is the number of inference steps per batch (metrics'
	// inference_steps) for a graph of the given depth.
	Steps func(cfg *config.Config, depth int) int
	// Updates is the number of optimizer steps per batch; nil means 1.
	Updates func(cfg *config.Config) int
	// Hint is the advice a divergence message gives.
	Hint string
	// EnergyGuard: pc.energy_growth_limit applies (state-based inference
	// that can diverge).
	EnergyGuard bool
	// Warning, if set, returns a notice for this config (e.g. a Z-IL run
	// that is no longer exact), or "".
	Warning func(cfg *config.Config) string

	new32 func(Env[float32]) (Rule[float32], error)
	new64 func(Env[float64]) (Rule[float64], error)
}

// constructors pairs a rule's generic constructor's two instantiations.
func constructors(i Info, n32 func(Env[float32]) (Rule[float32], error), n64 func(Env[float64]) (Rule[float64], error)) *Info {
	i.new32, i.new64 = n32, n64
	return &i
}

// Lookup returns the named rule.
func Lookup(name string) (*Info, error) {
	for _, r := range registry {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, fmt.Errorf("unknown method %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered rules in registry order.
func Names() []string {
	var n []string
	for _, r := range registry {
		n = append(n, r.Name)
	}
	return n
}

// All returns the registered rules in registry order.
func All() []*Info { return slices.Clone(registry) }

// New builds the rule for env.
func New[T tensor.Float](info *Info, env Env[T]) (Rule[T], error) {
	switch e := any(env).(type) {
	case Env[float32]:
		r, err := info.new32(e)
		if err != nil {
			return nil, err
		}
		return any(r).(Rule[T]), nil
	case Env[float64]:
		r, err := info.new64(e)
		if err != nil {
			return nil, err
		}
		return any(r).(Rule[T]), nil
	}
	panic("rule: New: unknown float type")
}

// Check validates cfg's method and the keys that method reads; problems
// are reported as a *config.Error prefixed with the source that set each
// key (cfg.SourceOf: a --set flag, a PCTRAIN_ variable), or where (the
// config's file) for keys it does not know.
func Check(cfg *config.Config, where string) error {
	info, err := Lookup(cfg.Method)
	var p []string
	if err != nil {
		p = append(p, fmt.Sprintf("method: %q is not one of %s", cfg.Method, strings.Join(Names(), ", ")))
	} else if info.Check != nil {
		p = append(p, info.Check(cfg)...)
	}
	if len(p) == 0 {
		return nil
	}
	if where == "" {
		where = "config"
	}
	// Each problem starts with its key; name the source that set it (a
	// --set flag, a PCTRAIN_ variable) rather than the file.
	parts := make([]string, len(p))
	for i, text := range p {
		src := where
		if key, _, ok := strings.Cut(text, ":"); ok {
			if s := cfg.SourceOf(key); s != "" {
				src = s
			}
		}
		parts[i] = src + ": " + text
	}
	return &config.Error{Msg: strings.Join(parts, "; ")}
}

// UpdatesPerBatch is info's optimizer steps per batch under cfg.
func (info *Info) UpdatesPerBatch(cfg *config.Config) int {
	if info.Updates == nil {
		return 1
	}
	return info.Updates(cfg)
}

// InferenceSteps is info's inference steps per batch on a graph of depth.
func (info *Info) InferenceSteps(cfg *config.Config, depth int) int {
	if info.Steps == nil {
		return 0
	}
	return info.Steps(cfg, depth)
}
