package optim

import (
	"math"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

func param(vals, grads []float64) *model.Param[float64] {
	return &model.Param[float64]{Name: "p", Value: tensor.FromSlice(1, len(vals), vals), Grad: tensor.FromSlice(1, len(grads), grads)}
}

// SGD with momentum, two steps worked by hand (PyTorch's form):
// v1 = g = 2, p1 = 1 − 0.1·2 = 0.8; v2 = 0.5·2 + 2 = 3, p2 = 0.8 − 0.3 = 0.5.
func TestSGDMomentumByHand(t *testing.T) {
	p := param([]float64{1}, []float64{2})
	o, err := New(Settings{Name: "sgd", Momentum: 0.5}, []*model.Param[float64]{p})
	if err != nil {
		t.Fatal(err)
	}
	o.Step(0.1)
	o.Step(0.1)
	if got := p.Value.Data[0]; math.Abs(got-0.5) > 1e-15 {
		t.Fatalf("p = %.17g, want 0.5", got)
	}
}

// Adam's first step moves each coordinate by lr·g/(|g|+eps') where the bias
// corrections cancel: m̂ = g, v̂ = g².
func TestAdamFirstStep(t *testing.T) {
	p := param([]float64{1, -1}, []float64{0.3, -4})
	o, _ := New(Settings{Name: "adam"}, []*model.Param[float64]{p})
	o.Step(0.01)
	want := []float64{1 - 0.01*0.3/(0.3+1e-8), -1 + 0.01*4/(4+1e-8)}
	for i := range want {
		if math.Abs(p.Value.Data[i]-want[i]) > 1e-15 {
			t.Fatalf("p[%d] = %.17g, want %.17g", i, p.Value.Data[i], want[i])
		}
	}
}

// AdamW decays the weight before the Adam step and keeps decay out of the
// moments; Adam's L2 goes into the gradient.
func TestWeightDecayForms(t *testing.T) {
	pw := param([]float64{2}, []float64{0})
	ow, _ := New(Settings{Name: "adamw", WeightDecay: 0.1}, []*model.Param[float64]{pw})
	ow.Step(0.5)
	// g = 0: the moments stay 0, only the decay acts: 2 − 0.5·0.1·2 = 1.9.
	if math.Abs(pw.Value.Data[0]-1.9) > 1e-15 {
		t.Fatalf("adamw: %g, want 1.9", pw.Value.Data[0])
	}
	pa := param([]float64{2}, []float64{0})
	oa, _ := New(Settings{Name: "adam", WeightDecay: 0.1}, []*model.Param[float64]{pa})
	oa.Step(0.5)
	// g_eff = 0.2, first Adam step moves by lr·sign = 0.5 (up to eps).
	if math.Abs(pa.Value.Data[0]-1.5) > 1e-6 {
		t.Fatalf("adam with L2: %g, want 1.5", pa.Value.Data[0])
	}
}

func TestUnknownOptimizer(t *testing.T) {
	if _, err := New[float64](Settings{Name: "rmsprop"}, nil); err == nil {
		t.Fatal("unknown optimizer accepted")
	}
}

func TestCosineSchedule(t *testing.T) {
	s := Schedule{Name: "cosine", Base: 1, Warmup: 10, Total: 110}
	cases := map[int]float64{0: 0.1, 9: 1, 10: 1, 60: 0.5, 110: 0}
	for step, want := range cases {
		if got := s.LR(step); math.Abs(got-want) > 1e-12 {
			t.Errorf("LR(%d) = %g, want %g", step, got, want)
		}
	}
	c := Schedule{Name: "constant", Base: 0.3}
	if c.LR(0) != 0.3 || c.LR(1000) != 0.3 {
		t.Error("constant schedule changed")
	}
}

// The float32 Adam path agrees with the float64 formulas to float32
// precision over many steps.
func TestAdamFloat32MatchesFloat64(t *testing.T) {
	vals := []float64{0.5, -1.2, 3, 1e-3, -7}
	p64 := param(append([]float64(nil), vals...), make([]float64, 5))
	v32 := make([]float32, 5)
	for i, v := range vals {
		v32[i] = float32(v)
	}
	p32 := &model.Param[float32]{Name: "p", Value: tensor.FromSlice(1, 5, v32), Grad: tensor.New[float32](1, 5)}
	for _, name := range []string{"adam", "adamw"} {
		o64, _ := New(Settings{Name: name, WeightDecay: 0.01}, []*model.Param[float64]{p64})
		o32, _ := New(Settings{Name: name, WeightDecay: 0.01}, []*model.Param[float32]{p32})
		for step := 0; step < 50; step++ {
			for i := range vals {
				g := math.Sin(float64(step*7+i)) * float64(i+1)
				p64.Grad.Data[i] = g
				p32.Grad.Data[i] = float32(g)
			}
			o64.Step(0.01)
			o32.Step(0.01)
		}
		for i := range vals {
			if d := math.Abs(float64(p32.Value.Data[i]) - p64.Value.Data[i]); d > 1e-5*(1+math.Abs(p64.Value.Data[i])) {
				t.Fatalf("%s: p[%d] float32 %g, float64 %g", name, i, p32.Value.Data[i], p64.Value.Data[i])
			}
		}
	}
}
