package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"
)

// SplitVal holds out round(frac·N) samples; training and validation views
// are disjoint and together are the whole view, the training view keeps
// the original order, and the choice depends on the seed.
func TestSplitValPartitions(t *testing.T) {
	d := &Dataset{Shape: []int{1}, F64: make([]float64, 97), Labels: make([]int32, 97), Classes: 1}
	all := All(d)
	for _, frac := range []float64{0.1, 0.25, 0.5} {
		tr, val := SplitVal(all, frac, rand.New(rand.NewPCG(1, 2)))
		if want := int(math.Round(frac * 97)); val.Len() != want || tr.Len() != 97-want {
			t.Fatalf("frac %g: %d train + %d val, want %d + %d", frac, tr.Len(), val.Len(), 97-want, want)
		}
		seen := make([]int, 97)
		for _, i := range tr.Idx {
			seen[i]++
		}
		for _, i := range val.Idx {
			seen[i]++
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("frac %g: sample %d is in %d of the two views, want exactly 1", frac, i, n)
			}
		}
		if !slices.IsSorted(tr.Idx) {
			t.Errorf("frac %g: the training view is not in the file's order", frac)
		}
		_, val2 := SplitVal(all, frac, rand.New(rand.NewPCG(3, 4)))
		if slices.Equal(val.Idx, val2.Idx) {
			t.Errorf("frac %g: two seeds hold out the same samples", frac)
		}
	}
	if tr, val := SplitVal(all, 0, nil); tr.Len() != 97 || val.Len() != 0 {
		t.Errorf("frac 0: %d + %d", tr.Len(), val.Len())
	}
}

// Standardize computes each channel's mean and (population) standard
// deviation over the view's samples only; samples outside the view, here
// with very different values, must not move them.
func TestStandardizeUsesOnlyTheView(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, c, hw = 40, 2, 4
	d := &Dataset{Shape: []int{c, 2, 2}, F32: make([]float32, n*c*hw), Labels: make([]int32, n), Classes: 1}
	for i := range d.F32 {
		d.F32[i] = float32(rng.NormFloat64())
	}
	// Samples 30..39 are far off: a view without them must ignore them.
	for i := 30 * c * hw; i < len(d.F32); i++ {
		d.F32[i] += 100
	}
	v := View{DS: d}
	for i := 0; i < 30; i += 2 {
		v.Idx = append(v.Idx, i)
	}
	nm := Standardize(v, 0.5)
	for ch := 0; ch < c; ch++ {
		var s, q float64
		for _, i := range v.Idx {
			for k := 0; k < hw; k++ {
				x := 0.5 * float64(d.F32[i*c*hw+ch*hw+k])
				s += x
				q += x * x
			}
		}
		m := s / float64(len(v.Idx)*hw)
		sd := math.Sqrt(q/float64(len(v.Idx)*hw) - m*m)
		if math.Abs(nm.Mean[ch]-m) > 1e-12 || math.Abs(nm.Std[ch]-sd) > 1e-12 {
			t.Fatalf("channel %d: mean %g std %g, over the view %g and %g", ch, nm.Mean[ch], nm.Std[ch], m, sd)
		}
	}
}

// Random crops draw the vertical and horizontal offsets independently and
// uniformly from −pad..pad, and a flip happens with probability ½ and
// mirrors the row. Each image is 0..48 in row-major order, so the value
// at the centre of the output names the source pixel, and with it the
// offsets. Counts are checked to within 5 standard deviations.
func TestAugmentOffsetsIndependentAndUniform(t *testing.T) {
	const h, w, pad, rows = 7, 7, 2, 5000
	x := tensor.New[float64](rows, h*w)
	reset := func() {
		for r := 0; r < rows; r++ {
			for k, row := 0, x.Row(r); k < h*w; k++ {
				row[k] = float64(k)
			}
		}
	}
	reset()
	Augment(x, []int{1, h, w}, rand.New(rand.NewPCG(7, 8)), pad, false, []float64{-1}, nil)
	const span = 2*pad + 1
	var joint [span][span]int
	for r := 0; r < rows; r++ {
		src := int(x.Row(r)[3*w+3])
		dy, dx := src/w-3, src%w-3
		if dy < -pad || dy > pad || dx < -pad || dx > pad {
			t.Fatalf("row %d: offset (%d, %d) outside ±%d", r, dy, dx, pad)
		}
		// The whole row is the source shifted by (dy, dx), padding -1.
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				want := -1.0
				if si, sj := i+dy, j+dx; si >= 0 && si < h && sj >= 0 && sj < w {
					want = float64(si*w + sj)
				}
				if got := x.Row(r)[i*w+j]; got != want {
					t.Fatalf("row %d, offset (%d, %d): pixel (%d, %d) = %g, want %g", r, dy, dx, i, j, got, want)
				}
			}
		}
		joint[dy+pad][dx+pad]++
	}
	cell := float64(rows) / (span * span)
	cellTol := 5 * math.Sqrt(rows*(1.0/(span*span))*(1-1.0/(span*span)))
	marg := float64(rows) / span
	margTol := 5 * math.Sqrt(rows*(1.0/span)*(1-1.0/span))
	for a := 0; a < span; a++ {
		var ry, rx int
		for b := 0; b < span; b++ {
			if math.Abs(float64(joint[a][b])-cell) > cellTol {
				t.Errorf("offset (dy %d, dx %d) drawn %d times in %d, want %g ± %.0f (independent uniform offsets)", a-pad, b-pad, joint[a][b], rows, cell, cellTol)
			}
			ry += joint[a][b]
			rx += joint[b][a]
		}
		if math.Abs(float64(ry)-marg) > margTol || math.Abs(float64(rx)-marg) > margTol {
			t.Errorf("offset %d: dy %d times, dx %d times, want %g ± %.0f each", a-pad, ry, rx, marg, margTol)
		}
	}
	// Flips alone: either the row is unchanged or each image row mirrored.
	reset()
	Augment(x, []int{1, h, w}, rand.New(rand.NewPCG(9, 10)), 0, true, []float64{-1}, nil)
	flips := 0
	for r := 0; r < rows; r++ {
		row := x.Row(r)
		mirrored := row[0] == float64(w-1)
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				want := float64(i*w + j)
				if mirrored {
					want = float64(i*w + w - 1 - j)
				}
				if row[i*w+j] != want {
					t.Fatalf("row %d: pixel (%d, %d) = %g, want %g (mirrored %v)", r, i, j, row[i*w+j], want, mirrored)
				}
			}
		}
		if mirrored {
			flips++
		}
	}
	if tol := 5 * math.Sqrt(rows*0.25); math.Abs(float64(flips)-rows/2) > tol {
		t.Errorf("%d flips in %d, want %d ± %.0f", flips, rows, rows/2, tol)
	}
}

// Order is a permutation of the view's indices, a different one for each
// draw of the generator (the trainer draws each epoch from its own stream).
func TestOrderIsAPermutation(t *testing.T) {
	v := View{Idx: []int{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41}}
	rng := rand.New(rand.NewPCG(1, 1))
	a, b := Order(v, rng), Order(v, rng)
	for _, o := range [][]int{a, b} {
		if !slices.Equal(slices.Sorted(slices.Values(o)), v.Idx) {
			t.Fatalf("order %v is not a permutation of %v", o, v.Idx)
		}
	}
	if slices.Equal(a, b) {
		t.Error("two draws gave the same order")
	}
	if !slices.Equal(Order(v, nil), v.Idx) {
		t.Error("no generator: the order is not the view's")
	}
}
