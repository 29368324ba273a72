package relax

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// genNet is a small generative MLP: C label units in, D "pixels" out,
// with a real-valued target (model.TargetMSE).
func genNet(t *testing.T, rng *rand.Rand, sizes []int, act string) (*model.Graph[float64], *model.TargetMSE[float64]) {
	t.Helper()
	g, err := model.NewMLP[float64](model.MLPSpec{Sizes: sizes, Activation: act, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	return g, &model.TargetMSE[float64]{}
}

func randMat(rng *rand.Rand, r, c int) *tensor.Mat[float64] {
	m := tensor.New[float64](r, c)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

func snapshot(xs []*tensor.Mat[float64]) [][]float64 {
	var s [][]float64
	for _, x := range xs {
		s = append(s, append([]float64(nil), x.Data...))
	}
	return s
}

func ones(r, c int) *tensor.Mat[float64] {
	m := tensor.New[float64](r, c)
	for i := range m.Data {
		m.Data[i] = 1
	}
	return m
}

// With every vertex clamped (input clamped or fully masked, every hidden
// unit masked) no value node may move, whatever the errors: inference
// changes nothing. (A mask that step ignores, or a free input that moves
// although clamped, fails this.)
func TestInferAllClampedChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g, loss := genNet(t, rng, []int{4, 6, 5, 9}, "tanh")
	const B = 3
	x0 := randMat(rng, B, 4)
	loss.Y = randMat(rng, B, 9)
	for _, freeInput := range []bool{false, true} {
		inf := NewInfer(g, loss)
		if freeInput {
			inf.Clamp[0] = ones(B, 4)
		}
		for v := 1; v < g.Output(); v++ {
			inf.Clamp[v] = ones(B, g.Vertices[v].Shape.Size())
		}
		ff := NewInfer(g, loss)
		if _, err := ff.Run(context.Background(), x0, make([]int, B), FreeSettings{FreeInput: freeInput}); err != nil {
			t.Fatal(err)
		}
		want := snapshot(ff.Values()[:g.Output()])
		if _, err := inf.Run(context.Background(), x0, make([]int, B), FreeSettings{Steps: 20, LR: 0.1, Momentum: 0.5, FreeInput: freeInput, Decay: 0.3}); err != nil {
			t.Fatal(err)
		}
		got := snapshot(inf.Values()[:g.Output()])
		for v := range want {
			for i := range want[v] {
				if got[v][i] != want[v][i] {
					t.Fatalf("free input %v: vertex %d unit %d moved from %g to %g", freeInput, v, i, want[v][i], got[v][i])
				}
			}
		}
	}
}

// A masked unit never moves, bit for bit, while the unmasked units of the
// same vertices do. (Clamping by zeroing only the gradient but not the
// momentum, or masking the wrong vertex, fails this.)
func TestInferMaskedUnitsNeverMove(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g, loss := genNet(t, rng, []int{4, 6, 5, 9}, "tanh")
	const B = 3
	x0 := randMat(rng, B, 4)
	loss.Y = randMat(rng, B, 9)
	inf := NewInfer(g, loss)
	for v := 0; v < g.Output(); v++ {
		m := tensor.New[float64](B, g.Vertices[v].Shape.Size())
		for i := range m.Data {
			if rng.IntN(2) == 0 {
				m.Data[i] = 1
			}
		}
		inf.Clamp[v] = m
	}
	ff := NewInfer(g, loss)
	ff.Run(context.Background(), x0, make([]int, B), FreeSettings{FreeInput: true})
	start := snapshot(ff.Values()[:g.Output()])
	if _, err := inf.Run(context.Background(), x0, make([]int, B), FreeSettings{Steps: 30, LR: 0.1, Momentum: 0.6, FreeInput: true}); err != nil {
		t.Fatal(err)
	}
	end := snapshot(inf.Values()[:g.Output()])
	for v := range start {
		moved := 0
		for i := range start[v] {
			clamped := inf.Clamp[v].Data[i] != 0
			if clamped && end[v][i] != start[v][i] {
				t.Errorf("vertex %d unit %d is clamped but moved %g → %g", v, i, start[v][i], end[v][i])
			}
			if !clamped && end[v][i] != start[v][i] {
				moved++
			}
		}
		if moved == 0 {
			t.Errorf("vertex %d: no free unit moved", v)
		}
	}
	if x0.Data[0] != start[0][0] {
		t.Errorf("Run modified its input matrix")
	}
}

// On a linear generative net x_0 → W1 → x_1 → W2 → y with the output
// clamped to y and x_0, x_1 free, F = ½‖x_1 − W1x_0 − b1‖² + ½‖y − W2x_1 − b2‖²
// is the squared residual of the stacked linear system
//
//	[−W1  I ] [x_0]   [b1    ]
//	[ 0   W2] [x_1] = [y − b2]
//
// so its minimum is that system's least-squares solution (closed form,
// normal equations), which inference must reach. A sign error in ∂F/∂x_0
// makes inference diverge from it; a missing input gradient leaves x_0 at
// its start.
func TestInferLinearInputIsLeastSquares(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const C, H, D, B = 3, 5, 8, 2
	g, loss := genNet(t, rng, []int{C, H, D}, "linear")
	loss.Y = randMat(rng, B, D)
	w1, b1 := g.Params()[0].Value, g.Params()[1].Value // [H, C], [1, H]
	w2, b2 := g.Params()[2].Value, g.Params()[3].Value // [D, H], [1, D]
	n := C + H
	inf := NewInfer(g, loss)
	x0 := tensor.New[float64](B, C) // start at zeros
	if _, err := inf.Run(context.Background(), x0, make([]int, B), FreeSettings{Steps: 20000, LR: 0.05, Momentum: 0.9, FreeInput: true}); err != nil {
		t.Fatal(err)
	}
	xs := inf.Values()
	for b := 0; b < B; b++ {
		// Rows of the stacked system over z = [x_0, x_1].
		var rows [][]float64
		var rhs []float64
		for i := 0; i < H; i++ {
			r := make([]float64, n)
			for j := 0; j < C; j++ {
				r[j] = -w1.Data[i*C+j]
			}
			r[C+i] = 1
			rows, rhs = append(rows, r), append(rhs, b1.Data[i])
		}
		for i := 0; i < D; i++ {
			r := make([]float64, n)
			for k := 0; k < H; k++ {
				r[C+k] = w2.Data[i*H+k]
			}
			rows, rhs = append(rows, r), append(rhs, loss.Y.Data[b*D+i]-b2.Data[i])
		}
		m := make([][]float64, n)
		for i := range m {
			m[i] = make([]float64, n+1)
			for k := range rows {
				for j := 0; j < n; j++ {
					m[i][j] += rows[k][i] * rows[k][j]
				}
				m[i][n] += rows[k][i] * rhs[k]
			}
		}
		want := solve(m)
		got := append(append([]float64(nil), xs[0].Row(b)...), xs[1].Row(b)...)
		for j := range want {
			if d := math.Abs(got[j] - want[j]); !(d <= 1e-8) {
				t.Errorf("sample %d: z[%d] = %.12g, least squares %.12g", b, j, got[j], want[j])
			}
		}
	}
}

func solve(m [][]float64) []float64 {
	n := len(m)
	for i := 0; i < n; i++ {
		p := i
		for r := i + 1; r < n; r++ {
			if math.Abs(m[r][i]) > math.Abs(m[p][i]) {
				p = r
			}
		}
		m[i], m[p] = m[p], m[i]
		for r := 0; r < n; r++ {
			if r == i {
				continue
			}
			f := m[r][i] / m[i][i]
			for k := i; k <= n; k++ {
				m[r][k] -= f * m[i][k]
			}
		}
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = m[i][n] / m[i][i]
	}
	return x
}

// ∂F/∂x_v of the free input and hidden vertices (decay included, output
// partly free through TargetMSE.Free) equals central differences of
// B·F, at a state away from the feed-forward one.
func TestInferGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	g, loss := genNet(t, rng, []int{4, 6, 5, 9}, "tanh")
	const B = 3
	loss.Y = randMat(rng, B, 9)
	loss.Free = tensor.New[float64](B, 9)
	for i := range loss.Free.Data {
		if i%3 == 0 {
			loss.Free.Data[i] = 1
		}
	}
	const decay = 0.2
	inf := NewInfer(g, loss)
	if _, err := inf.Run(context.Background(), randMat(rng, B, 4), make([]int, B), FreeSettings{Steps: 3, LR: 0.2, FreeInput: true, Decay: decay}); err != nil {
		t.Fatal(err)
	}
	grads := snapshot(inf.Gradients(nil, decay)[:g.Output()])
	xs := inf.Values()
	const h = 1e-6
	for v := 0; v < g.Output(); v++ {
		for i := range xs[v].Data {
			old := xs[v].Data[i]
			xs[v].Data[i] = old + h
			fp := inf.EnergyNow(nil, decay) * B
			xs[v].Data[i] = old - h
			fm := inf.EnergyNow(nil, decay) * B
			xs[v].Data[i] = old
			fd := (fp - fm) / (2 * h)
			if d := math.Abs(fd - grads[v][i]); !(d <= 1e-7*(1+math.Abs(fd))) {
				t.Errorf("vertex %d unit %d: ∂F/∂x = %.10g, finite differences %.10g", v, i, grads[v][i], fd)
			}
		}
	}
	if tensor.SumSq(grads[0]) == 0 {
		t.Error("input gradient is zero")
	}
}

// The per-sample energies average to the batch-mean F (decay included):
// recognition by energy compares exactly the F that inference descends.
func TestInferSampleEnergiesAverageToF(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	g, loss := genNet(t, rng, []int{3, 5, 7}, "tanh")
	const B = 4
	loss.Y = randMat(rng, B, 7)
	inf := NewInfer(g, loss)
	const decay = 0.3
	r, err := inf.Run(context.Background(), randMat(rng, B, 3), make([]int, B), FreeSettings{Steps: 4, LR: 0.1, Decay: decay})
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range inf.SampleEnergies(decay) {
		sum += f
	}
	if d := math.Abs(sum/B - r.Energy); !(d <= 1e-12*r.Energy) || r.Energy == 0 {
		t.Errorf("mean of per-sample F %v, batch-mean F %v", sum/B, r.Energy)
	}
}
