package model

import (
	"fmt"
	"math"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Scale is the layer y = A·x: a constant of the graph, not a parameter
// (μPC's forward scalings, RULES.md §4). Name identifies it in checkpoint
// metadata.
type Scale[T tensor.Float] struct {
	Name string
	A    float64
}

var _ Layer[float64] = (*Scale[float64])(nil)

func (s *Scale[T]) Kind() string                     { return "scale" }
func (s *Scale[T]) OutShape(in Shape) (Shape, error) { return in, nil }
func (s *Scale[T]) Params() []*Param[T]              { return nil }

// passThrough: a scaling of 1 (the standard parameterisation) is the
// identity, and a chain hands its input on (graph.go's passLayer).
func (s *Scale[T]) passThrough() bool { return s.A == 1 }

func (s *Scale[T]) Forward(y, x *Mat[T]) {
	y.Resize(x.Rows, x.Cols)
	tensor.ScaleTo(y.Data, T(s.A), x.Data)
}

func (s *Scale[T]) VJP(dx, _, _, dy *Mat[T], _ bool, _ T) {
	if dx == nil {
		return
	}
	dx.Resize(dy.Rows, dy.Cols)
	tensor.ScaleTo(dx.Data, T(s.A), dy.Data)
}

// Parameterization of a skipmlp.
type Parameterization int

const (
	// StandardParam: every scaling 1, weights from the run's model.init.
	StandardParam Parameterization = iota
	// MuPCParam: μPC's scalings a_in = 1/√D, a_h = 1/√(N·H), a_out = 1/N
	// and N(0, 1) weights (RULES.md §4).
	MuPCParam
)

// ParseParameterization reads model.parameterization.
func ParseParameterization(s string) (Parameterization, error) {
	switch s {
	case "", "standard":
		return StandardParam, nil
	case "mupc":
		return MuPCParam, nil
	}
	return 0, fmt.Errorf("unknown parameterization %q (valid: standard, mupc)", s)
}

// SkipMLPScalings returns a_in, a_h and a_out for input size d, width n
// and depth h hidden layers.
func SkipMLPScalings(p Parameterization, d, n, h int) (aIn, aH, aOut float64) {
	if p == StandardParam {
		return 1, 1, 1
	}
	return 1 / math.Sqrt(float64(d)), 1 / math.Sqrt(float64(n*h)), 1 / float64(n)
}

// NewSkipMLP builds μPC's residual MLP (RULES.md §4) with depth hidden
// layers of width units and no biases:
//
//	z_1 = a_in W_1 x,   z_l = z_{l−1} + a_h W_l φ(z_{l−1})  (l = 2 … H),   logits = a_out W_out φ(z_H)
//
// Each z_l is a vertex; its skip input is z_{l−1} itself (one level), so
// the graph needs no identity vertex. The scalings are Scale layers named
// "a_in", "a_h.{l}" and "a_out". Parameters: "layers.{i}.weight" for i =
// 0 (W_1) … depth (W_out).
func NewSkipMLP[T tensor.Float](in, width, depth, classes int, activation string, p Parameterization) (*Graph[T], error) {
	if depth < 1 || width < 1 {
		return nil, fmt.Errorf("model: a skipmlp needs depth ≥ 1 and width ≥ 1 (got %d, %d)", depth, width)
	}
	act, err := LookupActivation(activation)
	if err != nil {
		return nil, err
	}
	aIn, aH, aOut := SkipMLPScalings(p, in, width, depth)
	vs := []*Vertex[T]{{Name: "input", Shape: Shape{in}},
		{Name: "z1", Inputs: []int{0}, Layers: []Layer[T]{NewDense[T]("layers.0", in, width, false), &Scale[T]{Name: "a_in", A: aIn}}}}
	for l := 2; l <= depth; l++ {
		vs = append(vs, &Vertex[T]{Name: fmt.Sprintf("z%d", l), Inputs: []int{l - 1, l - 1}, Combine: "add",
			Pre: [][]Layer[T]{nil, {&Act[T]{A: act}, NewDense[T](fmt.Sprintf("layers.%d", l-1), width, width, false),
				&Scale[T]{Name: fmt.Sprintf("a_h.%d", l), A: aH}}}})
	}
	vs = append(vs, &Vertex[T]{Name: "output", Inputs: []int{depth},
		Layers: []Layer[T]{&Act[T]{A: act}, NewDense[T](fmt.Sprintf("layers.%d", depth), width, classes, false), &Scale[T]{Name: "a_out", A: aOut}}})
	return NewGraph(vs)
}

// Scalings returns the graph's Scale layers, in vertex order.
func (g *Graph[T]) Scalings() []*Scale[T] {
	var s []*Scale[T]
	for _, vx := range g.Vertices {
		for _, l := range vx.allLayers() {
			if sc, ok := l.(*Scale[T]); ok {
				s = append(s, sc)
			}
		}
	}
	return s
}

// ShareScalings makes g use src's Scale layers (the same constants; a copy
// of a graph working on part of a batch sees the scalings a checkpoint
// restores into src). Call it before building workspaces of g.
func (g *Graph[T]) ShareScalings(src *Graph[T]) {
	from := src.Scalings()
	k := 0
	for _, vx := range g.Vertices {
		chains := append(append([][]Layer[T]{}, vx.Pre...), vx.Layers)
		for _, c := range chains {
			for i, l := range c {
				if _, ok := l.(*Scale[T]); ok && k < len(from) {
					c[i] = from[k]
					k++
				}
			}
		}
	}
}
