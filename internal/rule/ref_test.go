package rule

import (
	"math"
)

// refNet is an independent float64 implementation of RULES.md §1–2 on an
// MLP, written from the page and PC-SPEC §1 alone (plain slices, no
// pctrain code): mu_l = φ(x_{l−1}) W_lᵀ + b_l with φ = tanh on hidden
// values only (none on the input), softmax cross-entropy at the output.
type refNet struct {
	sizes []int
	W, b  [][]float64 // W[l] is sizes[l+1] × sizes[l], row-major
}

func (n *refNet) clone() *refNet {
	c := &refNet{sizes: n.sizes}
	for l := range n.W {
		c.W = append(c.W, append([]float64(nil), n.W[l]...))
		c.b = append(c.b, append([]float64(nil), n.b[l]...))
	}
	return c
}

// refState is one sample batch's value nodes and momentum.
type refState struct {
	x, vel [][][]float64 // [layer][sample][unit]; x[0] is the input
	beta   float64
}

func (n *refNet) in(l int, x []float64) []float64 {
	if l == 0 {
		return x
	}
	o := make([]float64, len(x))
	for i, v := range x {
		o[i] = math.Tanh(v)
	}
	return o
}

// mu is vertex l+1's prediction from x (the value of vertex l).
func (n *refNet) mu(l int, x []float64) []float64 {
	a := n.in(l, x)
	out := make([]float64, n.sizes[l+1])
	for o := range out {
		s := n.b[l][o]
		for i, v := range a {
			s += n.W[l][o*n.sizes[l]+i] * v
		}
		out[o] = s
	}
	return out
}

