package model

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// A layer with Feedback = B sends dy back as a layer whose weight is B
// would (dx = J_Bᵀ·dy), and still adds the weight gradient of its own W
// (RULES.md §5: only the input VJP changes). Dense and conv (grouped
// samples included: 5 samples of a 4×4 map share GEMMs).
func TestFeedbackReplacesWeightInInputVJPOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	conv := func() FeedbackLayer[float64] {
		c, err := NewConv2D[float64]("c", Shape{2, 4, 4}, 3, 3, 1, 1, true)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	dense := func() FeedbackLayer[float64] { return NewDense[float64]("d", 6, 4, true) }
	for name, mk := range map[string]func() FeedbackLayer[float64]{"dense": dense, "conv": conv} {
		withB, asB := mk(), mk()
		for i, p := range withB.Params() {
			copy(p.Value.Data, randMat(rng, p.Value.Rows, p.Value.Cols).Data)
			copy(asB.Params()[i].Value.Data, p.Value.Data)
		}
		w := withB.Weight()
		b := randMat(rng, w.Value.Rows, w.Value.Cols)
		copy(asB.Weight().Value.Data, b.Data)
		withB.SetFeedback(b)
		in := 6
		if name == "conv" {
			in = 32
		}
		x := randMat(rng, 5, in)
		var y1, y2 Mat[float64]
		withB.Forward(&y1, x)
		// Forward uses W, not B.
		plain := mk()
		for i, p := range plain.Params() {
			copy(p.Value.Data, withB.Params()[i].Value.Data)
		}
		plain.Forward(&y2, x)
		if !slices.Equal(y1.Data, y2.Data) {
			t.Fatalf("%s: Feedback changed the forward pass", name)
		}
		dy := randMat(rng, y1.Rows, y1.Cols)
		var dx1, dx2, dx3 Mat[float64]
		withB.VJP(&dx1, x, &y1, dy, true, 1)
		asB.VJP(&dx2, x, &y1, dy, false, 1)
		plain.VJP(&dx3, x, &y1, dy, true, 1)
		if !slices.Equal(dx1.Data, dx2.Data) {
			t.Errorf("%s: the input gradient with Feedback B is not that of weight B", name)
		}
		for i, p := range withB.Params() {
			if !slices.Equal(p.Grad.Data, plain.Params()[i].Grad.Data) {
				t.Errorf("%s: %s's gradient changed with Feedback", name, p.Name)
			}
		}
		withB.SetFeedback(nil)
		var dx4 Mat[float64]
		withB.VJP(&dx4, x, &y1, dy, false, 1)
		if !slices.Equal(dx4.Data, dx3.Data) {
			t.Errorf("%s: SetFeedback(nil) does not restore W", name)
		}
	}
}
