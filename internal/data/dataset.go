// Package data loads datasets (IDX for MNIST and Fashion-MNIST, npz),
// splits and normalises them, and serves seeded batches. Images are held
// as uint8 where the source is uint8 and converted per batch.
package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Dataset is a set of labelled samples of one shape. Exactly one of U8,
// F32 and F64 holds the N×Size() sample values, row-major.
type Dataset struct {
	// Shape of one sample: [C, H, W] for images, [D] for vectors.
	Shape   []int
	U8      []uint8
	F32     []float32
	F64     []float64
	Labels  []int32
	Classes int
}

// N is the number of samples.
func (d *Dataset) N() int { return len(d.Labels) }

// Size is the number of values in one sample.
func (d *Dataset) Size() int {
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	return n
}

// at returns element k of the N×Size() values as float64.
func (d *Dataset) at(k int) float64 {
	switch {
	case d.U8 != nil:
		return float64(d.U8[k])
	case d.F32 != nil:
		return float64(d.F32[k])
	}
	return d.F64[k]
}

// check validates labels and sizes; name prefixes the error.
func (d *Dataset) check(name string) error {
	n := len(d.U8) + len(d.F32) + len(d.F64)
	if n != d.N()*d.Size() {
		return fmt.Errorf("%s: %d values for %d samples of shape %v", name, n, d.N(), d.Shape)
	}
	for i, l := range d.Labels {
		if l < 0 || int(l) >= d.Classes {
			return fmt.Errorf("%s: label %d of sample %d is outside 0..%d", name, l, i, d.Classes-1)
		}
	}
	return nil
}

// View is a subset of a dataset, by sample index.
type View struct {
	DS  *Dataset
	Idx []int
}

// All returns a view of every sample.
func All(d *Dataset) View {
	idx := make([]int, d.N())
	for i := range idx {
		idx[i] = i
	}
	return View{DS: d, Idx: idx}
}

// Len is the number of samples in the view.
func (v View) Len() int { return len(v.Idx) }

// SplitVal holds out a fraction of v, chosen by a permutation drawn from
// rng, as a validation view. The training view keeps the original order of
// the samples that remain.
func SplitVal(v View, frac float64, rng *rand.Rand) (train, val View) {
	nVal := int(math.Round(frac * float64(v.Len())))
	if nVal == 0 {
		return v, View{DS: v.DS}
	}
	perm := rng.Perm(v.Len())
	held := make([]bool, v.Len())
	for _, p := range perm[:nVal] {
		held[p] = true
	}
	train, val = View{DS: v.DS}, View{DS: v.DS}
	for i, id := range v.Idx {
		if held[i] {
			val.Idx = append(val.Idx, id)
		} else {
			train.Idx = append(train.Idx, id)
		}
	}
	return train, val
}

// Norm maps raw sample values to network inputs: (v·Scale − Mean[c]) / Std[c]
// for channel c. Mean and Std have one entry per channel (or are empty for
// no shift/scale).
type Norm struct {
	Scale     float64
	Mean, Std []float64
}

// Identity is the normalisation that uses values as given.
var Identity = Norm{Scale: 1}

// Standardize returns the normalisation that scales values by scale and
// gives each channel zero mean and unit variance over v.
func Standardize(v View, scale float64) Norm {
	d := v.DS
	ch := channels(d.Shape)
	per := d.Size() / ch
	sum := make([]float64, ch)
	sq := make([]float64, ch)
	size := d.Size()
	for _, i := range v.Idx {
		for c := 0; c < ch; c++ {
			s, q := sum[c], sq[c]
			for k := i*size + c*per; k < i*size+(c+1)*per; k++ {
				x := d.at(k) * scale
				s += x
				q += x * x
			}
			sum[c], sq[c] = s, q
		}
	}
	n := float64(v.Len() * per)
	nm := Norm{Scale: scale, Mean: make([]float64, ch), Std: make([]float64, ch)}
	for c := range sum {
		nm.Mean[c] = sum[c] / n
		nm.Std[c] = math.Sqrt(math.Max(sq[c]/n-nm.Mean[c]*nm.Mean[c], 0))
		if nm.Std[c] == 0 {
			nm.Std[c] = 1
		}
	}
	return nm
}