func softmax(z []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	p := make([]float64, len(z))
	var s float64
	for i, v := range z {
		p[i] = math.Exp(v - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// start is C1: every hidden value at its prediction, momentum zero.
func (n *refNet) start(X [][]float64, beta float64) *refState {
	L := len(n.sizes) - 1
	st := &refState{beta: beta, x: make([][][]float64, L), vel: make([][][]float64, L)}
	st.x[0] = X
	for l := 1; l < L; l++ {
		for b := range X {
			st.x[l] = append(st.x[l], n.mu(l-1, st.x[l-1][b]))
			st.vel[l] = append(st.vel[l], make([]float64, n.sizes[l]))
		}
	}
	return st
}

// errors returns eps_l for l = 1 … L (eps_L = −β(softmax(mu_L) − y)) and
// the batch-mean F_β.
func (n *refNet) errors(st *refState, y []int) ([][][]float64, float64) {
	L := len(n.sizes) - 1
	eps := make([][][]float64, L+1)
	var F float64
	for b := range st.x[0] {
		for l := 1; l < L; l++ {
			m := n.mu(l-1, st.x[l-1][b])
			e := make([]float64, len(m))
			for i := range m {
				e[i] = st.x[l][b][i] - m[i]
				F += 0.5 * e[i] * e[i]
			}
			eps[l] = append(eps[l], e)
		}
		z := n.mu(L-1, st.x[L-1][b])
		p := softmax(z)
		F += -st.beta * math.Log(p[y[b]])
		e := make([]float64, len(z))
		for i := range p {
			t := 0.0
			if i == y[b] {
				t = 1
			}
			e[i] = -st.beta * (p[i] - t)
		}
		eps[L] = append(eps[L], e)
	}
	return eps, F / float64(len(st.x[0]))
}

// grads returns c·∂(mean F_β)/∂θ = −(c/B)Σ_b eps_l,b ⊗ φ(x_{l−1},b) (and
// −(c/B)Σ_b eps_l,b for biases), layer by layer.
func (n *refNet) grads(st *refState, eps [][][]float64, c float64) (gW, gb [][]float64) {
	L := len(n.sizes) - 1
	B := float64(len(st.x[0]))
	for l := 0; l < L; l++ {
		w := make([]float64, len(n.W[l]))
		bb := make([]float64, len(n.b[l]))
		for b := range st.x[0] {
			a := n.in(l, st.x[l][b])
			e := eps[l+1][b]
			for o := range e {
				bb[o] -= c / B * e[o]
				for i, v := range a {
					w[o*n.sizes[l]+i] -= c / B * e[o] * v
				}
			}
		}
		gW, gb = append(gW, w), append(gb, bb)
	}
	return gW, gb
}

// relax takes one value-node step: v ← m·v + ∂F/∂x, x ← x − γ·v, with
// ∂F/∂x_l = eps_l − φ'(x_l) ⊙ (eps_{l+1} W_{l+1}) per sample.
func (n *refNet) relax(st *refState, eps [][][]float64, lr, m float64) {
	L := len(n.sizes) - 1
	for l := 1; l < L; l++ {
		for b := range st.x[0] {
			x := st.x[l][b]
			for i := range x {
				var back float64
				for o, e := range eps[l+1][b] {
					back += e * n.W[l][o*n.sizes[l]+i]
				}
				t := math.Tanh(x[i])
				g := eps[l][b][i] - (1-t*t)*back
				st.vel[l][b][i] = m*st.vel[l][b][i] + g
			}
		}
	}
	for l := 1; l < L; l++ {
		for b := range st.x[0] {
			for i := range st.x[l][b] {
				st.x[l][b][i] -= lr * st.vel[l][b][i]
			}
		}
	}
}

func (n *refNet) sgd(gW, gb [][]float64, lr float64) {
	for l := range n.W {
		for i := range n.W[l] {
			n.W[l][i] -= lr * gW[l][i]
		}
		for i := range n.b[l] {
			n.b[l][i] -= lr * gb[l][i]
		}
	}
}

// phaseBetas is RULES.md §2's β per inference phase for a mode (random
// sign excluded: its draw is pctrain's).
func phaseBetas(mode string, beta float64) []float64 {
	switch mode {
	case "positive":
		return []float64{beta}
	case "negative":
		return []float64{-beta}
	case "centred":
		return []float64{beta, -beta}
	}
	return []float64{1}
}

// refIL is one batch of IL on F_β (every phase from its own C1 start):
// T value steps, then the gradient Σ_phases (1/(P·β))·∂F_β/∂θ at each
// phase's final state.
func (n *refNet) refIL(X [][]float64, y []int, T int, lr, m float64, betas []float64) (gW, gb [][]float64) {
	for _, beta := range betas {
		st := n.start(X, beta)
		for t := 0; t < T; t++ {
			eps, _ := n.errors(st, y)
			n.relax(st, eps, lr, m)
		}
		eps, _ := n.errors(st, y)
		w, b := n.grads(st, eps, 1/(float64(len(betas))*beta))
		gW, gb = addGrads(gW, gb, w, b)
	}
	return gW, gb
}

// refIPC is one batch of iPC (RULES.md §1) with SGD at wlr: at each of T
// steps, the value step and the weight step from the same state; with
// two phases they run in lockstep and the update averages them. It
// returns every step's gradient.
func (n *refNet) refIPC(X [][]float64, y []int, T int, lr, m, wlr float64, betas []float64) (steps [][][]float64) {
	var sts []*refState
	for _, beta := range betas {
		sts = append(sts, n.start(X, beta))
	}
	for t := 0; t < T; t++ {
		var gW, gb [][]float64
		for _, st := range sts {
			eps, _ := n.errors(st, y)
			w, b := n.grads(st, eps, 1/(float64(len(betas))*st.beta))
			gW, gb = addGrads(gW, gb, w, b)
			n.relax(st, eps, lr, m)
		}
		n.sgd(gW, gb, wlr)
		steps = append(steps, flatGrads(gW, gb))
	}
	return steps
}

func addGrads(gW, gb, w, b [][]float64) ([][]float64, [][]float64) {
	if gW == nil {
		return w, b
	}
	for l := range gW {
		for i := range gW[l] {
			gW[l][i] += w[l][i]
		}
		for i := range gb[l] {
			gb[l][i] += b[l][i]
		}
	}
	return gW, gb
}

// flatGrads orders the gradients as pctrain's Params: weight, bias per
// layer, input side first.
func flatGrads(gW, gb [][]float64) [][]float64 {
	var out [][]float64
	for l := range gW {
		out = append(out, gW[l], gb[l])
	}
	return out
}

// refEPC is one batch of ePC (RULES.md §3) on the refNet, from the page
// alone: errors e_l (hidden l) start at 0; states s_0 = x, s_l =
// mu_l(s_{l−1}) + e_l; each step e ← e − η·v with v ← m·v + (e + ∂ℓ/∂s),
// the adjoint by the chain rule through tanh; then IL's gradient at x = s
// (eps_l = e_l, eps_L = y − softmax(mu_L)).
func (n *refNet) refEPC(X [][]float64, y []int, steps int, lr, m float64) (gW, gb [][]float64) {
	L := len(n.sizes) - 1
	st := &refState{beta: 1, x: make([][][]float64, L)}
	e := make([][][]float64, L)
	vel := make([][][]float64, L)
	for l := 1; l < L; l++ {
		for range X {
			e[l] = append(e[l], make([]float64, n.sizes[l]))
			vel[l] = append(vel[l], make([]float64, n.sizes[l]))
		}
	}
	states := func() {
		st.x[0] = X
		for l := 1; l < L; l++ {
			st.x[l] = make([][]float64, len(X))
			for b := range X {
				s := n.mu(l-1, st.x[l-1][b])
				for i := range s {
					s[i] += e[l][b][i]
				}
				st.x[l][b] = s
			}
		}
	}
	for t := 0; t < steps; t++ {
		states()
		for b := range X {
			d := softmax(n.mu(L-1, st.x[L-1][b]))
			d[y[b]]--
			for l := L - 1; l >= 1; l-- {
				dl := make([]float64, n.sizes[l])
				for i := range dl {
					var back float64
					for o, v := range d {
						back += v * n.W[l][o*n.sizes[l]+i]
					}
					th := math.Tanh(st.x[l][b][i])
					dl[i] = (1 - th*th) * back
				}
				for i := range dl {
					g := e[l][b][i] + dl[i]
					vel[l][b][i] = m*vel[l][b][i] + g
				}
				d = dl
			}
		}
		for l := 1; l < L; l++ {
			for b := range X {
				for i := range e[l][b] {
					e[l][b][i] -= lr * vel[l][b][i]
				}
			}
		}
	}
	states()
	eps := make([][][]float64, L+1)
	for l := 1; l < L; l++ {
		eps[l] = e[l]
	}
	for b := range X {
		p := softmax(n.mu(L-1, st.x[L-1][b]))
		for i := range p {
			p[i] = -p[i]
		}
		p[y[b]]++
		eps[L] = append(eps[L], p)
	}
	return n.grads(st, eps, 1)
}
