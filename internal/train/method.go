package train

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Method computes one batch's parameter gradients into the graph's Grad
// buffers (zeroing them first). BP, PC and Z-IL differ only here.
type Method[T tensor.Float] interface {
	Name() string
	Grad(x *tensor.Mat[T], labels []int) relax.Result
}

type bpMethod[T tensor.Float] struct {
	g    *model.Graph[T]
	ws   *model.Workspace[T]
	loss model.Loss[T]
}

func (m *bpMethod[T]) Name() string { return "bp" }
func (m *bpMethod[T]) Grad(x *tensor.Mat[T], labels []int) relax.Result {
	m.g.ZeroGrad()
	loss, correct := m.g.Backprop(m.ws, x, labels, m.loss)
	return relax.Result{Loss: loss, Correct: correct, Energy: loss / float64(x.Rows), Samples: x.Rows}
}

type pcMethod[T tensor.Float] struct {
	e *relax.Engine[T]
	s relax.ILSettings
}

func (m *pcMethod[T]) Name() string { return "pc" }
func (m *pcMethod[T]) Grad(x *tensor.Mat[T], labels []int) relax.Result {
	m.e.G.ZeroGrad()
	return m.e.IL(x, labels, m.s)
}

type zilMethod[T tensor.Float] struct {
	e     *relax.Engine[T]
	gamma float64
	sched relax.Schedule
	fa    bool
}

func (m *zilMethod[T]) Name() string {
	if m.fa {
		return "fa-zil"
	}
	return "zil"
}

func (m *zilMethod[T]) Grad(x *tensor.Mat[T], labels []int) relax.Result {
	m.e.G.ZeroGrad()
	if m.fa {
		return m.e.FaZIL(x, labels, m.gamma)
	}
	return m.e.ZIL(x, labels, m.gamma, m.sched)
}

// NewMethod returns the named method ("bp", "pc", "zil", "fa-zil") on g.
func NewMethod[T tensor.Float](name string, cfg *config.Config, g *model.Graph[T], loss model.Loss[T]) (Method[T], error) {
	switch name {
	case "bp":
		return &bpMethod[T]{g: g, ws: model.NewWorkspace(g), loss: loss}, nil
	case "pc":
		return &pcMethod[T]{e: relax.NewEngine(g, loss), s: relax.ILSettings{Steps: cfg.PC.Steps, LR: cfg.PC.XLR, Momentum: cfg.PC.XMomentum}}, nil
	case "zil", "fa-zil":
		sched, err := relax.ParseSchedule(cfg.ZIL.Schedule)
		if err != nil {
			return nil, err
		}
		return &zilMethod[T]{e: relax.NewEngine(g, loss), gamma: cfg.ZIL.Gamma, sched: sched, fa: name == "fa-zil"}, nil
	}
	return nil, fmt.Errorf("unknown method %q (valid: bp, pc, zil, fa-zil)", name)
}

// BuildModel builds the graph cfg describes, without initialising it.
func BuildModel[T tensor.Float](cfg *config.Config) (*model.Graph[T], error) {
	return model.NewMLP[T](model.MLPSpec{Sizes: cfg.Model.Sizes, Activation: cfg.Model.Activation, Bias: cfg.Model.Bias})
}
