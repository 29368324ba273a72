package model

import (
	"math"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"
)

// The mask: a fraction p of zeros, the rest 1/(1−p); a function of the
// seed, the layer and the row in the whole batch (a part starting at row
// r0 draws the full batch's rows r0…), fixed until the next DropoutOn; off
// is the identity. Forward and VJP multiply by it.
func TestDropoutMask(t *testing.T) {
	const p, rows, cols = 0.3, 256, 100
	d := &Dropout[float64]{P: p, ID: 2}
	ds := []*Dropout[float64]{d}
	if d.Mask(rows, cols) != nil {
		t.Fatal("a dropout layer is on before DropoutOn")
	}
	DropoutOn(ds, 7, 0)
	full := append([]float64(nil), d.Mask(rows, cols)...)
	zeros := 0
	for _, m := range full {
		switch m {
		case 0:
			zeros++
		case 1 / (1 - p):
		default:
			t.Fatalf("mask value %v", m)
		}
	}
	frac, sd := float64(zeros)/(rows*cols), math.Sqrt(p*(1-p)/(rows*cols))
	if math.Abs(frac-p) > 4*sd {
		t.Errorf("%.4f of the mask is zero, want %.2f ± %.4f", frac, p, 4*sd)
	}
	// Rows of one sample are not copies of each other, nor columns.
	if eqSlices(full[:cols], full[cols:2*cols]) {
		t.Error("two rows have the same mask")
	}
	// A part of the batch from row 100 draws rows 100… of the batch's mask.
	DropoutOn(ds, 7, 100)
	part := d.Mask(50, cols)
	if !eqSlices(part, full[100*cols:150*cols]) {
		t.Error("the mask of a part starting at row 100 is not the batch's rows 100–149")
	}
	// Another seed, or another layer, draws another mask.
	DropoutOn(ds, 8, 0)
	if eqSlices(d.Mask(rows, cols), full) {
		t.Error("seed 8 draws seed 7's mask")
	}
	other := &Dropout[float64]{P: p, ID: 3}
	DropoutOn([]*Dropout[float64]{other, d}, 7, 0)
	if eqSlices(other.Mask(rows, cols), full) {
		t.Error("layers 2 and 3 draw the same mask")
	}
	if !eqSlices(d.Mask(rows, cols), full) {
		t.Error("seed 7 does not draw the same mask again")
	}
	x, dy := tensor.New[float64](rows, cols), tensor.New[float64](rows, cols)
	for i := range x.Data {
		x.Data[i], dy.Data[i] = float64(i%13)-6, float64(i%7)+1
	}
	y, dx := &tensor.Mat[float64]{}, &tensor.Mat[float64]{}
	d.Forward(y, x)
	d.VJP(dx, x, y, dy, true, 1)
	for i := range full {
		if y.Data[i] != full[i]*x.Data[i] || dx.Data[i] != full[i]*dy.Data[i] {
			t.Fatalf("element %d: y %v dx %v with mask %v", i, y.Data[i], dx.Data[i], full[i])
		}
	}
	DropoutOff(ds)
	d.Forward(y, x)
	if !eqSlices(y.Data, x.Data) || !d.passThrough() {
		t.Error("off, dropout is not the identity")
	}
}

func eqSlices(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// AddDropout puts a layer before every weight that follows an activation:
// an MLP's hidden outputs (not the input), a CNN's after each act; the
// network with the layers off computes what it computed before.
func TestAddDropout(t *testing.T) {
	g, err := NewMLP[float64](MLPSpec{Sizes: []int{5, 4, 4, 3}, Activation: "tanh", Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New[float64](6, 5)
	for i := range x.Data {
		x.Data[i] = math.Sin(float64(i))
	}
	for _, p := range g.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] = math.Cos(float64(i + len(p.Name)))
		}
	}
	before := append([]float64(nil), g.Forward(NewWorkspace(g), x).Data...)
	if n := g.AddDropout(0.5); n != 2 {
		t.Fatalf("MLP 5-4-4-3: %d dropout layers, want 2 (before layers.1 and layers.2)", n)
	}
	for v, want := range []int{0, 1, 3, 3} {
		if got := len(g.Vertices[v].Layers); got != want {
			t.Errorf("vertex %d has %d layers, want %d", v, got, want)
		}
	}
	ws := NewWorkspace(g)
	if !eqSlices(g.Forward(ws, x).Data, before) {
		t.Error("dropout off changed the forward pass")
	}
	ds := g.Dropouts()
	DropoutOn(ds, 1, 0)
	if eqSlices(g.Forward(ws, x).Data, before) {
		t.Error("dropout on did not change the forward pass")
	}
	DropoutOff(ds)
	if !eqSlices(g.Forward(ws, x).Data, before) {
		t.Error("dropout switched off again changed the forward pass")
	}
	c, err := NewSequential[float64](Shape{1, 6, 6}, []LayerSpec{
		{Kind: "conv", Out: 2, Kernel: 3, Stride: 1, Padding: 1}, {Kind: "act", Activation: "relu"},
		{Kind: "conv", Out: 2, Kernel: 3, Stride: 1, Padding: 1}, {Kind: "act", Activation: "relu"},
		{Kind: "maxpool", Kernel: 2, Stride: 2}, {Kind: "flatten"}, {Kind: "dense", Out: 3}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.AddDropout(0.1); n != 1 || len(c.Dropouts()) != 1 {
		t.Errorf("CNN: %d dropout layers, want 1 (act → conv; act → pool gets none)", n)
	}
}
