package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pctrain/pctrain/internal/tensor"
)

// VertexSpec describes one vertex of a model.type graph.
type VertexSpec struct {
	Name string
	// Op is dense, conv, act, add, concat, mul, identity, flatten, maxpool
	// or avgpool.
	Op string
	// In names the inputs: "input" (the data) or an earlier vertex, with
	// an optional column slice for vectors, e.g. "input[0:28]".
	In []string
	// Out is the units (dense) or channels (conv); Kernel, Stride and
	// Padding describe conv and pooling.
	Out, Kernel, Stride, Padding int
	// Act is applied to the inputs before the op: one name for every
	// input or one per input ("linear" for none). For op act it is the
	// function itself.
	Act []string
	// Share ties this vertex's parameters to those of an earlier vertex
	// with the same op and shapes.
	Share string
}

var sliceRef = regexp.MustCompile(`^([^\[\]]+)\[(\d+):(\d+)\]$`)

// NewGraphFromSpecs builds a graph from vertex specs; the last spec is the
// output. Parameters are named "{name}.weight" and "{name}.bias".
func NewGraphFromSpecs[T tensor.Float](in Shape, specs []VertexSpec, bias bool) (*Graph[T], error) {
	vs := []*Vertex[T]{{Name: "input", Shape: in}}
	index := map[string]int{"input": 0}
	for _, s := range specs {
		vx, err := buildVertex(vs, index, s, bias)
		if err != nil {
			return nil, fmt.Errorf("vertex %q: %v", s.Name, err)
		}
		index[s.Name] = len(vs)
		vs = append(vs, vx)
	}
	return NewGraph(vs)
}

func buildVertex[T tensor.Float](vs []*Vertex[T], index map[string]int, s VertexSpec, bias bool) (*Vertex[T], error) {
	if s.Name == "" || s.Name == "input" || strings.ContainsAny(s.Name, "[]:~ ") {
		return nil, fmt.Errorf("needs a name other than \"input\", without brackets, colons, tildes or spaces")
	}
	if _, dup := index[s.Name]; dup {
		return nil, fmt.Errorf("the name is used twice")
	}
	if len(s.In) == 0 {
		return nil, fmt.Errorf("needs at least one input (in: [...])")
	}
	vx := &Vertex[T]{Name: s.Name, Pre: make([][]Layer[T], len(s.In))}
	if len(s.Act) > 1 && len(s.Act) != len(s.In) && s.Op != "act" {
		return nil, fmt.Errorf("act lists %d functions for %d inputs", len(s.Act), len(s.In))
	}
	for i, ref := range s.In {
		name := ref
		var slice *Slice[T]
		if m := sliceRef.FindStringSubmatch(ref); m != nil {
			a, _ := strconv.Atoi(m[2])
			b, _ := strconv.Atoi(m[3])
			name, slice = m[1], &Slice[T]{From: a, To: b}
		}
		p, ok := index[name]
		if !ok {
			return nil, fmt.Errorf("unknown input %q (inputs must be defined earlier: vertices are listed in order, so cycles cannot be written)", name)
		}
		vx.Inputs = append(vx.Inputs, p)
		if slice != nil {
			vx.Pre[i] = append(vx.Pre[i], slice)
		}
		if s.Op != "act" && len(s.Act) > 0 {
			a := s.Act[0]
			if len(s.Act) > 1 {
				a = s.Act[i]
			}
			if a != "linear" && a != "" {
				act, err := LookupActivation(a)
				if err != nil {
					return nil, err
				}
				vx.Pre[i] = append(vx.Pre[i], &Act[T]{A: act})
			}
		}
	}
	single := func() error {
		if len(s.In) != 1 {
			return fmt.Errorf("op %s takes one input, got %d", s.Op, len(s.In))
		}
		return nil
	}
	switch s.Op {
	case "add", "mul", "concat":
		if len(s.In) < 2 {
			return nil, fmt.Errorf("op %s needs at least two inputs", s.Op)
		}
		vx.Combine = s.Op
	case "dense", "conv":
		vx.Combine = "concat"
		if s.Op == "dense" && len(s.In) > 1 {
			// A dense layer reads the concatenation of its inputs as
			// vectors, whatever their shapes.
			for i, p := range vx.Inputs {
				if len(vs[p].Shape) > 1 {
					vx.Pre[i] = append(vx.Pre[i], Flatten[T]{})
				}
			}
		}
	case "identity", "act", "flatten", "maxpool", "avgpool":
		if err := single(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown op %q (valid: dense, conv, act, add, concat, mul, identity, flatten, maxpool, avgpool)", s.Op)
	}
	// The combined input's shape, before the vertex's own layers.
	if err := vx.inferShape(vs); err != nil {
		return nil, err
	}
	cin := vx.Shape
	var l Layer[T]
	var err error
	switch s.Op {
	case "dense":
		if s.Out < 1 {
			return nil, fmt.Errorf("dense needs out ≥ 1")
		}
		l = NewDense[T](s.Name, cin.Size(), s.Out, bias)
	case "conv":
		l, err = NewConv2D[T](s.Name, cin, s.Out, s.Kernel, max(s.Stride, 1), s.Padding, bias)
	case "act":
		if len(s.Act) != 1 {
			return nil, fmt.Errorf("op act needs act: NAME")
		}
		var a Activation
		if a, err = LookupActivation(s.Act[0]); err == nil {
			l = &Act[T]{A: a}
		}
	case "flatten":
		l = Flatten[T]{}
	case "maxpool", "avgpool":
		stride := s.Stride
		if stride == 0 {
			stride = s.Kernel
		}
		l, err = NewPool2D[T](s.Op == "maxpool", cin, s.Kernel, stride)
	}
	if err != nil {
		return nil, err
	}
	if s.Share != "" {
		if l, err = shareLayer(vs, index, s, l); err != nil {
			return nil, err
		}
	}
	if l != nil {
		vx.Layers = []Layer[T]{l}
	}
	return vx, vx.inferShape(vs)
}

// shareLayer returns a layer computing with the parameters of vertex
// s.Share, which must have the same op and parameter shapes as l.
func shareLayer[T tensor.Float](vs []*Vertex[T], index map[string]int, s VertexSpec, l Layer[T]) (Layer[T], error) {
	p, ok := index[s.Share]
	if !ok || p == 0 {
		return nil, fmt.Errorf("share: no earlier vertex %q", s.Share)
	}
	var other Layer[T]
	for _, ol := range vs[p].Layers {
		if len(ol.Params()) > 0 {
			other = ol
		}
	}
	if other == nil || l == nil || other.Kind() != l.Kind() {
		return nil, fmt.Errorf("share: vertex %q has no %s layer to share", s.Share, s.Op)
	}
	mine, theirs := l.Params(), other.Params()
	if len(mine) != len(theirs) {
		return nil, fmt.Errorf("share: vertex %q has %d parameter tensors, this one %d", s.Share, len(theirs), len(mine))
	}
	for i := range mine {
		if fmt.Sprint(mine[i].Shape) != fmt.Sprint(theirs[i].Shape) {
			return nil, fmt.Errorf("share: %s has shape %v here but %v in vertex %q", mine[i].Name, mine[i].Shape, theirs[i].Shape, s.Share)
		}
	}
	switch o := other.(type) {
	case *Dense[T]:
		return o.Shared(), nil
	case *Conv2D[T]:
		return o.Shared(), nil
	}
	return nil, fmt.Errorf("share: %s layers cannot be shared", other.Kind())
}
