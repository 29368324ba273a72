package model

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/tensor"
)

// LayerSpec is one entry of a sequential model description (model.layers).
type LayerSpec struct {
	// Kind is conv, act, maxpool, avgpool, flatten or dense.
	Kind string
	// Out is the number of output channels (conv) or units (dense).
	Out int
	// Kernel, Stride and Padding describe conv and pooling windows.
	Kernel, Stride, Padding int
	// Activation names the function of an act layer.
	Activation string
}

// NewSequential builds a graph from a layer list applied to inputs of shape
// in. Each conv or dense layer ends a vertex (its output is a value node);
// the act, pooling and flatten layers before it belong to the same vertex,
// so the prediction of a vertex is, e.g., conv(maxpool(gelu(x_parent))).
// Parameters of list entry i are named "layers.{i}.weight" and
// "layers.{i}.bias", the names of a PyTorch nn.Sequential built from the
// same list (held as a "layers" attribute).
func NewSequential[T tensor.Float](in Shape, specs []LayerSpec, bias bool) (*Graph[T], error) {
	if len(in) == 2 {
		in = Shape{1, in[0], in[1]}
	}
	vs := []*Vertex[T]{{Name: "input", Shape: in}}
	var pending []Layer[T]
	shape := in
	for i, s := range specs {
		where := fmt.Sprintf("model.layers[%d] (%s)", i, s.Kind)
		var l Layer[T]
		var err error
		prefix := fmt.Sprintf("layers.%d", i)
		switch s.Kind {
		case "conv":
			l, err = NewConv2D[T](prefix, shape, s.Out, s.Kernel, max(s.Stride, 1), s.Padding, bias)
		case "dense":
			if s.Out < 1 {
				err = fmt.Errorf("out must be ≥ 1")
			} else {
				l = NewDense[T](prefix, shape.Size(), s.Out, bias)
			}
		case "act":
			var a Activation
			if a, err = LookupActivation(s.Activation); err == nil {
				l = &Act[T]{A: a}
			}
		case "maxpool", "avgpool":
			stride := s.Stride
			if stride == 0 {
				stride = s.Kernel
			}
			l, err = NewPool2D[T](s.Kind == "maxpool", shape, s.Kernel, stride)
		case "flatten":
			l = Flatten[T]{}
		default:
			err = fmt.Errorf("unknown layer (valid: conv, act, maxpool, avgpool, flatten, dense)")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		if shape, err = l.OutShape(shape); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		pending = append(pending, l)
		if len(l.Params()) > 0 {
			vs = append(vs, &Vertex[T]{Name: fmt.Sprintf("v%d", len(vs)), Inputs: []int{len(vs) - 1}, Layers: pending})
			pending = nil
		}
	}
	if len(vs) < 2 {
		return nil, fmt.Errorf("model.layers: needs at least one conv or dense layer")
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("model.layers: the last layer must be conv or dense (its output is the logits), not %s", pending[len(pending)-1].Kind())
	}
	vs[len(vs)-1].Name = "output"
	return NewGraph(vs)
}

// VGG5 is PCX's VGG-5: four 3×3 convolutions (padding 1) with 128, 256,
// 512 and 512 channels, each followed by the activation and 2×2 max
// pooling, then a linear head.
func VGG5(activation string, classes int) []LayerSpec {
	var s []LayerSpec
	for _, ch := range []int{128, 256, 512, 512} {
		s = append(s, LayerSpec{Kind: "conv", Out: ch, Kernel: 3, Padding: 1},
			LayerSpec{Kind: "act", Activation: activation}, LayerSpec{Kind: "maxpool", Kernel: 2})
	}
	return append(s, LayerSpec{Kind: "flatten"}, LayerSpec{Kind: "dense", Out: classes})
}
