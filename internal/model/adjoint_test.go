package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Adjoints gives δ_v = ∂ℓ/∂mu_v per sample without touching any Grad
// buffer: on a graph with a skip edge and a shared use, δ_v of every
// vertex with a bias equals the finite-difference derivative of the
// sample's loss with respect to that bias (mu_v moves one-for-one with
// it), sample by sample; the Grad buffers stay as they were.
func TestAdjointsFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	g, err := NewGraphFromSpecs[float64](Shape{4}, []VertexSpec{
		{Name: "a", Op: "dense", In: []string{"input"}, Out: 5},
		{Name: "b", Op: "dense", In: []string{"a"}, Out: 5, Act: []string{"tanh"}},
		{Name: "c", Op: "dense", In: []string{"b", "a"}, Out: 4, Act: []string{"gelu", "sigmoid"}},
		{Name: "out", Op: "dense", In: []string{"c"}, Out: 3, Act: []string{"tanh"}},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params() {
		for i := range p.Grad.Data {
			p.Grad.Data[i] = 7 // must survive
		}
	}
	loss, _ := NewLoss[float64]("ce")
	x := randMat(rng, 3, 4)
	labels := []int{0, 2, 1}
	ws := NewWorkspace(g)
	g.Adjoints(ws, x, labels, loss)
	for _, p := range g.Params() {
		for _, v := range p.Grad.Data {
			if v != 7 {
				t.Fatalf("Adjoints changed %s's gradient", p.Name)
			}
		}
	}
	ws2 := NewWorkspace(g)
	sampleLoss := func(b int) float64 {
		one := &Mat[float64]{Rows: 1, Cols: 4, Data: x.Row(b)}
		logits := g.Forward(ws2, one)
		return loss.OutputError(&Mat[float64]{}, logits, labels[b:b+1])
	}
	checked := 0
	for v, vx := range g.Vertices {
		if v == 0 || vx.Identity {
			continue
		}
		var bias *Param[float64]
		for _, p := range g.Params() {
			if p.Name == vx.Name+".bias" {
				bias = p
			}
		}
		if bias == nil {
			continue
		}
		for b := 0; b < x.Rows; b++ {
			for j := range bias.Value.Data {
				const h = 1e-6
				old := bias.Value.Data[j]
				bias.Value.Data[j] = old + h
				lp := sampleLoss(b)
				bias.Value.Data[j] = old - h
				lm := sampleLoss(b)
				bias.Value.Data[j] = old
				fd := (lp - lm) / (2 * h)
				if got := ws.Delta(v).Row(b)[j]; math.Abs(fd-got) > 1e-8 {
					t.Fatalf("vertex %s, sample %d, unit %d: δ = %g, finite differences %g", vx.Name, b, j, got, fd)
				}
				checked++
			}
		}
	}
	if checked < 40 {
		t.Fatalf("only %d adjoints checked", checked)
	}
}
