package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"
)

func randMat(rng *rand.Rand, r, c int) *Mat[float64] {
	m := tensor.New[float64](r, c)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// checkVJP is the one gradient check every layer goes through: for a random
// cotangent r, the VJP must equal central differences of ⟨r, f(x)⟩ with
// respect to the input and to every parameter.
func checkVJP(t *testing.T, name string, l Layer[float64], x *Mat[float64], rng *rand.Rand) {
	t.Helper()
	y := &Mat[float64]{}
	l.Forward(y, x)
	r := randMat(rng, y.Rows, y.Cols)
	phi := func() float64 {
		out := &Mat[float64]{}
		l.Forward(out, x)
		return dot(r.Data, out.Data)
	}
	for _, p := range l.Params() {
		p.Grad.Zero()
	}
	dx := &Mat[float64]{}
	const alpha = 0.75
	l.VJP(dx, x, y, r, true, alpha)
	const h = 1e-6
	fd := func(v []float64, i int) float64 {
		old := v[i]
		v[i] = old + h
		fp := phi()
		v[i] = old - h
		fm := phi()
		v[i] = old
		return (fp - fm) / (2 * h)
	}
	for i := range x.Data {
		if got, want := dx.Data[i], fd(x.Data, i); math.Abs(got-want) > 1e-7*(1+math.Abs(want)) {
			t.Fatalf("%s: dx[%d] = %.12g, finite differences %.12g", name, i, got, want)
		}
	}
	for _, p := range l.Params() {
		for i := range p.Value.Data {
			if got, want := p.Grad.Data[i], alpha*fd(p.Value.Data, i); math.Abs(got-want) > 1e-7*(1+math.Abs(want)) {
				t.Fatalf("%s: d%s[%d] = %.12g, finite differences %.12g", name, p.Name, i, got, want)
			}
		}
	}
}

func TestDenseVJPFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bias := range []bool{false, true} {
		d := NewDense[float64]("layers.0", 5, 3, bias)
		initLayer(rng, initializers["default"], Layer[float64](d))
		checkVJP(t, "dense", d, randMat(rng, 4, 5), rng)
	}
}

func TestActivationVJPFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, name := range ActivationNames() {
		a, err := LookupActivation(name)
		if err != nil {
			t.Fatal(err)
		}
		x := randMat(rng, 3, 7)
		// Keep away from the kinks of relu and leaky-relu, where finite
		// differences are not the derivative.
		for i, v := range x.Data {
			if math.Abs(v) < 1e-3 {
				x.Data[i] = 0.5
			}
		}
		checkVJP(t, name, &Act[float64]{A: a}, x, rng)
	}
}

// The derivative conventions at kinks must match PyTorch's autograd
// (PC-SPEC pitfalls): relu'(0) = 0 and leaky-relu'(0) = the slope.
func TestKinkConventions(t *testing.T) {
	relu, _ := LookupActivation("relu")
	leaky, _ := LookupActivation("leaky-relu")
	if relu.DF(0) != 0 || leaky.DF(0) != leakySlope {
		t.Fatalf("relu'(0) = %g, leaky'(0) = %g; want 0 and %g", relu.DF(0), leaky.DF(0), leakySlope)
	}
}

// Known values pin each activation's formula (a wrong but self-consistent
// F/DF pair would pass the finite-difference check).
func TestActivationValues(t *testing.T) {
	cases := []struct {
		name string
		x, y float64
	}{
		{"sigmoid", 0, 0.5}, {"sigmoid", 2, 1 / (1 + math.Exp(-2))}, {"sigmoid", -800, 0},
		{"tanh", 1, 0.7615941559557649}, {"relu", -2, 0}, {"relu", 3, 3},
		{"leaky-relu", -2, -0.02}, {"linear", -1.5, -1.5},
		// Φ(1) = 0.8413447460685429, so gelu(1) = 0.8413447460685429.
		{"gelu", 1, 0.8413447460685429}, {"gelu", -1, -1 + 0.8413447460685429},
	}
	for _, c := range cases {
		a, _ := LookupActivation(c.name)
		if got := a.F(c.x); math.Abs(got-c.y) > 1e-15 {
			t.Errorf("%s(%g) = %.17g, want %.17g", c.name, c.x, got, c.y)
		}
	}
}

