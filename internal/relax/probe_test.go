package relax

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

func maxEigen(t *testing.T, h *mat.Dense) float64 {
	t.Helper()
	n, _ := h.Dims()
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			s.SetSym(i, j, 0.5*(h.At(i, j)+h.At(j, i)))
		}
	}
	var e mat.EigenSym
	if !e.Factorize(s, false) {
		t.Fatal("eigendecomposition failed")
	}
	v := e.Values(nil)
	return v[len(v)-1]
}

func weight(g *model.Graph[float64], i int) *mat.Dense {
	p := g.Params()[i]
	return mat.NewDense(p.Shape[0], p.Shape[1], p.Value.Data)
}

func linearNet(t *testing.T, seed uint64) (*model.Graph[float64], *tensor.Mat[float64], []int) {
	t.Helper()
	g, err := model.NewMLP[float64](model.MLPSpec{Sizes: []int{3, 4, 5, 2}, Activation: "linear", Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params() {
		tensor.Scale(3, p.Value.Data)
	}
	x, labels := randomBatch(rng, 3, 3, 2)
	return g, x, labels
}

// RULES.md §6 on linear nets with squared error, where the energies are
// quadratic and their Hessians known in closed form (the same for every
// sample). IL, in (x_1, x_2): [[I + W_2ᵀW_2, −W_2ᵀ], [−W_2, I + W_3ᵀW_3]].
// ePC, in (e_1, e_2): I + MᵀM with M = [W_3W_2, W_3] (s_2 = W_2 s_1 + e_2 + …,
// s_1 = … + e_1). The probe's λ_max matches the dense eigenvalue to 1e-6.
// A Hessian–vector product off by its 1/2h, or a probe that reports the
// dominant |λ| of the wrong energy, fails it.
func TestProbeMatchesDenseEigenvalueLinear(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		g, x, labels := linearNet(t, seed)
		loss, _ := model.NewLoss[float64]("mse")
		W2, W3 := weight(g, 2), weight(g, 4)
		id := func(n int) *mat.Dense {
			m := mat.NewDense(n, n, nil)
			for i := 0; i < n; i++ {
				m.Set(i, i, 1)
			}
			return m
		}
		// IL.
		h := mat.NewDense(9, 9, nil)
		var a mat.Dense
		a.Mul(W2.T(), W2)
		a.Add(&a, id(4))
		h.Slice(0, 4, 0, 4).(*mat.Dense).Copy(&a)
		var b mat.Dense
		b.Mul(W3.T(), W3)
		b.Add(&b, id(5))
		h.Slice(4, 9, 4, 9).(*mat.Dense).Copy(&b)
		var c mat.Dense
		c.Scale(-1, W2)
		h.Slice(4, 9, 0, 4).(*mat.Dense).Copy(&c)
		h.Slice(0, 4, 4, 9).(*mat.Dense).Copy(c.T())
		wantIL := maxEigen(t, h)
		// ePC.
		M := mat.NewDense(2, 9, nil)
		var w32 mat.Dense
		w32.Mul(W3, W2)
		M.Slice(0, 2, 0, 4).(*mat.Dense).Copy(&w32)
		M.Slice(0, 2, 4, 9).(*mat.Dense).Copy(W3)
		var he mat.Dense
		he.Mul(M.T(), M)
		he.Add(&he, id(9))
		wantEPC := maxEigen(t, &he)

		p := NewProbe(NewState(g, loss))
		p.Iters, p.Tol = 5000, 1e-14
		if got := p.IL(x, labels, 1); math.Abs(got-wantIL) > 1e-6*wantIL {
			t.Errorf("seed %d IL: λ_max %.12g, dense %.12g", seed, got, wantIL)
		}
		if got := p.EPC(x, labels); math.Abs(got-wantEPC) > 1e-6*wantEPC {
			t.Errorf("seed %d ePC: λ_max %.12g, dense %.12g", seed, got, wantEPC)
		}
	}
}

// The same on a nonlinear net (tanh, cross-entropy, three samples): the
// dense Hessian over every sample's variables is built column by column
// from central differences of the energy gradient (itself checked against
// finite differences of F elsewhere), and the probe agrees to 1e-6. The
// Hessian is block-diagonal over samples, so λ_max is the worst sample's.
func TestProbeMatchesDenseEigenvalueNonlinear(t *testing.T) {
	g, err := model.NewMLP[float64](model.MLPSpec{Sizes: []int{3, 4, 5, 3}, Activation: "tanh", Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params() {
		tensor.Scale(3, p.Value.Data)
	}
	x, labels := randomBatch(rng, 3, 3, 3)
	loss, _ := model.NewLoss[float64]("ce")
	st := NewState(g, loss)
	il, ep := NewIL(st), NewEPC(st)
	dense := func(z []*Mat[float64], grad func()) float64 {
		var idx [][2]int
		for v := 1; v < g.Output(); v++ {
			for i := range z[v].Data {
				idx = append(idx, [2]int{v, i})
			}
		}
		n := len(idx)
		h := mat.NewDense(n, n, nil)
		flat := func() []float64 {
			var f []float64
			for v := 1; v < g.Output(); v++ {
				f = append(f, st.grad[v].Data...)
			}
			return f
		}
		const d = 1e-5
		for j, k := range idx {
			old := z[k[0]].Data[k[1]]
			z[k[0]].Data[k[1]] = old + d
			grad()
			gp := flat()
			z[k[0]].Data[k[1]] = old - d
			grad()
			gm := flat()
			z[k[0]].Data[k[1]] = old
			for i := range gp {
				h.Set(i, j, (gp[i]-gm[i])/(2*d))
			}
		}
		return maxEigen(t, h)
	}
	il.Begin(x, labels, 1)
	wantIL := dense(st.x, func() { il.Predict(labels, false); st.xGradients() })
	ep.Begin(x, labels)
	wantEPC := dense(st.eps, func() { ep.Forward(labels); ep.Grad() })

	p := NewProbe(NewState(g, loss))
	p.Iters, p.Tol = 5000, 1e-14
	if got := p.IL(x, labels, 1); math.Abs(got-wantIL) > 1e-6*wantIL {
		t.Errorf("IL: λ_max %.12g, dense %.12g", got, wantIL)
	}
	if got := p.EPC(x, labels); math.Abs(got-wantEPC) > 1e-6*wantEPC {
		t.Errorf("ePC: λ_max %.12g, dense %.12g", got, wantEPC)
	}
}
