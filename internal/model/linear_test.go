package model

import "testing"

// Graph.Linear decides whether the stability probe's verdict is certain
// (a quadratic energy): any one non-linear piece must make it false.
func TestGraphLinear(t *testing.T) {
	mlp := func(act string) *Graph[float64] {
		g, err := NewMLP[float64](MLPSpec{Sizes: []int{5, 4, 3}, Activation: act, Bias: true})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	seq := func(pool string) *Graph[float64] {
		g, err := NewSequential[float64](Shape{1, 6, 6}, []LayerSpec{
			{Kind: "conv", Out: 2, Kernel: 3, Stride: 1, Padding: 1}, {Kind: "act", Activation: "linear"},
			{Kind: pool, Kernel: 2, Stride: 2}, {Kind: "flatten"}, {Kind: "dense", Out: 3}}, true)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	skip := func(act string) *Graph[float64] {
		g, err := NewSkipMLP[float64](5, 4, 3, 3, act, MuPCParam)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	rnn, err := NewElmanRNN[float64](6, 2, 4, 3, true) // tanh between steps
	if err != nil {
		t.Fatal(err)
	}
	lstm, err := NewLSTM[float64](6, 2, 4, 3, true) // gates multiply
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		g    *Graph[float64]
		want bool
	}{
		{"mlp linear", mlp("linear"), true},
		{"mlp tanh", mlp("tanh"), false},
		{"mlp relu", mlp("relu"), false},
		{"cnn avgpool", seq("avgpool"), true},
		{"cnn maxpool", seq("maxpool"), false},
		{"skipmlp mupc linear", skip("linear"), true},
		{"skipmlp gelu", skip("gelu"), false},
		{"rnn", rnn, false},
		{"lstm", lstm, false},
	} {
		if got := c.g.Linear(); got != c.want {
			t.Errorf("%s: Linear() = %v, want %v", c.name, got, c.want)
		}
	}
}
