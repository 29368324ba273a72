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

// trace makes the next Grad record its energy trajectory into tr.
func (m *pcMethod[T]) trace(tr *[]float64)       { m.s.Trace = tr }
func (m *pcMethod[T]) values() []*tensor.Mat[T]  { return m.e.Values() }
func (m *zilMethod[T]) values() []*tensor.Mat[T] { return m.e.Values() }
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

// BuildModel builds the graph cfg describes for samples of the given
// shape and number of classes, without initialising it.
func BuildModel[T tensor.Float](cfg *config.Config, shape []int, classes int) (*model.Graph[T], error) {
	var g *model.Graph[T]
	var err error
	n := model.Shape(shape).Size()
	switch cfg.Model.Type {
	case "graph":
		specs, err := cfg.VertexSpecs()
		if err != nil {
			return nil, err
		}
		if g, err = model.NewGraphFromSpecs[T](model.Shape(shape), specs, cfg.Model.Bias); err != nil {
			return nil, fmt.Errorf("model.vertices: %v", err)
		}
	case "rnn":
		g, err = model.NewElmanRNN[T](n, cfg.Model.Steps, cfg.Model.Hidden, classes, cfg.Model.Bias)
	case "lstm":
		g, err = model.NewLSTM[T](n, cfg.Model.Steps, cfg.Model.Hidden, classes, cfg.Model.Bias)
	case "resmlp":
		g, err = model.NewResMLP[T](n, cfg.Model.Hidden, cfg.Model.Blocks, classes, cfg.Model.Activation, cfg.Model.Bias)
	case "cnn", "vgg5":
		specs := model.VGG5(cfg.Model.Activation, classes)
		if cfg.Model.Type == "cnn" {
			if specs, err = cfg.LayerSpecs(); err != nil {
				return nil, err
			}
		}
		if len(shape) < 2 || len(shape) > 3 {
			return nil, fmt.Errorf("model.type %s needs image data ([channels,] height, width), got samples of shape %v", cfg.Model.Type, shape)
		}
		g, err = model.NewSequential[T](model.Shape(shape), specs, cfg.Model.Bias)
	default:
		sizes := cfg.Model.Sizes
		if sizes[0] != n {
			return nil, fmt.Errorf("model.sizes: the input size is %d but the samples have %d values (shape %v)", sizes[0], n, shape)
		}
		g, err = model.NewMLP[T](model.MLPSpec{Sizes: sizes, Activation: cfg.Model.Activation, Bias: cfg.Model.Bias})
	}
	if err != nil {
		return nil, err
	}
	if out := g.Vertices[g.Output()].Shape.Size(); out < classes {
		return nil, fmt.Errorf("model: the output has %d units but the data has %d classes", out, classes)
	}
	return g, nil
}

// DescribeModel builds cfg's model for the data and returns its levelled
// graph as text, its parameter count and its depth.
func DescribeModel(cfg *config.Config, d *Data) (string, int, int, error) {
	g, err := BuildModel[float64](cfg, d.Shape, d.Classes)
	if err != nil {
		return "", 0, 0, userErr("%v", err)
	}
	return g.Describe(), g.NumParams(), g.Depth(), nil
}
