package relax

import (
	"math"
	"math/rand/v2"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Probe estimates λ_max, the largest eigenvalue of the Hessian of the
// inference energy in the inference variables (RULES.md §6): the value
// nodes x of IL (F_β, at C1) or the errors e of ePC (E, at e = 0). The
// energy is a sum over samples, so its Hessian is block-diagonal and λ_max
// is the largest over the batch's samples: the one that decides whether a
// per-sample step η diverges (η·λ_max > 2 for plain gradient descent).
//
// λ_max comes from power iteration on Hessian–vector products, each the
// central difference of two gradient evaluations,
//
//	H·u ≈ (∇(z + h·u) − ∇(z − h·u)) / 2h,   ‖u‖ = 1 over the batch,
//
// with h = 1e-4 in float64 and 3e-3 in float32. When the dominant
// eigenvalue is negative, a second iteration on H − λ_dom·I finds λ_max.
// A Probe has its own State, so it disturbs no rule's buffers.
type Probe[T tensor.Float] struct {
	// Iters bounds the power iterations; if zero, 30 are used.
	Iters int
	// Tol stops the iteration once the Rayleigh quotient changes by less
	// than Tol relative; if zero, 1e-4 is used.
	Tol float64

	il        *IL[T]
	epc       *EPC[T]
	z0, u, hu []*Mat[T]
	gp        []*Mat[T]
	pcg       *rand.PCG
	rng       *rand.Rand
}

// NewProbe returns a probe on its own State of st's graph and loss.
func NewProbe[T tensor.Float](st *State[T]) *Probe[T] {
	own := NewState(st.G, st.Loss)
	n := len(st.G.Vertices)
	p := &Probe[T]{il: NewIL(own), epc: NewEPC(own), z0: newMats[T](n), u: newMats[T](n), hu: newMats[T](n),
		gp: newMats[T](n), pcg: rand.NewPCG(0, 0)}
	p.rng = rand.New(p.pcg)
	return p
}

func (p *Probe[T]) h() float64 {
	if tensor.DType[T]() == "float32" {
		return 3e-3
	}
	return 1e-4
}

// IL returns λ_max of ∂²F_β/∂x² at the C1 state of the batch (beta 1: the
// clamped output).
func (p *Probe[T]) IL(in *Mat[T], labels []int, beta float64) float64 {
	st := p.il.State
	p.il.Begin(in, labels, beta)
	return p.run(st.x, func() {
		p.il.Predict(labels, false)
		st.xGradients()
	})
}

// EPC returns λ_max of ∂²E/∂e² at e = 0.
func (p *Probe[T]) EPC(in *Mat[T], labels []int) float64 {
	st := p.epc.State
	p.epc.Begin(in, labels)
	return p.run(st.eps, func() {
		p.epc.Forward(labels)
		p.epc.Grad()
	})
}

// run is the power iteration over the hidden vertices' variables z (x or
// eps of the probe's State); grad evaluates the energy's gradient at the
// current z into st.grad.
func (p *Probe[T]) run(z []*Mat[T], grad func()) float64 {
	st := p.il.State
	out := st.G.Output()
	// The same start on every call: a probe's result depends only on the
	// batch and the weights (a resumed run records what an uninterrupted
	// one does).
	p.pcg.Seed(0x9e3779b9, 0x7f4a7c15)
	random := func() {
		for v := 1; v < out; v++ {
			p.u[v].Resize(z[v].Rows, z[v].Cols)
			for i := range p.u[v].Data {
				p.u[v].Data[i] = T(p.rng.NormFloat64())
			}
		}
		normalize(p.u[1:out])
	}
	for v := 1; v < out; v++ {
		p.z0[v].CopyFrom(z[v])
	}
	random()
	h := p.h()
	hvp := func(shift float64) float64 {
		for v := 1; v < out; v++ {
			z[v].CopyFrom(p.z0[v])
			tensor.Axpy(T(h), p.u[v].Data, z[v].Data)
		}
		grad()
		for v := 1; v < out; v++ {
			p.gp[v].CopyFrom(st.grad[v])
			z[v].CopyFrom(p.z0[v])
			tensor.Axpy(T(-h), p.u[v].Data, z[v].Data)
		}
		grad()
		var ray float64
		for v := 1; v < out; v++ {
			hu := p.hu[v]
			hu.Resize(z[v].Rows, z[v].Cols)
			gm, gp, u := st.grad[v].Data, p.gp[v].Data, p.u[v].Data
			for i := range hu.Data {
				hu.Data[i] = T((float64(gp[i])-float64(gm[i]))/(2*h) + shift*float64(u[i]))
				ray += float64(hu.Data[i]) * float64(u[i])
			}
		}
		return ray
	}
	iterate := func(shift float64) float64 {
		iters, tol := p.Iters, p.Tol
		if iters == 0 {
			iters = 30
		}
		if tol == 0 {
			tol = 1e-4
		}
		lam := math.NaN()
		for k := 0; k < iters; k++ {
			l := hvp(shift)
			for v := 1; v < out; v++ {
				p.u[v].CopyFrom(p.hu[v])
			}
			if normalize(p.u[1:out]) == 0 {
				return l
			}
			if math.Abs(l-lam) <= tol*math.Abs(l) {
				return l
			}
			lam = l
		}
		return lam
	}
	lam := iterate(0)
	if lam < 0 {
		// The dominant eigenvalue is negative: H − lam·I has eigenvalues
		// λ − lam ≥ 0, the largest at λ_max.
		random()
		lam = iterate(-lam) + lam
	}
	for v := 1; v < out; v++ {
		z[v].CopyFrom(p.z0[v])
	}
	return lam
}

// normalize scales the vector made of ms to unit norm and returns its
// former norm.
func normalize[T tensor.Float](ms []*Mat[T]) float64 {
	var s float64
	for _, m := range ms {
		s += tensor.SumSq(m.Data)
	}
	n := math.Sqrt(s)
	if n > 0 {
		for _, m := range ms {
			tensor.Scale(T(1/n), m.Data)
		}
	}
	return n
}
