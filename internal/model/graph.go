package model

import (
	"fmt"
	"strings"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Vertex is a node of the computational graph. Vertex 0 of a Graph is the
// input; every other vertex v predicts its value from its parents:
//
//	mu_v = Layers(combine(Pre_1(x_p1), …, Pre_n(x_pn)))
//
// An MLP vertex l > 1 has one input and Layers [act, dense]: it applies
// phi_{l-1} to its parent's value node, as PC-SPEC §1 writes
// mu_l = phi_{l-1}(x_{l-1}) W_lᵀ + b_l.
type Vertex[T tensor.Float] struct {
	Name string
	// Inputs are the parent vertices (earlier in the graph's order).
	Inputs []int
	// Pre, if set, holds a chain of layers per input applied before the
	// inputs are combined (e.g. an activation); nil chains pass through.
	Pre [][]Layer[T]
	// Combine joins several inputs: "add" (sum), "concat" (rows joined
	// in input order: features, or channels of feature maps) or "mul"
	// (element-wise product). Unused for one input.
	Combine string
	// Layers are applied to the combined input; none makes the vertex
	// the combination itself (or an identity for one input).
	Layers []Layer[T]
	// Shape is the shape of one sample's value at this vertex.
	Shape Shape
	// Level is the distance to the output vertex (output = 0), PC-SPEC §3.
	Level int
	// Identity marks vertices inserted on skip edges to level the graph.
	Identity bool
}

// Edge is one use of a vertex's value: input slot Slot of vertex Child.
type Edge struct{ Child, Slot int }

// Graph is a levelled computational graph. Vertices are stored in
// topological order: parents before children, the output last.
type Graph[T tensor.Float] struct {
	Vertices []*Vertex[T]
	// Children[v] lists the uses of vertex v, by ascending child index.
	Children [][]Edge
	params   []*Param[T]
	buffers  []*Buffer[T]
	// TopDown, when set, makes the graph bidirectional (bPC; see
	// Bidirectional): it predicts every vertex of this chain but the
	// output from the vertex above.
	TopDown *Graph[T]
}

// Bidirectional attaches h as g's top-down graph: h's vertex u predicts
// g's vertex L−u from g's vertex L−u+1 (h's input, vertex 0, stands for
// g's output L). Both must be chains of the same length with reversed
// sizes. h's parameters are renamed topdown.{name} and listed after g's
// own (checkpoints, optimizer, initialisation: g's draws come first, so
// g starts as it would alone).
func Bidirectional[T tensor.Float](g, h *Graph[T]) error {
	L := g.Output()
	if h.Output() != L {
		return fmt.Errorf("model: top-down graph has %d vertices, want %d", len(h.Vertices), len(g.Vertices))
	}
	for u := 0; u <= L; u++ {
		if h.Vertices[u].Shape.Size() != g.Vertices[L-u].Shape.Size() {
			return fmt.Errorf("model: top-down vertex %d has %d units, want %d", u, h.Vertices[u].Shape.Size(), g.Vertices[L-u].Shape.Size())
		}
	}
	for v := 1; v <= L; v++ {
		if len(g.Vertices[v].Inputs) != 1 || g.Vertices[v].Inputs[0] != v-1 || len(h.Vertices[v].Inputs) != 1 || h.Vertices[v].Inputs[0] != v-1 {
			return fmt.Errorf("model: a bidirectional network needs two chains")
		}
	}
	for _, p := range h.params {
		p.Name = "topdown." + p.Name
	}
	g.params = append(g.params, h.params...)
	g.TopDown = h
	return nil
}

// NewGraph checks inputs and shapes, computes levels (the longest distance
// to the output) and levels the graph: every edge between hidden vertices
// that skips k > 1 levels gets k−1 identity vertices (PC-SPEC §3, "Any
// computational graph"). Edges from the clamped input need none: no error
// flows into it. vertices[0] is the input vertex with its Shape set.
// Parameters shared by several layers (tied weights) are listed once.
func NewGraph[T tensor.Float](vertices []*Vertex[T]) (*Graph[T], error) {
	return newGraph(vertices, true)
}

// NewUnlevelledGraph is NewGraph without identity vertices. It exists for
// the ablation that shows why they are needed: on a graph with skip edges
// the parallel Z-IL dynamics then no longer reproduce backprop.
func NewUnlevelledGraph[T tensor.Float](vertices []*Vertex[T]) (*Graph[T], error) {
	return newGraph(vertices, false)
}

func newGraph[T tensor.Float](vertices []*Vertex[T], level bool) (*Graph[T], error) {
	if len(vertices) < 2 {
		return nil, fmt.Errorf("model: a graph needs an input and at least one other vertex")
	}
	for v := 1; v < len(vertices); v++ {
		vx := vertices[v]
		if len(vx.Inputs) == 0 {
			return nil, fmt.Errorf("model: vertex %q has no inputs", vx.Name)
		}
		for _, p := range vx.Inputs {
			if p < 0 || p >= v {
				return nil, fmt.Errorf("model: vertex %q: input %d is not an earlier vertex", vx.Name, p)
			}
		}
		if vx.Pre != nil && len(vx.Pre) != len(vx.Inputs) {
			return nil, fmt.Errorf("model: vertex %q: %d input chains for %d inputs", vx.Name, len(vx.Pre), len(vx.Inputs))
		}
		if err := vx.inferShape(vertices); err != nil {
			return nil, fmt.Errorf("model: vertex %q: %v", vx.Name, err)
		}
	}
	children := childrenOf(vertices)
	out := len(vertices) - 1
	for v := out - 1; v >= 0; v-- {
		if len(children[v]) == 0 {
			return nil, fmt.Errorf("model: vertex %q does not reach the output", vertices[v].Name)
		}
	}
	setLevels(vertices, children)
	if level {
		vertices = insertIdentities(vertices)
	}
	g := &Graph[T]{Vertices: vertices, Children: childrenOf(vertices)}
	setLevels(vertices, g.Children)
	seen := map[*Param[T]]bool{}
	for _, vx := range vertices {
		for _, l := range vx.allLayers() {
			for _, p := range l.Params() {
				if !seen[p] {
					seen[p] = true
					g.params = append(g.params, p)
				}
			}
		}
	}
	return g, nil
}

// AllLayers returns the vertex's layers: its input chains in input order,
// then its main chain.
func (vx *Vertex[T]) AllLayers() []Layer[T] { return vx.allLayers() }

func (vx *Vertex[T]) allLayers() []Layer[T] {
	var ls []Layer[T]
	for _, c := range vx.Pre {
		ls = append(ls, c...)
	}
	return append(ls, vx.Layers...)
}

func chainShape[T tensor.Float](layers []Layer[T], s Shape) (Shape, error) {
	for _, l := range layers {
		var err error
		if s, err = l.OutShape(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (vx *Vertex[T]) inferShape(vertices []*Vertex[T]) error {
	var shapes []Shape
	for i, p := range vx.Inputs {
		s := vertices[p].Shape
		if vx.Pre != nil {
			var err error
			if s, err = chainShape(vx.Pre[i], s); err != nil {
				return fmt.Errorf("input %q: %v", vertices[p].Name, err)
			}
		}
		shapes = append(shapes, s)
	}
	s := shapes[0]
	if len(shapes) > 1 {
		switch vx.Combine {
		case "add", "mul":
			for i, o := range shapes[1:] {
				if !sameShape(o, s) {
					return fmt.Errorf("%s of inputs with shapes %v and %v (input %q)", vx.Combine, s, o, vertices[vx.Inputs[i+1]].Name)
				}
			}
		case "concat":
			total := 0
			for _, o := range shapes {
				total += o.Size()
			}
			s = Shape{total}
			if len(shapes[0]) == 3 {
				ch := 0
				for i, o := range shapes {
					if len(o) != 3 || o[1] != shapes[0][1] || o[2] != shapes[0][2] {
						return fmt.Errorf("concat of feature maps %v and %v (input %q): heights and widths must match", shapes[0], o, vertices[vx.Inputs[i]].Name)
					}
					ch += o[0]
				}
				s = Shape{ch, shapes[0][1], shapes[0][2]}
			}
		default:
			return fmt.Errorf("%d inputs need combine add, concat or mul (got %q)", len(shapes), vx.Combine)
		}
	}
	var err error
	vx.Shape, err = chainShape(vx.Layers, s)
	return err
}

func sameShape(a, b Shape) bool {
	if len(a) != len(b) {
		return a.Size() == b.Size() && (len(a) == 1 || len(b) == 1)
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func childrenOf[T tensor.Float](vertices []*Vertex[T]) [][]Edge {
	ch := make([][]Edge, len(vertices))
	for c, vx := range vertices {
		for slot, p := range vx.Inputs {
			ch[p] = append(ch[p], Edge{Child: c, Slot: slot})
		}
	}
	return ch
}

// setLevels sets each vertex's level to its longest distance to the output;
// the input sits one level above the highest vertex.
func setLevels[T tensor.Float](vertices []*Vertex[T], children [][]Edge) {
	out := len(vertices) - 1
	top := 0
	for v := out; v >= 1; v-- {
		lvl := 0
		for _, e := range children[v] {
			lvl = max(lvl, vertices[e.Child].Level+1)
		}
		vertices[v].Level = lvl
		top = max(top, lvl)
	}
	vertices[0].Level = top + 1
}

// insertIdentities returns the vertices with identity vertices on every
// hidden edge that skips levels, keeping topological order.
func insertIdentities[T tensor.Float](vertices []*Vertex[T]) []*Vertex[T] {
	index := make([]int, len(vertices)) // old → new
	var out []*Vertex[T]
	for v, vx := range vertices {
		for slot, p := range vx.Inputs {
			if p == 0 {
				vx.Inputs[slot] = 0
				continue
			}
			gap := vertices[p].Level - vx.Level
			src := index[p]
			for k := 1; k < gap; k++ {
				id := &Vertex[T]{Name: fmt.Sprintf("%s~%s.%d", vertices[p].Name, vx.Name, k), Inputs: []int{src},
					Shape: vertices[p].Shape, Identity: true}
				out = append(out, id)
				src = len(out) - 1
			}
			vx.Inputs[slot] = src
		}
		index[v] = len(out)
		out = append(out, vx)
	}
	return out
}

// Output returns the index of the output vertex.
func (g *Graph[T]) Output() int { return len(g.Vertices) - 1 }

// Depth is the number of levels holding parameters: the level of the input
// vertex. Z-IL needs Depth inference steps.
func (g *Graph[T]) Depth() int { return g.Vertices[0].Level }

// Params returns every parameter in checkpoint order, shared ones once.
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

// Describe lists the vertices with their inputs, levels, shapes and layers.
func (g *Graph[T]) Describe() string {
	var b strings.Builder
	seen := map[*Param[T]]bool{}
	for v, vx := range g.Vertices {
		var ins []string
		for _, p := range vx.Inputs {
			ins = append(ins, g.Vertices[p].Name)
		}
		var ls []string
		for i, c := range vx.Pre {
			for _, l := range c {
				ls = append(ls, fmt.Sprintf("%s(in %d)", l.Kind(), i))
			}
		}
		if len(vx.Inputs) > 1 {
			ls = append(ls, vx.Combine)
		}
		n, shared := 0, 0
		for _, l := range vx.allLayers() {
			for _, p := range l.Params() {
				if seen[p] {
					shared += len(p.Value.Data)
				} else {
					n += len(p.Value.Data)
				}
				seen[p] = true
			}
		}
		for _, l := range vx.Layers {
			ls = append(ls, l.Kind())
		}
		kind := strings.Join(ls, " → ")
		switch {
		case v == 0:
			kind = "input (clamped)"
		case vx.Identity:
			kind = "identity (inserted)"
		case kind == "":
			kind = "identity"
		}
		fmt.Fprintf(&b, "%4d  %-20s level %-3d shape %-14v in %-28s %s", v, vx.Name, vx.Level, vx.Shape, strings.Join(ins, ","), kind)
		if n > 0 {
			fmt.Fprintf(&b, "  [%d params]", n)
		}
		if shared > 0 {
			fmt.Fprintf(&b, "  [%d tied params]", shared)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// derivLayer is an element-wise layer that computes its derivative in the
// forward pass (Act); its VJP then reuses it.
type derivLayer[T tensor.Float] interface {
	ForwardDeriv(y, d, x *Mat[T])
	VJPDeriv(dx, d, dy *Mat[T])
}

// passLayer is a layer that may currently be the identity (a Scale of 1):
// a chain then hands its input on instead of copying it.
type passLayer interface{ passThrough() bool }

// chain holds the buffers of one layer chain: h[k] is the buffer of layer
// k's output, y[k] the output of the last forward (h[k], or the layer's
// input when the layer passed it through).
type chain[T tensor.Float] struct {
	layers []Layer[T]
	// lowestParam is the index of the first layer with parameters
	// (len(layers) when none); computed once, since Params may allocate.
	lowestParam int
	h           []*Mat[T]
	y           []*Mat[T]
	d           []*Mat[T]
	deriv       []*Mat[T]
	in          *Mat[T] // the input of the last forward
	// fixedOut: the last layer must write into h[last] (a vertex's mu).
	fixedOut bool
}

func newChain[T tensor.Float](layers []Layer[T], out *Mat[T]) *chain[T] {
	c := &chain[T]{layers: layers, lowestParam: len(layers), fixedOut: out != nil}
	for k := len(layers) - 1; k >= 0; k-- {
		if len(layers[k].Params()) > 0 {
			c.lowestParam = k
		}
	}
	for k := range layers {
		h := &Mat[T]{}
		if k == len(layers)-1 && out != nil {
			h = out
		}
		c.h = append(c.h, h)
		c.y = append(c.y, h)
		c.d = append(c.d, &Mat[T]{})
		c.deriv = append(c.deriv, &Mat[T]{})
	}
	return c
}

// passes reports whether layer k is the identity now and its output need
// not be a buffer of its own.
func (c *chain[T]) passes(k int) bool {
	pl, ok := c.layers[k].(passLayer)
	return ok && pl.passThrough() && !(c.fixedOut && k == len(c.layers)-1)
}

// forward runs the chain on in and returns its output (in itself for an
// empty chain).
func (c *chain[T]) forward(in *Mat[T]) *Mat[T] {
	c.in = in
	x := in
	for k, l := range c.layers {
		switch dl, ok := l.(derivLayer[T]); {
		case c.passes(k):
			c.y[k] = x
			continue
		case ok:
			dl.ForwardDeriv(c.h[k], c.deriv[k], x)
		default:
			l.Forward(c.h[k], x)
		}
		c.y[k] = c.h[k]
		x = c.h[k]
	}
	return x
}

func (c *chain[T]) hasParams() bool { return c.lowestParam < len(c.layers) }

// vjp back-propagates dy through the chain's last forward pass. It writes
// Jᵀ·dy into dx when dx is non-nil (copying for an empty chain) and, with
// grads, adds alpha-scaled parameter gradients. Without dx it stops below
// the lowest layer with parameters.
func (c *chain[T]) vjp(dy, dx *Mat[T], grads bool, alpha T) {
	lowest := 0
	if dx == nil {
		if !grads {
			return
		}
		lowest = c.lowestParam
	}
	for k := len(c.layers) - 1; k >= lowest; k-- {
		if c.y[k] != c.h[k] { // passed through: so does the gradient
			continue
		}
		x := c.in
		if k > 0 {
			x = c.y[k-1]
		}
		var out *Mat[T]
		switch {
		case k > lowest, k > 0 && dx != nil:
			out = c.d[k]
		case dx != nil:
			out = dx
		}
		if dl, ok := c.layers[k].(derivLayer[T]); ok {
			if out != nil {
				dl.VJPDeriv(out, c.deriv[k], dy)
			}
		} else {
			c.layers[k].VJP(out, x, c.h[k], dy, grads, alpha)
		}
		dy = out
	}
	if dx != nil && dx != dy {
		dx.CopyFrom(dy) // an empty chain, or identities down to the input
	}
}

// Workspace holds the per-batch buffers of a graph: every chain's
// intermediate values, combinations, and the gradient each vertex sends to
// each of its inputs. Buffers are sized on first use and reused.
type Workspace[T tensor.Float] struct {
	// Mu[v] is vertex v's prediction from its last forward pass.
	Mu []*Mat[T]
	// Contrib[v][slot] is J_{v,slot}ᵀ·dmu from the last VJPVertex of v
	// that asked for it: what v sends back to its input slot.
	Contrib [][]*Mat[T]
	pre     [][]*chain[T]
	main    []*chain[T]
	branch  [][]*Mat[T] // outputs of the input chains
	comb    []*Mat[T]
	dcomb   []*Mat[T]
	dbranch []*Mat[T]
	delta   []*Mat[T] // ∂ℓ/∂mu_v during Backprop
}

// NewWorkspace allocates empty buffers for g.
func NewWorkspace[T tensor.Float](g *Graph[T]) *Workspace[T] {
	n := len(g.Vertices)
	ws := &Workspace[T]{Mu: make([]*Mat[T], n), Contrib: make([][]*Mat[T], n), pre: make([][]*chain[T], n),
		main: make([]*chain[T], n), branch: make([][]*Mat[T], n), comb: make([]*Mat[T], n), dcomb: make([]*Mat[T], n),
		dbranch: make([]*Mat[T], n), delta: make([]*Mat[T], n)}
	for v, vx := range g.Vertices {
		ws.Mu[v] = &Mat[T]{}
		ws.main[v] = newChain(vx.Layers, ws.Mu[v])
		ws.comb[v], ws.dcomb[v], ws.dbranch[v], ws.delta[v] = &Mat[T]{}, &Mat[T]{}, &Mat[T]{}, &Mat[T]{}
		for i := range vx.Inputs {
			var layers []Layer[T]
			if vx.Pre != nil {
				layers = vx.Pre[i]
			}
			ws.pre[v] = append(ws.pre[v], newChain(layers, nil))
			ws.branch[v] = append(ws.branch[v], nil)
			ws.Contrib[v] = append(ws.Contrib[v], &Mat[T]{})
		}
	}
	return ws
}

// ForwardVertex sets ws.Mu[v] = f_v(ins), ins holding the values of v's
// inputs in order.
func (g *Graph[T]) ForwardVertex(ws *Workspace[T], v int, ins []*Mat[T]) {
	vx := g.Vertices[v]
	for i, in := range ins {
		ws.branch[v][i] = ws.pre[v][i].forward(in)
	}
	c := ws.branch[v][0]
	if len(ins) > 1 {
		c = ws.comb[v]
		if len(vx.Layers) == 0 {
			c = ws.Mu[v] // the combination is the prediction
		}
		combine(c, vx.Combine, ws.branch[v])
	}
	if len(vx.Layers) == 0 {
		if c != ws.Mu[v] {
			ws.Mu[v].CopyFrom(c)
		}
		return
	}
	ws.main[v].forward(c)
}

func combine[T tensor.Float](dst *Mat[T], op string, parts []*Mat[T]) {
	rows := parts[0].Rows
	switch op {
	case "add":
		tensor.Add(dst, parts[0], parts[1])
		for _, p := range parts[2:] {
			tensor.Axpy(1, p.Data, dst.Data)
		}
	case "mul":
		dst.CopyFrom(parts[0])
		for _, p := range parts[1:] {
			pd := p.Data[:len(dst.Data)]
			for i := range dst.Data {
				dst.Data[i] *= pd[i]
			}
		}
	case "concat":
		cols := 0
		for _, p := range parts {
			cols += p.Cols
		}
		dst.Resize(rows, cols)
		for r := 0; r < rows; r++ {
			row := dst.Row(r)
			off := 0
			for _, p := range parts {
				off += copy(row[off:], p.Row(r))
			}
		}
	}
}

// VJPVertex back-propagates dmu (a vector in mu_v's space) through vertex
// v's last forward pass. For every input slot with want[slot] it sets
// ws.Contrib[v][slot] = J_{v,slot}ᵀ·dmu; with grads it adds
// alpha·∂⟨dmu, mu_v⟩/∂θ_v to the vertex's parameter gradients. want may be
// nil (no input gradients).
func (g *Graph[T]) VJPVertex(ws *Workspace[T], v int, dmu *Mat[T], want []bool, grads bool, alpha T) {
	vx := g.Vertices[v]
	var needBuf [8]bool
	need := needBuf[:0]
	any := false
	for i := range vx.Inputs {
		n := (want != nil && want[i]) || (grads && ws.pre[v][i].hasParams())
		need = append(need, n)
		any = any || n
	}
	// Back through the main chain to the combined input.
	var dc *Mat[T]
	switch {
	case !any:
	case len(vx.Layers) == 0 && len(vx.Inputs) > 1:
		dc = dmu // the combination is the prediction: its gradient is dmu
	case len(vx.Inputs) == 1 && len(ws.pre[v][0].layers) == 0:
		dc = ws.Contrib[v][0]
	default:
		dc = ws.dcomb[v]
	}
	if dc != dmu {
		ws.main[v].vjp(dmu, dc, grads, alpha)
	}
	if dc == nil {
		return
	}
	for i := range vx.Inputs {
		if !need[i] {
			continue
		}
		db := dc
		if len(vx.Inputs) > 1 && vx.Combine != "add" { // add hands dc to every input
			db = ws.dbranch[v]
			splitGrad(db, vx.Combine, dc, ws.branch[v], i)
		}
		var dx *Mat[T]
		if want != nil && want[i] {
			dx = ws.Contrib[v][i]
		}
		if dx == db {
			continue
		}
		ws.pre[v][i].vjp(db, dx, grads, alpha)
	}
}

// splitGrad sets db to the part of the combined gradient dc that belongs to
// input i.
func splitGrad[T tensor.Float](db *Mat[T], op string, dc *Mat[T], parts []*Mat[T], i int) {
	switch op {
	case "add":
		db.CopyFrom(dc)
	case "mul":
		db.CopyFrom(dc)
		for j, p := range parts {
			if j == i {
				continue
			}
			pd := p.Data[:len(db.Data)]
			for k := range db.Data {
				db.Data[k] *= pd[k]
			}
		}
	case "concat":
		off := 0
		for _, p := range parts[:i] {
			off += p.Cols
		}
		n := parts[i].Cols
		db.Resize(dc.Rows, n)
		for r := 0; r < dc.Rows; r++ {
			copy(db.Row(r), dc.Row(r)[off:off+n])
		}
	}
}

// GatherGrad sets dst = Σ over the uses (c, slot) of vertex p of
// ws.Contrib[c][slot], in ascending child order — the one summation order
// that backprop and the PC methods share.
func (g *Graph[T]) GatherGrad(ws *Workspace[T], dst *Mat[T], p int) {
	ch := g.Children[p]
	switch len(ch) {
	case 0:
		return
	case 1:
		dst.CopyFrom(ws.Contrib[ch[0].Child][ch[0].Slot])
		return
	}
	tensor.Add(dst, ws.Contrib[ch[0].Child][ch[0].Slot], ws.Contrib[ch[1].Child][ch[1].Slot])
	for _, e := range ch[2:] {
		tensor.Axpy(1, ws.Contrib[e.Child][e.Slot].Data, dst.Data)
	}
}

// Inputs returns the values of v's inputs during a feed-forward pass: the
// input batch x or the parents' predictions. buf is reused.
func (g *Graph[T]) inputsFF(ws *Workspace[T], v int, x *Mat[T], buf []*Mat[T]) []*Mat[T] {
	buf = buf[:0]
	for _, p := range g.Vertices[v].Inputs {
		if p == 0 {
			buf = append(buf, x)
		} else {
			buf = append(buf, ws.Mu[p])
		}
	}
	return buf
}

// Forward runs the feed-forward pass (every value equal to its prediction)
// from the batch x and returns the output prediction (logits). The returned
// matrix belongs to ws.
func (g *Graph[T]) Forward(ws *Workspace[T], x *Mat[T]) *Mat[T] {
	var buf [4]*Mat[T]
	for v := 1; v < len(g.Vertices); v++ {
		g.ForwardVertex(ws, v, g.inputsFF(ws, v, x, buf[:0]))
	}
	return ws.Mu[g.Output()]
}

// HiddenInputs reports, per input slot of v, whether the parent is a hidden
// vertex (not the clamped input); buf is reused.
func (g *Graph[T]) HiddenInputs(v int, buf []bool) []bool {
	buf = buf[:0]
	for _, p := range g.Vertices[v].Inputs {
		buf = append(buf, p != 0)
	}
	return buf
}

// Buffer is non-trainable state kept with the model (a learning rule's
// feedback matrices, for instance): checkpoints save it under Name and
// resume restores it. Value is rows × cols; Shape is the logical shape
// written to checkpoints.
type Buffer[T tensor.Float] struct {
	Name  string
	Shape []int
	Value *Mat[T]
}

// AddBuffer adds a zeroed buffer; names must be unique among parameters
// and buffers.
func (g *Graph[T]) AddBuffer(name string, shape []int, rows, cols int) (*Buffer[T], error) {
	for _, p := range g.params {
		if p.Name == name {
			return nil, fmt.Errorf("model: buffer %q has a parameter's name", name)
		}
	}
	if g.Buffer(name) != nil {
		return nil, fmt.Errorf("model: buffer %q exists", name)
	}
	b := &Buffer[T]{Name: name, Shape: shape, Value: tensor.New[T](rows, cols)}
	g.buffers = append(g.buffers, b)
	return b, nil
}

// Buffers lists the graph's buffers in the order they were added.
func (g *Graph[T]) Buffers() []*Buffer[T] { return g.buffers }

// Buffer returns the named buffer, or nil.
func (g *Graph[T]) Buffer(name string) *Buffer[T] {
	for _, b := range g.buffers {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// ShareBuffers makes g use src's buffers (the same values; a copy of a
// graph working on part of a batch).
func (g *Graph[T]) ShareBuffers(src *Graph[T]) {
	g.buffers = append(g.buffers[:0:0], src.buffers...)
}
