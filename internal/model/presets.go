package model

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/tensor"
)

// NewElmanRNN unrolls a many-to-one Elman RNN over steps equal slices of a
// vector input (e.g. row-by-row MNIST: 28 steps of 28 pixels):
//
//	a_1 = W_x x_1 + b,  a_t = W_x x_t + W_h tanh(a_{t−1}) + b,  logits = W_o tanh(a_S) + b_o
//
// Each a_t is a vertex (a value node holding the pre-activation); W_x, b
// and W_h are tied across time steps, so they are used at many levels.
// Parameters: "rnn.x.weight", "rnn.bias", "rnn.h.weight", "head.weight",
// "head.bias".
func NewElmanRNN[T tensor.Float](in, steps, hidden, classes int, bias bool) (*Graph[T], error) {
	if steps < 1 || in%steps != 0 {
		return nil, fmt.Errorf("model.steps: %d does not divide the %d input values into equal steps", steps, in)
	}
	d := in / steps
	tanh, _ := LookupActivation("tanh")
	wx := NewDense[T]("rnn.x", d, hidden, false)
	if bias {
		wx.B = newParam[T]("rnn.bias", 1, hidden, hidden)
	}
	wh := NewDense[T]("rnn.h", hidden, hidden, false)
	vs := []*Vertex[T]{{Name: "input", Shape: Shape{in}}}
	for t := 0; t < steps; t++ {
		vx := &Vertex[T]{Name: fmt.Sprintf("a%d", t+1), Inputs: []int{0},
			Pre: [][]Layer[T]{{&Slice[T]{From: t * d, To: (t + 1) * d}, wx.Shared()}}}
		if t > 0 {
			vx.Inputs = append(vx.Inputs, len(vs)-1)
			vx.Pre = append(vx.Pre, []Layer[T]{&Act[T]{A: tanh}, wh.Shared()})
			vx.Combine = "add"
		}
		vs = append(vs, vx)
	}
	vs = append(vs, &Vertex[T]{Name: "output", Inputs: []int{len(vs) - 1},
		Layers: []Layer[T]{&Act[T]{A: tanh}, NewDense[T]("head", hidden, classes, bias)}})
	return NewGraph(vs)
}

// NewLSTM unrolls a many-to-one LSTM over steps slices of a vector input.
// Per step t, with the four gates stacked in z_t = W_x x_t + W_h h_{t−1} + b
// (order i, f, g, o, as PyTorch):
//
//	m_t = σ(i_t) ⊙ tanh(g_t),  n_t = σ(f_t) ⊙ c_{t−1},  c_t = m_t + n_t,
//	h_t = σ(o_t) ⊙ tanh(c_t),  logits = W_o h_S + b_o
//
// z_t, m_t, n_t, c_t and h_t are vertices; the graph is not levelled (c_{t−1}
// reaches c_t in two steps and through h_{t−1} in four), so identity vertices
// are inserted. Parameters: "lstm.x.weight", "lstm.bias", "lstm.h.weight",
// "head.weight", "head.bias".
func NewLSTM[T tensor.Float](in, steps, hidden, classes int, bias bool) (*Graph[T], error) {
	if steps < 1 || in%steps != 0 {
		return nil, fmt.Errorf("model.steps: %d does not divide the %d input values into equal steps", steps, in)
	}
	d, h := in/steps, hidden
	sig, _ := LookupActivation("sigmoid")
	tanh, _ := LookupActivation("tanh")
	wx := NewDense[T]("lstm.x", d, 4*h, false)
	if bias {
		wx.B = newParam[T]("lstm.bias", 1, 4*h, 4*h)
	}
	wh := NewDense[T]("lstm.h", h, 4*h, false)
	gate := func(k int, a Activation) []Layer[T] {
		return []Layer[T]{&Slice[T]{From: k * h, To: (k + 1) * h}, &Act[T]{A: a}}
	}
	vs := []*Vertex[T]{{Name: "input", Shape: Shape{in}}}
	add := func(v *Vertex[T]) int { vs = append(vs, v); return len(vs) - 1 }
	prevH, prevC := -1, -1
	for t := 1; t <= steps; t++ {
		z := &Vertex[T]{Name: fmt.Sprintf("z%d", t), Inputs: []int{0},
			Pre: [][]Layer[T]{{&Slice[T]{From: (t - 1) * d, To: t * d}, wx.Shared()}}}
		if prevH >= 0 {
			z.Inputs = append(z.Inputs, prevH)
			z.Pre = append(z.Pre, []Layer[T]{wh.Shared()})
			z.Combine = "add"
		}
		zi := add(z)
		m := add(&Vertex[T]{Name: fmt.Sprintf("m%d", t), Inputs: []int{zi, zi}, Combine: "mul",
			Pre: [][]Layer[T]{gate(0, sig), gate(2, tanh)}})
		c := m
		if prevC >= 0 {
			n := add(&Vertex[T]{Name: fmt.Sprintf("n%d", t), Inputs: []int{zi, prevC}, Combine: "mul",
				Pre: [][]Layer[T]{gate(1, sig), nil}})
			c = add(&Vertex[T]{Name: fmt.Sprintf("c%d", t), Inputs: []int{m, n}, Combine: "add"})
		}
		hv := add(&Vertex[T]{Name: fmt.Sprintf("h%d", t), Inputs: []int{zi, c}, Combine: "mul",
			Pre: [][]Layer[T]{gate(3, sig), {&Act[T]{A: tanh}}}})
		prevH, prevC = hv, c
	}
	add(&Vertex[T]{Name: "output", Inputs: []int{prevH}, Layers: []Layer[T]{NewDense[T]("head", h, classes, bias)}})
	return NewGraph(vs)
}

// NewResMLP builds a residual MLP: a dense stem to width, then blocks of
//
//	h = W_1 φ(r) + b_1,  r' = r + W_2 φ(h) + b_2
//
// and a dense head on φ(r). The skip edge r → r' jumps over h, so each block
// gets an identity vertex (PC-SPEC §3). Parameters: "stem.*",
// "block{k}.fc1.*", "block{k}.fc2.*", "head.*".
func NewResMLP[T tensor.Float](in, width, blocks, classes int, activation string, bias bool) (*Graph[T], error) {
	act, err := LookupActivation(activation)
	if err != nil {
		return nil, err
	}
	vs := []*Vertex[T]{{Name: "input", Shape: Shape{in}},
		{Name: "stem", Inputs: []int{0}, Layers: []Layer[T]{NewDense[T]("stem", in, width, bias)}}}
	r := 1
	for k := 1; k <= blocks; k++ {
		vs = append(vs, &Vertex[T]{Name: fmt.Sprintf("block%d.h", k), Inputs: []int{r},
			Layers: []Layer[T]{&Act[T]{A: act}, NewDense[T](fmt.Sprintf("block%d.fc1", k), width, width, bias)}})
		h := len(vs) - 1
		vs = append(vs, &Vertex[T]{Name: fmt.Sprintf("block%d.r", k), Inputs: []int{h, r}, Combine: "add",
			Pre: [][]Layer[T]{{&Act[T]{A: act}, NewDense[T](fmt.Sprintf("block%d.fc2", k), width, width, bias)}, nil}})
		r = len(vs) - 1
	}
	vs = append(vs, &Vertex[T]{Name: "output", Inputs: []int{r},
		Layers: []Layer[T]{&Act[T]{A: act}, NewDense[T]("head", width, classes, bias)}})
	return NewGraph(vs)
}
