package optim

import (
	"math"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// torchStep is one step of PyTorch's optimizers for a flat vector, written
// from torch.optim's documented algorithms (SGD: weight decay g += wd·p;
// momentum b = g on the first step, then b = μ·b + g; Nesterov g += μ·b,
// else g = b; p −= lr·g. Adam: g += wd·p; AdamW: p ·= 1 − lr·wd; m, v
// moving averages; p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps)).
type torchState struct {
	s       Settings
	b, m, v []float64
	t       int
}

func (st *torchState) step(p, g []float64, lr float64) {
	if st.b == nil {
		st.b, st.m, st.v = make([]float64, len(p)), make([]float64, len(p)), make([]float64, len(p))
	}
	st.t++
	s := st.s
	for i := range p {
		gi := g[i]
		switch s.Name {
		case "sgd":
			gi += s.WeightDecay * p[i]
			if s.Momentum != 0 {
				if st.t == 1 {
					st.b[i] = gi
				} else {
					st.b[i] = s.Momentum*st.b[i] + gi
				}
				if s.Nesterov {
					gi += s.Momentum * st.b[i]
				} else {
					gi = st.b[i]
				}
			}
			p[i] -= lr * gi
		case "adam", "adamw":
			if s.Name == "adamw" {
				p[i] *= 1 - lr*s.WeightDecay
			} else {
				gi += s.WeightDecay * p[i]
			}
			st.m[i] = 0.9*st.m[i] + 0.1*gi
			st.v[i] = 0.999*st.v[i] + 0.001*gi*gi
			bc1 := 1 - math.Pow(0.9, float64(st.t))
			bc2 := 1 - math.Pow(0.999, float64(st.t))
			p[i] -= lr / bc1 * st.m[i] / (math.Sqrt(st.v[i])/math.Sqrt(bc2) + 1e-8)
		}
	}
}

// Every optimizer setting follows PyTorch's update rule over several steps
// with changing gradients and learning rates (float64 to 1e-13, float32 to
// float32 rounding). A failure names the rule and the step: e.g. Nesterov
// without its gradient term, or SGD/Adam ignoring weight decay.
func TestOptimizersFollowTorchRules(t *testing.T) {
	cases := []Settings{
		{Name: "sgd"},
		{Name: "sgd", WeightDecay: 0.1},
		{Name: "sgd", Momentum: 0.9},
		{Name: "sgd", Momentum: 0.9, WeightDecay: 0.05},
		{Name: "sgd", Momentum: 0.8, Nesterov: true},
		{Name: "sgd", Momentum: 0.8, Nesterov: true, WeightDecay: 0.2},
		{Name: "adam"},
		{Name: "adam", WeightDecay: 0.1},
		{Name: "adamw"},
		{Name: "adamw", WeightDecay: 0.3},
	}
	init := []float64{0.5, -1.2, 3, 1e-3, -7, 0.25}
	grad := func(step, i int) float64 { return math.Sin(float64(3*step+i)+0.5) * float64(i+1) }
	lr := func(step int) float64 { return 0.05 / float64(step+1) }
	for _, s := range cases {
		p64 := &model.Param[float64]{Name: "p", Value: tensor.FromSlice(2, 3, append([]float64(nil), init...)), Grad: tensor.New[float64](2, 3)}
		v32 := make([]float32, len(init))
		for i, v := range init {
			v32[i] = float32(v)
		}
		p32 := &model.Param[float32]{Name: "p", Value: tensor.FromSlice(2, 3, v32), Grad: tensor.New[float32](2, 3)}
		o64, err := New(s, []*model.Param[float64]{p64})
		if err != nil {
			t.Fatal(err)
		}
		o32, _ := New(s, []*model.Param[float32]{p32})
		ref := &torchState{s: s}
		want := append([]float64(nil), init...)
		for step := 0; step < 6; step++ {
			g := make([]float64, len(init))
			for i := range g {
				g[i] = grad(step, i)
				p64.Grad.Data[i] = g[i]
				p32.Grad.Data[i] = float32(g[i])
			}
			ref.step(want, g, lr(step))
			o64.Step(lr(step))
			o32.Step(lr(step))
			for i := range want {
				if d := math.Abs(p64.Value.Data[i] - want[i]); d > 1e-13*(1+math.Abs(want[i])) {
					t.Fatalf("%+v float64, step %d: p[%d] = %.17g, PyTorch's rule gives %.17g", s, step+1, i, p64.Value.Data[i], want[i])
				}
				if d := math.Abs(float64(p32.Value.Data[i]) - want[i]); d > 1e-5*(1+math.Abs(want[i])) {
					t.Fatalf("%+v float32, step %d: p[%d] = %g, PyTorch's rule gives %g", s, step+1, i, p32.Value.Data[i], want[i])
				}
			}
		}
		if o64.StepCount != 6 {
			t.Errorf("%+v: step count %d after 6 steps", s, o64.StepCount)
		}
	}
}

// The schedule against its closed form: linear warm-up Base·(k+1)/W for
// k < W, then min + ½(Base − min)(1 + cos(π·(k − W)/(Total − W))), held at
// min from Total on; constant ignores Total but keeps the warm-up.
func TestScheduleClosedForm(t *testing.T) {
	s := Schedule{Name: "cosine", Base: 0.4, Warmup: 5, Total: 45, MinLR: 0.01}
	for k := 0; k < 60; k++ {
		var want float64
		switch {
		case k < 5:
			want = 0.4 * float64(k+1) / 5
		case k >= 45:
			want = 0.01
		default:
			want = 0.01 + 0.5*(0.4-0.01)*(1+math.Cos(math.Pi*float64(k-5)/40))
		}
		if got := s.LR(k); math.Abs(got-want) > 1e-15 {
			t.Fatalf("cosine LR(%d) = %.17g, want %.17g", k, got, want)
		}
	}
	c := Schedule{Name: "constant", Base: 0.3, Warmup: 3, Total: 10}
	for k, want := range map[int]float64{0: 0.1, 1: 0.2, 2: 0.3, 3: 0.3, 100: 0.3} {
		if got := c.LR(k); math.Abs(got-want) > 1e-15 {
			t.Errorf("constant LR(%d) = %g, want %g", k, got, want)
		}
	}
}
