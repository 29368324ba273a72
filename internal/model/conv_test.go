package model

import (
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"
)

func TestConvVJPFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	cases := []struct {
		in                  Shape
		out, k, stride, pad int
	}{
		{Shape{1, 5, 5}, 2, 3, 1, 0},
		{Shape{2, 6, 5}, 3, 3, 2, 1},
		{Shape{3, 4, 4}, 2, 2, 1, 1},
		{Shape{2, 7, 7}, 1, 3, 3, 2},
	}
	for _, c := range cases {
		for _, bias := range []bool{false, true} {
			l, err := NewConv2D[float64]("layers.0", c.in, c.out, c.k, c.stride, c.pad, bias)
			if err != nil {
				t.Fatal(err)
			}
			initLayer(rng, initializers["default"], Layer[float64](l))
			checkVJP(t, "conv", l, randMat(rng, 3, c.in.Size()), rng)
		}
	}
}

func TestPoolVJPFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, max := range []bool{true, false} {
		for _, c := range []struct {
			in        Shape
			k, stride int
		}{{Shape{2, 4, 4}, 2, 2}, {Shape{1, 5, 5}, 2, 2}, {Shape{3, 5, 6}, 3, 1}} {
			l, err := NewPool2D[float64](max, c.in, c.k, c.stride)
			if err != nil {
				t.Fatal(err)
			}
			// Random normal inputs have no ties, where max is not
			// differentiable.
			checkVJP(t, l.Kind(), l, randMat(rng, 2, c.in.Size()), rng)
		}
	}
	checkVJP(t, "flatten", Flatten[float64]{}, randMat(rng, 2, 12), rng)
}

// Conv2D is a cross-correlation with PyTorch's layout: checked against a
// direct loop over the definition y[oc,i,j] = b[oc] + Σ w[oc,c,u,v]·x[c, i·s−p+u, j·s−p+v].
func TestConvMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	in := Shape{2, 5, 4}
	l, _ := NewConv2D[float64]("c", in, 3, 3, 2, 1, true)
	initLayer(rng, initializers["default"], Layer[float64](l))
	x := randMat(rng, 2, in.Size())
	y := &Mat[float64]{}
	l.Forward(y, x)
	w := l.Wt.Value.Data
	for n := 0; n < 2; n++ {
		for oc := 0; oc < 3; oc++ {
			for i := 0; i < l.OH; i++ {
				for j := 0; j < l.OW; j++ {
					s := l.B.Value.Data[oc]
					for c := 0; c < 2; c++ {
						for u := 0; u < 3; u++ {
							for v := 0; v < 3; v++ {
								ih, iw := i*2-1+u, j*2-1+v
								if ih < 0 || ih >= 5 || iw < 0 || iw >= 4 {
									continue
								}
								s += w[((oc*2+c)*3+u)*3+v] * x.At(n, (c*5+ih)*4+iw)
							}
						}
					}
					if got := y.At(n, (oc*l.OH+i)*l.OW+j); got != s && (got-s > 1e-14 || s-got > 1e-14) {
						t.Fatalf("y[%d,%d,%d,%d] = %g, definition %g", n, oc, i, j, got, s)
					}
				}
			}
		}
	}
	if l.OH != 3 || l.OW != 2 {
		t.Fatalf("output %dx%d, want 3x2 ((5+2−3)/2+1, (4+2−3)/2+1)", l.OH, l.OW)
	}
}

// Max pooling sends the gradient to the first maximum on ties, as
// PyTorch's CPU kernel does.
func TestMaxPoolTies(t *testing.T) {
	l, _ := NewPool2D[float64](true, Shape{1, 2, 2}, 2, 2)
	x := tensor.FromSlice(1, 4, []float64{1, 3, 3, 0})
	dx := &Mat[float64]{}
	l.VJP(dx, x, nil, tensor.FromSlice(1, 1, []float64{1}), false, 0)
	if dx.Data[1] != 1 || dx.Data[2] != 0 {
		t.Fatalf("dx = %v, want the gradient on index 1", dx.Data)
	}
}

