package model

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Vertex is a node of the computational graph. Vertex 0 of a Graph is the
// input; every other vertex v predicts its value as
//
//	mu_v = Layers[K-1](… Layers[0](x_parent))
//
// so an MLP vertex l > 1 holds [act, dense] and applies phi_{l-1} to its
// parent's value node, as PC-SPEC §1 writes mu_l = phi_{l-1}(x_{l-1}) W_lᵀ + b_l.
type Vertex[T tensor.Float] struct {
	Name string
	// Inputs are the parent vertices. Only single-parent vertices exist
	// so far; the graph validates that.
	Inputs []int
	Layers []Layer[T]
	// Shape is the shape of one sample's value at this vertex.
	Shape Shape
	// Level is the distance to the output vertex (output = 0), PC-SPEC §3.
	Level int
}

// Graph is a levelled computational graph. Vertices are stored in
// topological order: parents before children, the output last.
type Graph[T tensor.Float] struct {
	Vertices []*Vertex[T]
	params   []*Param[T]
}

// NewGraph checks shapes and computes levels. vertices[0] is the input
// vertex (no layers) with its Shape set.
func NewGraph[T tensor.Float](vertices []*Vertex[T]) (*Graph[T], error) {
	if len(vertices) < 2 {
		return nil, fmt.Errorf("model: a graph needs an input and at least one other vertex")
	}
	g := &Graph[T]{Vertices: vertices}
	children := make([][]int, len(vertices))
	for v := 1; v < len(vertices); v++ {
		vx := vertices[v]
		if len(vx.Inputs) != 1 {
			return nil, fmt.Errorf("model: vertex %q: exactly one input is supported, got %d", vx.Name, len(vx.Inputs))
		}
		p := vx.Inputs[0]
		if p < 0 || p >= v {
			return nil, fmt.Errorf("model: vertex %q: input %d is not an earlier vertex", vx.Name, p)
		}
		children[p] = append(children[p], v)
		s := vertices[p].Shape
		for _, l := range vx.Layers {
			var err error
			if s, err = l.OutShape(s); err != nil {
				return nil, fmt.Errorf("model: vertex %q: %v", vx.Name, err)
			}
		}
		vx.Shape = s
		for _, l := range vx.Layers {
			g.params = append(g.params, l.Params()...)
		}
	}
	// Levels: distance to the output along children; a levelled graph has
	// one length for every path (checked).
	out := len(vertices) - 1
	for v := out; v >= 0; v-- {
		if v == out {
			vertices[v].Level = 0
			continue
		}
		if len(children[v]) == 0 {
			return nil, fmt.Errorf("model: vertex %q does not reach the output", vertices[v].Name)
		}
		if len(children[v]) > 1 {
			// Backprop and PC overwrite, not accumulate, a parent's
			// gradient; fan-out needs accumulation first.
			return nil, fmt.Errorf("model: vertex %q feeds %d vertices; only chains are supported so far", vertices[v].Name, len(children[v]))
		}
		lvl := vertices[children[v][0]].Level + 1
		for _, c := range children[v][1:] {
			if vertices[c].Level+1 != lvl {
				return nil, fmt.Errorf("model: vertex %q: paths to the output differ in length", vertices[v].Name)
			}
		}
		vertices[v].Level = lvl
	}
	return g, nil
}

// Output returns the index of the output vertex.
func (g *Graph[T]) Output() int { return len(g.Vertices) - 1 }

// Depth is the number of levels holding parameters: the level of the input
// vertex. Z-IL needs Depth inference steps.
func (g *Graph[T]) Depth() int { return g.Vertices[0].Level }

// Params returns every parameter in checkpoint order.
func (g *Graph[T]) Params() []*Param[T] { return g.params }

// ZeroGrad clears every parameter gradient.
func (g *Graph[T]) ZeroGrad() {
	for _, p := range g.params {
		p.Grad.Zero()
	}
}

// NumParams counts the trainable scalars.
func (g *Graph[T]) NumParams() int {
	n := 0
	for _, p := range g.params {
		n += len(p.Value.Data)
	}
	return n
}

