package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"
)

// A max-pool tie sends the gradient to the FIRST maximum in row-major order
// (PyTorch's CPU kernel), on the cached-index path graphs run
// (ForwardDeriv/VJPDeriv) and through a whole graph's backprop. In the
// graph, a 1×1 convolution with weights (1, 1) over two channels gives the
// window [1, 3, 3, 0] from inputs whose two tied positions differ
// ((2, 1) at index 1, (3, 0) at index 2), so the conv's weight gradient says
// which position the pool chose: δ·(2, 1) for the first, δ·(3, 0) for the
// last.
func TestMaxPoolTiesFirstOnGraphPath(t *testing.T) {
	l, _ := NewPool2D[float64](true, Shape{1, 2, 2}, 2, 2)
	x := tensor.FromSlice(1, 4, []float64{1, 3, 3, 0})
	y, d, dx := &Mat[float64]{}, &Mat[float64]{}, &Mat[float64]{}
	l.ForwardDeriv(y, d, x)
	l.VJPDeriv(dx, d, tensor.FromSlice(1, 1, []float64{1}))
	if !slices.Equal(dx.Data, []float64{0, 1, 0, 0}) {
		t.Fatalf("VJPDeriv: dx = %v, want the gradient on index 1, the first maximum", dx.Data)
	}

	g, err := NewSequential[float64](Shape{2, 2, 2}, []LayerSpec{
		{Kind: "conv", Out: 1, Kernel: 1}, {Kind: "maxpool", Kernel: 2}, {Kind: "flatten"}, {Kind: "dense", Out: 2},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	ps := g.Params()
	if len(ps) != 2 || len(ps[0].Value.Data) != 2 || len(ps[1].Value.Data) != 2 {
		t.Fatalf("parameters %v", ps)
	}
	copy(ps[0].Value.Data, []float64{1, 1})  // conv: out = x0 + x1
	copy(ps[1].Value.Data, []float64{1, -1}) // dense: logits = (p, −p)
	// Channel 0 then channel 1, each 2×2 row-major.
	in := tensor.FromSlice(1, 8, []float64{1, 2, 3, 0, 0, 1, 0, 0})
	loss, _ := NewLoss[float64]("mse")
	g.ZeroGrad()
	g.Backprop(NewWorkspace(g), in, []int{0}, loss)
	// Pooled p = 3, logits (3, −3), one-hot (1, 0): e = (2, −3), and
	// δ = ∂L/∂p = 1·2 + (−1)·(−3) = 5.
	want := []float64{5 * 2, 5 * 1}
	if got := ps[0].Grad.Data; math.Abs(got[0]-want[0]) > 1e-12 || math.Abs(got[1]-want[1]) > 1e-12 {
		t.Fatalf("conv weight gradient %v, want %v (routed to the first maximum; %v means the last)", got, want, []float64{15, 0})
	}
}

// Every initialiser matches its formula (PyTorch's torch.nn.init with
// a = 0 and the ReLU gain for kaiming): the uniform ones fill ±bound with
// variance bound²/3 and reach the bound; the normal ones have the given
// standard deviation; "default" draws weights and biases in ±1/√fan_in.
// Fans are in (out)·kh·kw for convolutions. Tolerances are 5 standard errors
// of the sample variance over the tensor's values.
func TestInitialisersMatchFormulas(t *testing.T) {
	mlp := func() *Graph[float64] {
		g, _ := NewMLP[float64](MLPSpec{Sizes: []int{400, 300, 10}, Activation: "relu", Bias: true})
		return g
	}
	conv := func() *Graph[float64] {
		g, err := NewSequential[float64](Shape{16, 8, 8}, []LayerSpec{{Kind: "conv", Out: 64, Kernel: 5}, {Kind: "flatten"}, {Kind: "dense", Out: 10}}, true)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	type fans struct{ in, out int }
	for _, c := range []struct {
		name  string
		build func() *Graph[float64]
		fan   fans // of the first weight
	}{{"mlp", mlp, fans{400, 300}}, {"conv", conv, fans{16 * 25, 64 * 25}}} {
		for _, init := range []string{"default", "xavier-uniform", "xavier-normal", "kaiming-uniform", "kaiming-normal"} {
			g := c.build()
			if err := g.Init(rand.New(rand.NewPCG(21, 22)), init); err != nil {
				t.Fatal(err)
			}
			w := g.Params()[0].Value.Data
			in, out := float64(c.fan.in), float64(c.fan.out)
			var bound, std float64
			switch init {
			case "default":
				bound = 1 / math.Sqrt(in)
			case "xavier-uniform":
				bound = math.Sqrt(6 / (in + out))
			case "xavier-normal":
				std = math.Sqrt(2 / (in + out))
			case "kaiming-uniform":
				bound = math.Sqrt(2) * math.Sqrt(3/in)
			case "kaiming-normal":
				std = math.Sqrt(2) / math.Sqrt(in)
			}
			n := float64(len(w))
			var sq, mean, maxAbs float64
			for _, v := range w {
				sq += v * v
				mean += v
				maxAbs = math.Max(maxAbs, math.Abs(v))
			}
			variance, mean := sq/n, mean/n
			if bound > 0 {
				want := bound * bound / 3
				tol := 5 * math.Sqrt(0.8/n) // Var(w²)/E[w²]² = 4/5 for a uniform
				if maxAbs > bound || maxAbs < bound*(1-20/n) {
					t.Errorf("%s %s: max |w| = %g, want just below the bound %g", c.name, init, maxAbs, bound)
				}
				if math.Abs(variance/want-1) > tol {
					t.Errorf("%s %s: variance %g, want bound²/3 = %g (±%.1f%%)", c.name, init, variance, want, 100*tol)
				}
			} else {
				tol := 5 * math.Sqrt(2/n) // Var(w²)/E[w²]² = 2 for a normal
				if got := math.Sqrt(variance); math.Abs(variance/(std*std)-1) > tol {
					t.Errorf("%s %s: std %g, want %g (variance ±%.1f%%)", c.name, init, got, std, 100*tol)
				}
			}
			if sd := math.Sqrt(variance / n); math.Abs(mean) > 5*sd {
				t.Errorf("%s %s: mean %g, want 0 ± %g", c.name, init, mean, 5*sd)
			}
			if init == "default" {
				b := g.Params()[1].Value.Data
				var mb float64
				for _, v := range b {
					mb = math.Max(mb, math.Abs(v))
				}
				if mb > bound || mb < 0.5*bound {
					t.Errorf("%s default: max |bias| %g, want within the weight's bound %g and near it", c.name, mb, bound)
				}
			}
		}
	}
}

// The bytes of a written safetensors file follow the format: an 8-byte
// little-endian header length, a JSON header whose entry gives dtype,
// shape in the tensor's own order ([out, in] for a 3×2 dense weight) and
// data offsets, then the values row-major, little-endian. A file built here
// by hand reads back with that shape and order.
func TestSafetensorsBytesFollowTheFormat(t *testing.T) {
	var buf bytes.Buffer
	vals := []float32{1, 2, 3, 4, 5, 6}
	if err := EncodeSafetensors(&buf, []Tensor{{Name: "layers.0.weight", Shape: []int{3, 2}, F32: vals}}, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	hl := binary.LittleEndian.Uint64(b)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+hl], &header); err != nil {
		t.Fatal(err)
	}
	var e struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets []int  `json:"data_offsets"`
	}
	if err := json.Unmarshal(header["layers.0.weight"], &e); err != nil {
		t.Fatal(err)
	}
	if e.DType != "F32" || !slices.Equal(e.Shape, []int{3, 2}) || !slices.Equal(e.Offsets, []int{0, 24}) {
		t.Fatalf("header entry %+v, want F32, shape [3 2] ([out, in]), offsets [0 24]", e)
	}
	data := b[8+hl:]
	for i, v := range vals {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])); got != v {
			t.Fatalf("value %d = %g, want %g (row-major)", i, got, v)
		}
	}
	// By hand: a [2, 3] float64 tensor, values 0.5·(i+1).
	hj := `{"w":{"dtype":"F64","shape":[2,3],"data_offsets":[0,48]},"__metadata__":{"a":"b"}}`
	file := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	file = append(file, hj...)
	for i := 0; i < 6; i++ {
		file = binary.LittleEndian.AppendUint64(file, math.Float64bits(0.5*float64(i+1)))
	}
	ts, meta, err := DecodeSafetensors(file)
	if err != nil {
		t.Fatal(err)
	}
	w := ts["w"]
	if !slices.Equal(w.Shape, []int{2, 3}) || !slices.Equal(w.Float64s(), []float64{0.5, 1, 1.5, 2, 2.5, 3}) || meta["a"] != "b" {
		t.Fatalf("read shape %v values %v meta %v, want [2 3], 0.5…3, a=b", w.Shape, w.Float64s(), meta)
	}
	if !strings.Contains(string(b[8:8+hl]), `"k":"v"`) {
		t.Errorf("metadata not in the header: %s", b[8:8+hl])
	}
}
