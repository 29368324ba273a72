package model

import "github.com/pctrain/pctrain/internal/tensor"

// Dropout is inverted dropout, y = m ⊙ x with m_ij ∈ {0, 1/(1−P)}, in
// training only: off (the default, and always at evaluation) it is the
// identity and a chain passes its input on. Switched on for a batch
// (Graph.DropoutOn) its mask is a function of the batch seed, the layer's
// index in the graph and the sample's row in the whole batch, so a batch
// split over cores draws the mask the unsplit batch draws, a resumed run
// draws the same masks, and the mask stays fixed through the batch's
// inference: every rule sees one function per batch.
type Dropout[T tensor.Float] struct {
	P float64
	// ID numbers the graph's dropout layers, in graph order.
	ID int

	on         bool
	seed       uint64
	row0       int
	mask       []T
	maskRows   int
	maskFilled bool
}

var _ Layer[float64] = (*Dropout[float64])(nil)

func (d *Dropout[T]) Kind() string                     { return "dropout" }
func (d *Dropout[T]) OutShape(in Shape) (Shape, error) { return in, nil }
func (d *Dropout[T]) Params() []*Param[T]              { return nil }
func (d *Dropout[T]) passThrough() bool                { return !d.on || d.P == 0 }

// Mask returns the current mask for rows×cols inputs (nil when off).
func (d *Dropout[T]) Mask(rows, cols int) []T {
	if d.passThrough() {
		return nil
	}
	n := rows * cols
	if d.maskFilled && d.maskRows == rows && len(d.mask) == n {
		return d.mask
	}
	if cap(d.mask) < n {
		d.mask = make([]T, n)
	}
	d.mask = d.mask[:n]
	keep := T(1 / (1 - d.P))
	for r := 0; r < rows; r++ {
		h := mix64(mix64(d.seed+0x9e3779b97f4a7c15*uint64(d.ID+1)) + uint64(d.row0+r))
		for c := 0; c < cols; c++ {
			u := float64(mix64(h+uint64(c))>>11) / (1 << 53)
			if u < d.P {
				d.mask[r*cols+c] = 0
			} else {
				d.mask[r*cols+c] = keep
			}
		}
	}
	d.maskRows, d.maskFilled = rows, true
	return d.mask
}

func (d *Dropout[T]) Forward(y, x *Mat[T]) { d.apply(y, x) }

func (d *Dropout[T]) VJP(dx, _, _, dy *Mat[T], _ bool, _ T) {
	if dx != nil {
		d.apply(dx, dy) // the Jacobian is diag(mask)
	}
}

// apply sets out = mask ⊙ in (a copy when off).
func (d *Dropout[T]) apply(out, in *Mat[T]) {
	out.Resize(in.Rows, in.Cols)
	m := d.Mask(in.Rows, in.Cols)
	if m == nil {
		copy(out.Data, in.Data)
		return
	}
	od := out.Data[:len(m)]
	for i, v := range in.Data[:len(m)] {
		od[i] = v * m[i]
	}
}

// mix64 is SplitMix64's finaliser: a bijection whose outputs for
// consecutive inputs are independent-looking 64-bit words.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// AddDropout inserts a Dropout of probability p before every dense or
// conv layer that directly follows an activation in one of g's layer
// chains (its top-down graph's too): the hidden units' outputs, for every
// model type. It returns the number inserted; p = 0 inserts none.
func (g *Graph[T]) AddDropout(p float64) int {
	if p == 0 {
		return 0
	}
	n := 0
	insert := func(ls []Layer[T]) []Layer[T] {
		var out []Layer[T]
		for k, l := range ls {
			out = append(out, l)
			if _, act := l.(*Act[T]); act && k+1 < len(ls) {
				switch ls[k+1].(type) {
				case *Dense[T], *Conv2D[T]:
					out = append(out, &Dropout[T]{P: p, ID: n})
					n++
				}
			}
		}
		return out
	}
	for _, h := range []*Graph[T]{g, g.TopDown} {
		if h == nil {
			continue
		}
		for _, v := range h.Vertices {
			for i := range v.Pre {
				v.Pre[i] = insert(v.Pre[i])
			}
			v.Layers = insert(v.Layers)
		}
	}
	return n
}

// Dropouts lists g's dropout layers (its top-down graph's too).
func (g *Graph[T]) Dropouts() []*Dropout[T] {
	var ds []*Dropout[T]
	for _, h := range []*Graph[T]{g, g.TopDown} {
		if h == nil {
			continue
		}
		for _, v := range h.Vertices {
			for _, ch := range append(append([][]Layer[T]{}, v.Pre...), v.Layers) {
				for _, l := range ch {
					if d, ok := l.(*Dropout[T]); ok {
						ds = append(ds, d)
					}
				}
			}
		}
	}
	return ds
}

// DropoutOn switches dropout layers on for one batch (or a part of
// one whose first sample is row row0 of the batch) with masks drawn from
// seed. DropoutOff makes them the identity again.
func DropoutOn[T tensor.Float](ds []*Dropout[T], seed uint64, row0 int) {
	for _, d := range ds {
		d.on, d.seed, d.row0, d.maskFilled = true, seed, row0, false
	}
}

// DropoutOff ends the batch: the layers are the identity again.
func DropoutOff[T tensor.Float](ds []*Dropout[T]) {
	for _, d := range ds {
		d.on, d.maskFilled = false, false
	}
}