// Workspace holds the per-batch buffers of a graph: the intermediate values
// inside each vertex and scratch space for their VJPs. Buffers are sized on
// first use and reused, so steady-state passes do not allocate.
type Workspace[T tensor.Float] struct {
	// H[v][k] is the input of layer k of vertex v for k ≥ 1 (H[v][0] is
	// unused: layer 0 reads the parent's value directly); Mu[v] is the
	// vertex's prediction.
	H  [][]*Mat[T]
	Mu []*Mat[T]
	d  [][]*Mat[T]
	// deriv[v][k] caches f'(x) of element-wise layer k of vertex v from
	// the last forward pass.
	deriv [][]*Mat[T]
	// delta[v] is ∂ℓ/∂mu_v during Backprop.
	delta []*Mat[T]
}

// NewWorkspace allocates empty buffers for g.
func NewWorkspace[T tensor.Float](g *Graph[T]) *Workspace[T] {
	n := len(g.Vertices)
	ws := &Workspace[T]{H: make([][]*Mat[T], n), Mu: make([]*Mat[T], n), d: make([][]*Mat[T], n), deriv: make([][]*Mat[T], n)}
	for v, vx := range g.Vertices {
		ws.Mu[v] = &Mat[T]{}
		ws.H[v] = make([]*Mat[T], len(vx.Layers))
		ws.d[v] = make([]*Mat[T], len(vx.Layers))
		ws.deriv[v] = make([]*Mat[T], len(vx.Layers))
		for k := range vx.Layers {
			ws.H[v][k] = &Mat[T]{}
			ws.d[v][k] = &Mat[T]{}
			ws.deriv[v][k] = &Mat[T]{}
		}
	}
	return ws
}

// ForwardVertex sets ws.Mu[v] = f_v(in).
func (g *Graph[T]) ForwardVertex(ws *Workspace[T], v int, in *Mat[T]) {
	layers := g.Vertices[v].Layers
	x := in
	for k, l := range layers {
		y := ws.Mu[v]
		if k+1 < len(layers) {
			y = ws.H[v][k+1]
		}
		if dl, ok := l.(derivLayer[T]); ok {
			dl.ForwardDeriv(y, ws.deriv[v][k], x)
		} else {
			l.Forward(y, x)
		}
		x = y
	}
}

// derivLayer is an element-wise layer that computes its derivative in the
// forward pass (Act); its VJP then reuses it.
type derivLayer[T tensor.Float] interface {
	ForwardDeriv(y, d, x *Mat[T])
	VJPDeriv(dx, d, dy *Mat[T])
}

// VJPVertex back-propagates dmu (a vector in mu_v's space) through vertex
// v, whose last forward pass read in. It sets din = J_vᵀ·dmu when din is
// non-nil and, when grads is true, adds alpha·∂⟨dmu, mu_v⟩/∂θ_v to the
// vertex's parameter gradients.
func (g *Graph[T]) VJPVertex(ws *Workspace[T], v int, in, dmu, din *Mat[T], grads bool, alpha T) {
	layers := g.Vertices[v].Layers
	dy := dmu
	// Without din, the pass stops below the lowest layer with parameters.
	lowest := 0
	if din == nil {
		if !grads {
			return
		}
		for lowest < len(layers) && len(layers[lowest].Params()) == 0 {
			lowest++
		}
	}
	for k := len(layers) - 1; k >= lowest; k-- {
		x, y := in, ws.Mu[v]
		if k > 0 {
			x = ws.H[v][k]
		}
		if k+1 < len(layers) {
			y = ws.H[v][k+1]
		}
		var dx *Mat[T]
		switch {
		case k > lowest:
			dx = ws.d[v][k]
		case k > 0 && din != nil:
			dx = ws.d[v][k]
		case din != nil:
			dx = din
		}
		if dl, ok := layers[k].(derivLayer[T]); ok {
			if dx != nil {
				dl.VJPDeriv(dx, ws.deriv[v][k], dy)
			}
		} else {
			layers[k].VJP(dx, x, y, dy, grads, alpha)
		}
		dy = dx
	}
}

// Forward runs the feed-forward pass (every value equal to its prediction)
// from the batch x and returns the output prediction (logits). The returned
// matrix belongs to ws.
func (g *Graph[T]) Forward(ws *Workspace[T], x *Mat[T]) *Mat[T] {
	for v := 1; v < len(g.Vertices); v++ {
		p := g.Vertices[v].Inputs[0]
		in := x
		if p > 0 {
			in = ws.Mu[p]
		}
		g.ForwardVertex(ws, v, in)
	}
	return ws.Mu[g.Output()]
}