// Both losses: OutputError must be −∂ℓ/∂mu (finite differences of the
// returned loss) and the loss values must match their definitions.
func TestLossOutputError(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	mu := randMat(rng, 3, 4)
	labels := []int{2, 0, 3}
	for _, name := range []string{"mse", "ce"} {
		loss, _ := NewLoss[float64](name)
		eps := &Mat[float64]{}
		l0 := loss.OutputError(eps, mu, labels)
		var want float64
		for i := 0; i < 3; i++ {
			row := mu.Row(i)
			if name == "mse" {
				for j, v := range row {
					y := 0.0
					if j == labels[i] {
						y = 1
					}
					want += 0.5 * (y - v) * (y - v)
				}
			} else {
				z := 0.0
				for _, v := range row {
					z += math.Exp(v)
				}
				want += math.Log(z) - row[labels[i]]
			}
		}
		if math.Abs(l0-want) > 1e-12 {
			t.Fatalf("%s: loss %.15g, want %.15g", name, l0, want)
		}
		const h = 1e-6
		scratch := &Mat[float64]{}
		for i := range mu.Data {
			old := mu.Data[i]
			mu.Data[i] = old + h
			lp := loss.OutputError(scratch, mu, labels)
			mu.Data[i] = old - h
			lm := loss.OutputError(scratch, mu, labels)
			mu.Data[i] = old
			if fd := -(lp - lm) / (2 * h); math.Abs(fd-eps.Data[i]) > 1e-7 {
				t.Fatalf("%s: eps[%d] = %g, −dℓ/dmu = %g", name, i, eps.Data[i], fd)
			}
		}
	}
}