func TestSequentialErrors(t *testing.T) {
	cases := map[string][]LayerSpec{
		"no params":       {{Kind: "flatten"}},
		"trailing act":    {{Kind: "dense", Out: 3}, {Kind: "act", Activation: "relu"}},
		"unknown":         {{Kind: "convv"}},
		"pool too big":    {{Kind: "maxpool", Kernel: 9}, {Kind: "dense", Out: 2}},
		"bad activation":  {{Kind: "act", Activation: "swish"}, {Kind: "dense", Out: 2}},
		"conv after flat": {{Kind: "flatten"}, {Kind: "conv", Out: 2, Kernel: 3}},
	}
	for name, specs := range cases {
		if _, err := NewSequential[float64](Shape{1, 4, 4}, specs, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	g, err := NewSequential[float64](Shape{3, 32, 32}, VGG5("gelu", 10), true)
	if err != nil {
		t.Fatal(err)
	}
	if g.Depth() != 5 || g.Vertices[g.Output()].Shape[0] != 10 {
		t.Fatalf("VGG-5: depth %d, output %v", g.Depth(), g.Vertices[g.Output()].Shape)
	}
	// PyTorch's parameter count for this VGG-5 on 32×32×3 inputs.
	want := (3*9*128 + 128) + (128*9*256 + 256) + (256*9*512 + 512) + (512*9*512 + 512) + (2048*10 + 10)
	if g.NumParams() != want {
		t.Fatalf("VGG-5 has %d parameters, want %d", g.NumParams(), want)
	}
}

// The cached-index path (ForwardDeriv/VJPDeriv, used inside graphs) equals
// Forward/VJP.
func TestPoolDerivPathMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	for _, max := range []bool{true, false} {
		l, _ := NewPool2D[float64](max, Shape{3, 5, 6}, 2, 2)
		x := randMat(rng, 4, 90)
		y1, y2, d := &Mat[float64]{}, &Mat[float64]{}, &Mat[float64]{}
		l.Forward(y1, x)
		l.ForwardDeriv(y2, d, x)
		dy := randMat(rng, 4, y1.Cols)
		dx1, dx2 := &Mat[float64]{}, &Mat[float64]{}
		l.VJP(dx1, x, y1, dy, false, 0)
		l.VJPDeriv(dx2, d, dy)
		if tensor.MaxAbsDiff(y1.Data, y2.Data) != 0 || tensor.MaxAbsDiff(dx1.Data, dx2.Data) > 1e-15 {
			t.Fatalf("%s: cached path differs", l.Kind())
		}
	}
}

// A batch runs as groups of samples side by side in one GEMM (here
// groupColumns/4 per group, 4 output positions each): every output, input
// gradient and parameter gradient equals the sum over samples run one at a
// time, for a batch of two full groups and a partial one.
func TestConvGroupsMatchSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	in := Shape{2, 4, 4}
	l, _ := NewConv2D[float64]("c", in, 3, 3, 1, 0, true)
	initLayer(rng, initializers["default"], Layer[float64](l))
	if g := l.group(); g != groupColumns/4 {
		t.Fatalf("group of %d samples, want %d", g, groupColumns/4)
	}
	b := 2*l.group() + 7
	x := randMat(rng, b, in.Size())
	dy := randMat(rng, b, 3*2*2)
	y, dx := &Mat[float64]{}, &Mat[float64]{}
	l.Forward(y, x)
	for _, p := range l.Params() {
		p.Grad.Zero()
	}
	l.VJP(dx, x, y, dy, true, 0.5)
	gw := append([]float64(nil), l.Wt.Grad.Data...)
	gb := append([]float64(nil), l.B.Grad.Data...)

	l.Wt.Grad.Zero()
	l.B.Grad.Zero()
	for n := 0; n < b; n++ {
		xn := FromSliceMat(x.Row(n))
		dyn := FromSliceMat(dy.Row(n))
		yn, dxn := &Mat[float64]{}, &Mat[float64]{}
		l.Forward(yn, xn)
		l.VJP(dxn, xn, yn, dyn, true, 0.5)
		for j, v := range yn.Data {
			if d := v - y.At(n, j); d > 1e-14 || d < -1e-14 {
				t.Fatalf("sample %d: y[%d] %g in the batch, %g alone", n, j, y.At(n, j), v)
			}
		}
		for j, v := range dxn.Data {
			if d := v - dx.At(n, j); d > 1e-14 || d < -1e-14 {
				t.Fatalf("sample %d: dx[%d] %g in the batch, %g alone", n, j, dx.At(n, j), v)
			}
		}
	}
	for i, v := range l.Wt.Grad.Data {
		if d := v - gw[i]; d > 1e-12 || d < -1e-12 {
			t.Fatalf("dW[%d]: %g from the batch, %g summed over samples", i, gw[i], v)
		}
	}
	for i, v := range l.B.Grad.Data {
		if d := v - gb[i]; d > 1e-12 || d < -1e-12 {
			t.Fatalf("db[%d]: %g from the batch, %g summed over samples", i, gb[i], v)
		}
	}
}

// FromSliceMat wraps one sample as a 1-row matrix (a copy).
func FromSliceMat(row []float64) *Mat[float64] {
	return tensor.FromSlice(1, len(row), append([]float64(nil), row...))
}