func channels(shape []int) int {
	if len(shape) == 3 {
		return shape[0]
	}
	return 1
}

// Batch fills x (len(ids)×Size) and labels with the samples ids of d,
// normalised by nm.
func Batch[T tensor.Float](x *tensor.Mat[T], labels []int, d *Dataset, ids []int, nm Norm) {
	size := d.Size()
	x.Resize(len(ids), size)
	ch := channels(d.Shape)
	per := size / ch
	shift := len(nm.Mean) > 0
	// Each element is (raw·Scale − Mean[c]) / Std[c], computed in float64
	// and rounded to T. For uint8 data the 256 possible results per channel
	// are computed once per batch (the same operations, so the same values).
	var lutBuf [4 * 256]float64
	if d.U8 != nil && ch <= 4 {
		lut := lutBuf[:ch*256]
		for c := 0; c < ch; c++ {
			for b := 0; b < 256; b++ {
				v := float64(b) * nm.Scale
				if shift {
					v = (v - nm.Mean[c]) / nm.Std[c]
				}
				lut[c*256+b] = v
			}
		}
		for r, id := range ids {
			labels[r] = int(d.Labels[id])
			row, src := x.Row(r), d.U8[id*size:(id+1)*size]
			for c := 0; c < ch; c++ {
				l := lut[c*256 : (c+1)*256]
				dst := row[c*per : (c+1)*per]
				for j, b := range src[c*per : (c+1)*per] {
					dst[j] = T(l[b])
				}
			}
		}
		return
	}
	for r, id := range ids {
		labels[r] = int(d.Labels[id])
		row := x.Row(r)
		for j := range row {
			v := d.at(id*size+j) * nm.Scale
			if shift {
				c := j / per
				v = (v - nm.Mean[c]) / nm.Std[c]
			}
			row[j] = T(v)
		}
	}
}

// Order returns the sample order of one epoch: v.Idx itself, or a
// permutation of it drawn from rng.
func Order(v View, rng *rand.Rand) []int {
	ids := append([]int(nil), v.Idx...)
	if rng != nil {
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	}
	return ids
}

// Augment applies random horizontal flips (probability ½) and random crops
// after zero-padding by pad pixels to every row of x, a batch of [C, H, W]
// images, drawing from rng. fill[c] is the value a padded pixel of channel
// c takes (a black pixel after normalisation). scratch is reused.
func Augment[T tensor.Float](x *tensor.Mat[T], shape []int, rng *rand.Rand, pad int, flip bool, fill []float64, scratch []T) []T {
	if len(shape) != 3 || (pad == 0 && !flip) {
		return scratch
	}
	c, h, w := shape[0], shape[1], shape[2]
	if cap(scratch) < c*h*w {
		scratch = make([]T, c*h*w)
	}
	scratch = scratch[:c*h*w]
	for r := 0; r < x.Rows; r++ {
		row := x.Row(r)
		mirror := flip && rng.IntN(2) == 1
		dy, dx := 0, 0
		if pad > 0 {
			dy, dx = rng.IntN(2*pad+1)-pad, rng.IntN(2*pad+1)-pad
		}
		copy(scratch, row)
		for ch := 0; ch < c; ch++ {
			v := T(0)
			if ch < len(fill) {
				v = T(fill[ch])
			}
			src := scratch[ch*h*w : (ch+1)*h*w]
			dst := row[ch*h*w : (ch+1)*h*w]
			for i := 0; i < h; i++ {
				si := i + dy
				for j := 0; j < w; j++ {
					sj := j + dx
					if mirror {
						sj = w - 1 - j + dx
					}
					if si < 0 || si >= h || sj < 0 || sj >= w {
						dst[i*w+j] = v
					} else {
						dst[i*w+j] = src[si*w+sj]
					}
				}
			}
		}
	}
	return scratch
}

// Fill returns, per channel, the normalised value of a raw 0 (black).
func (nm Norm) Fill(channels int) []float64 {
	f := make([]float64, channels)
	for c := range f {
		if len(nm.Mean) > c {
			f[c] = -nm.Mean[c] / nm.Std[c]
		}
	}
	return f
}
