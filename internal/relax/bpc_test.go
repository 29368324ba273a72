package relax

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// bpcNet is a bidirectional chain of sizes (and its reverse, top-down),
// initialised from rng.
func bpcNet(t *testing.T, rng *rand.Rand, sizes []int, act string) *model.Graph[float64] {
	t.Helper()
	g, err := model.NewMLP[float64](model.MLPSpec{Sizes: sizes, Activation: act, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(sizes)
	slices.Reverse(rev)
	h, err := model.NewMLP[float64](model.MLPSpec{Sizes: rev, Activation: act, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Bidirectional(g, h); err != nil {
		t.Fatal(err)
	}
	if err := g.Init(rng, "default"); err != nil {
		t.Fatal(err)
	}
	return g
}

// ∂F/∂x_v and ∂F/∂θ of bPC's summed energy (both directions, α ≠ 1, away
// from the feed-forward state so every error is non-zero) equal central
// finite differences of F, for both losses. A sign error in the top-down
// term, a wrong index pairing a vertex with the top-down prediction it
// feeds, or a missing α fails here.
func TestBPCGradientsFiniteDifferences(t *testing.T) {
	for _, lossName := range []string{"ce", "mse"} {
		t.Run(lossName, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			g := bpcNet(t, rng, []int{4, 6, 5, 3}, "tanh")
			loss, err := model.NewLoss[float64](lossName)
			if err != nil {
				t.Fatal(err)
			}
			const B = 3
			labels := []int{0, 2, 1}
			b := NewBPC(NewState(g, loss), 0.7)
			b.Start(randMat(rng, B, 4), labels)
			xs := b.Values()
			for v := 1; v < g.Output(); v++ {
				for i := range xs[v].Data {
					xs[v].Data[i] += 0.3 * rng.NormFloat64()
				}
			}
			g.ZeroGrad()
			grads := snapshot(b.Gradients(labels)[:g.Output()])
			const h = 1e-6
			for v := 1; v < g.Output(); v++ {
				for i := range xs[v].Data {
					old := xs[v].Data[i]
					xs[v].Data[i] = old + h
					fp := b.EnergyNow(labels) * B
					xs[v].Data[i] = old - h
					fm := b.EnergyNow(labels) * B
					xs[v].Data[i] = old
					fd := (fp - fm) / (2 * h)
					if d := math.Abs(fd - grads[v][i]); !(d <= 1e-7*(1+math.Abs(fd))) {
						t.Errorf("vertex %d unit %d: ∂F/∂x = %.10g, finite differences %.10g", v, i, grads[v][i], fd)
					}
				}
			}
			topdown := 0
			for _, p := range g.Params() {
				if strings.HasPrefix(p.Name, "topdown.") {
					topdown++
				}
				for i := range p.Value.Data {
					old := p.Value.Data[i]
					p.Value.Data[i] = old + h
					fp := b.EnergyNow(labels)
					p.Value.Data[i] = old - h
					fm := b.EnergyNow(labels)
					p.Value.Data[i] = old
					fd := (fp - fm) / (2 * h)
					if d := math.Abs(fd - p.Grad.Data[i]); !(d <= 1e-7*(1+math.Abs(fd))) {
						t.Errorf("%s[%d]: ∂F/∂θ = %.10g, finite differences %.10g", p.Name, i, p.Grad.Data[i], fd)
					}
				}
			}
			if topdown != 6 {
				t.Errorf("%d top-down parameters, want 6 (3 layers × weight, bias)", topdown)
			}
		})
	}
}

// With α = 0 bPC is IL bit for bit: the same value nodes after T steps,
// the same energy, and the same gradients of the bottom-up parameters
// (the top-down ones get exactly zero).
func TestBPCWithZeroTopDownWeightIsIL(t *testing.T) {
	sizes := []int{4, 7, 6, 3}
	g := bpcNet(t, rand.New(rand.NewPCG(9, 10)), sizes, "gelu")
	ref, err := model.NewMLP[float64](model.MLPSpec{Sizes: sizes, Activation: "gelu", Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ref.Params() {
		p.Value.CopyFrom(g.Params()[i].Value)
	}
	loss, _ := model.NewLoss[float64]("ce")
	rng := rand.New(rand.NewPCG(1, 2))
	x := randMat(rng, 5, 4)
	labels := []int{0, 1, 2, 1, 0}
	s := ILSettings{Steps: 6, LR: 0.1, Momentum: 0.6}
	g.ZeroGrad()
	rb, err := NewBPC(NewState(g, loss), 0).Run(context.Background(), x, labels, s)
	if err != nil {
		t.Fatal(err)
	}
	ref.ZeroGrad()
	il := NewIL(NewState(ref, loss))
	ri, err := il.Run(context.Background(), x, labels, s)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Energy != ri.Energy || rb.Loss != ri.Loss {
		t.Errorf("energy %v, loss %v; IL: %v, %v", rb.Energy, rb.Loss, ri.Energy, ri.Loss)
	}
	for i, p := range g.Params() {
		if i < len(ref.Params()) {
			if !slices.Equal(p.Grad.Data, ref.Params()[i].Grad.Data) {
				t.Errorf("%s: gradient differs from IL's", p.Name)
			}
		} else if tensor.SumSq(p.Grad.Data) != 0 {
			t.Errorf("%s: gradient %v with α = 0, want 0", p.Name, p.Grad.Data)
		}
	}
	if tensor.SumSq(ref.Params()[0].Grad.Data) == 0 {
		t.Error("IL's gradient is zero: the case is vacuous")
	}
}
