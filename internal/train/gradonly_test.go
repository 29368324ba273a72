package train

import (
	"context"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Method is a rule whose updates are left out: Grad leaves the batch's
// gradient in the graph's Grad buffers (the shape the step tests and
// benchmarks measure: the gradient, then an optimizer step of their own).
type Method[T tensor.Float] interface {
	Grad(x *tensor.Mat[T], labels []int) relax.Result
}

type gradOnly[T tensor.Float] struct {
	r rule.Rule[T]
	b rule.Batch[T]
}

type noUpdate struct{}

func (noUpdate) Update() error { return nil }

func (m *gradOnly[T]) Grad(x *tensor.Mat[T], labels []int) relax.Result {
	m.b = rule.Batch[T]{X: x, Labels: labels}
	r, err := m.r.Step(context.Background(), &m.b, noUpdate{})
	if err != nil {
		panic(err)
	}
	return r
}

func (m *gradOnly[T]) Close() {
	if c, ok := m.r.(interface{ Close() }); ok {
		c.Close()
	}
}

// NewMethod is the named rule on g, one part.
func NewMethod[T tensor.Float](name string, cfg *config.Config, g *model.Graph[T], loss model.Loss[T]) (Method[T], error) {
	info, err := rule.Lookup(name)
	if err != nil {
		return nil, err
	}
	r, err := rule.New(info, rule.Env[T]{Cfg: cfg, G: g, Loss: loss})
	if err != nil {
		return nil, err
	}
	return &gradOnly[T]{r: r}, nil
}

// newSplitMethod is cfg's rule split over n parts.
func newSplitMethod[T tensor.Float](n int, cfg *config.Config, g *model.Graph[T], shape []int, classes int, loss model.Loss[T]) (*gradOnly[T], error) {
	info, err := rule.Lookup(cfg.Method)
	if err != nil {
		return nil, err
	}
	s, err := newSplit(n, info, cfg, g, shape, classes, loss)
	if err != nil {
		return nil, err
	}
	return &gradOnly[T]{r: s}, nil
}
