package train

import (
	"fmt"
	"slices"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// newRule builds cfg's learning rule on g: one instance, or, with more
// than one thread, one per part of the batch (split).
func newRule[T tensor.Float](cfg *config.Config, g *model.Graph[T], shape []int, classes int, loss model.Loss[T]) (*rule.Info, rule.Rule[T], error) {
	info, err := rule.Lookup(cfg.Method)
	if err != nil {
		return nil, nil, err
	}
	if n := cfg.Threads(); n > 1 {
		s, err := newSplit(n, info, cfg, g, shape, classes, loss)
		return info, s, err
	}
	r, err := newPart(info, cfg, g, loss)
	return info, r, err
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
	case "skipmlp":
		p, perr := model.ParseParameterization(cfg.Model.Parameterization)
		if perr != nil {
			return nil, fmt.Errorf("model.parameterization: %v", perr)
		}
		g, err = model.NewSkipMLP[T](n, cfg.Model.Hidden, cfg.Model.Depth, classes, cfg.Model.Activation, p)
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
		if err == nil && cfg.Bidirectional() {
			rev := slices.Clone(sizes)
			slices.Reverse(rev)
			var h *model.Graph[T]
			if h, err = model.NewMLP[T](model.MLPSpec{Sizes: rev, Activation: cfg.Model.Activation, Bias: cfg.Model.Bias}); err == nil {
				err = model.Bidirectional(g, h)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	g.AddDropout(cfg.Model.Dropout)
	if out := g.Vertices[g.Output()].Shape.Size(); out < classes {
		return nil, fmt.Errorf("model: the output has %d units but the data has %d classes", out, classes)
	}
	return g, nil
}

// InitName is the initialiser cfg's model is drawn with: model.init, or
// N(0, 1) under model.parameterization mupc (RULES.md §4).
func InitName(cfg *config.Config) string {
	if cfg.Model.Parameterization == "mupc" {
		return "standard-normal"
	}
	return cfg.Model.Init
}

// DescribeModel builds cfg's model for the data and returns its levelled
// graph as text, its parameter count and its depth.
func DescribeModel(cfg *config.Config, shape []int, classes int) (string, int, int, error) {
	g, err := buildFor[float64](cfg, &Data{Shape: shape, Classes: classes})
	if err != nil {
		return "", 0, 0, userErr("%v", err)
	}
	return g.Describe(), g.NumParams(), g.Depth(), nil
}