// Backprop on an MLP must equal finite differences of the batch-mean loss.
func TestBackpropFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, act := range []string{"tanh", "gelu", "sigmoid"} {
		for _, lossName := range []string{"mse", "ce"} {
			g, err := NewMLP[float64](MLPSpec{Sizes: []int{4, 5, 3, 3}, Activation: act, Bias: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Init(rng, "default"); err != nil {
				t.Fatal(err)
			}
			loss, _ := NewLoss[float64](lossName)
			x := randMat(rng, 6, 4)
			labels := []int{0, 1, 2, 2, 1, 0}
			ws := NewWorkspace(g)
			g.ZeroGrad()
			g.Backprop(ws, x, labels, loss)
			meanLoss := func() float64 {
				logits := g.Forward(ws, x)
				return loss.OutputError(&Mat[float64]{}, logits, labels) / 6
			}
			const h = 1e-6
			for _, p := range g.Params() {
				for i := range p.Value.Data {
					old := p.Value.Data[i]
					p.Value.Data[i] = old + h
					lp := meanLoss()
					p.Value.Data[i] = old - h
					lm := meanLoss()
					p.Value.Data[i] = old
					if fd := (lp - lm) / (2 * h); math.Abs(fd-p.Grad.Data[i]) > 1e-8 {
						t.Fatalf("%s/%s: %s[%d] grad %g, finite differences %g", act, lossName, p.Name, i, p.Grad.Data[i], fd)
					}
				}
			}
		}
	}
}

func TestInitBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	g, _ := NewMLP[float64](MLPSpec{Sizes: []int{100, 50, 10}, Activation: "relu", Bias: true})
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params() {
		fanIn := p.Shape[len(p.Shape)-1]
		if p.Name[len(p.Name)-4:] == "bias" {
			fanIn = map[string]int{"layers.0.bias": 100, "layers.1.bias": 50}[p.Name]
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		var maxAbs float64
		for _, v := range p.Value.Data {
			maxAbs = math.Max(maxAbs, math.Abs(v))
		}
		// Uniform(±bound): every draw inside, and the largest near the edge.
		if maxAbs > bound || maxAbs < 0.8*bound {
			t.Errorf("%s: max |w| = %g, bound %g", p.Name, maxAbs, bound)
		}
	}
	if err := g.Init(rng, "nope"); err == nil {
		t.Fatal("unknown init accepted")
	}
}

// fd32 evaluates the float32 kernel float32 models use for activation
// name (C when cgo is on, else Go) at every x.
func fd32(t *testing.T, name string, xs []float64) (y, d []float32) {
	t.Helper()
	k := tensor.ActKernel32(name)
	if k == nil {
		t.Fatalf("no float32 kernel for %s", name)
	}
	x := make([]float32, len(xs))
	for i, v := range xs {
		x[i] = float32(v)
	}
	y, d = make([]float32, len(x)), make([]float32, len(x))
	k(y, d, x)
	return y, d
}

func grid(lo, hi, step float64) []float64 {
	var xs []float64
	for x := lo; x <= hi; x += step {
		xs = append(xs, float64(float32(x)))
	}
	return xs
}

// The float32 path of gelu stays within a few float32 roundings of the
// exact float64 form (A&S 7.1.26 bounds the erf error by 1.5e-7; float32
// arithmetic adds a few units of 6e-8).
func TestGeluFloat32Path(t *testing.T) {
	a, _ := LookupActivation("gelu")
	xs := grid(-12, 12, 0.0007)
	y32, d32 := fd32(t, "gelu", xs)
	for i, x := range xs {
		y, d := a.FDF(x)
		if math.Abs(float64(y32[i])-y) > 4e-7*(1+math.Abs(x)) || math.Abs(float64(d32[i])-d) > 4e-7*(1+math.Abs(x)) {
			t.Fatalf("x = %g: float32 (%g, %g), exact (%g, %g)", x, y32[i], d32[i], y, d)
		}
	}
}

// tensor.Exp32 agrees with math.Exp to float32 precision over its range.
func TestExp32(t *testing.T) {
	for x := -87.0; x <= 88; x += 0.0013 {
		got, want := float64(tensor.Exp32(float32(x))), math.Exp(float64(float32(x)))
		if math.Abs(got-want) > 3e-7*want {
			t.Fatalf("tensor.Exp32(%g) = %g, want %g (rel %g)", x, got, want, math.Abs(got-want)/want)
		}
	}
	if tensor.Exp32(-100) != 0 || !math.IsInf(float64(tensor.Exp32(100)), 1) {
		t.Fatal("exp32 range ends")
	}
}

// The float32 paths of tanh and sigmoid stay within a few float32 roundings
// of the float64 functions, relative to the value (tanh is odd and tiny
// near 0, where an absolute bound would hide a wrong slope).
func TestTanhSigmoidFloat32Paths(t *testing.T) {
	xs := grid(-20, 20, 0.00037)
	for _, name := range []string{"tanh", "sigmoid"} {
		a, _ := LookupActivation(name)
		y32, d32 := fd32(t, name, xs)
		for i, x := range xs {
			y, d := a.FDF(x)
			if math.Abs(float64(y32[i])-y) > 5e-7*math.Abs(y)+1e-30 || math.Abs(float64(d32[i])-d) > 2e-6*math.Abs(d)+4e-7 { // 1−y² from a float32 y near ±1 is exact only to ~2 ulps of 1
				t.Fatalf("%s(%g): float32 (%g, %g), exact (%g, %g)", name, x, y32[i], d32[i], y, d)
			}
		}
	}
}

// The piecewise-linear activations in float32 are the float64 forms
// rounded (leaky-relu's slope times x within one rounding).
func TestPiecewiseFloat32Paths(t *testing.T) {
	xs := append(grid(-3, 3, 0.01), 0, math.Copysign(0, -1))
	for _, name := range []string{"relu", "leaky-relu", "linear"} {
		a, _ := LookupActivation(name)
		y32, d32 := fd32(t, name, xs)
		for i, x := range xs {
			y, d := a.FDF(x)
			if math.Abs(float64(y32[i])-y) > 1.2e-7*math.Abs(y) || float64(d32[i]) != float64(float32(d)) {
				t.Fatalf("%s(%g): float32 (%g, %g), float64 (%g, %g)", name, x, y32[i], d32[i], y, d)
			}
		}
	}
}
