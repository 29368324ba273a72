package train

import (
	"math"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/rule"
)

// A training step allocates nothing once its buffers are sized: every
// method's gradient (ePC's too) and the optimizer step, on an MLP, a CNN,
// a graph with tied weights (an RNN) and the depth curve's skipmlp under
// both parameterisations (scalings passed through, and applied).
func TestStepDoesNotAllocate(t *testing.T) {
	if !strings.HasPrefix(tensor.BackendName(), "OpenBLAS") {
		t.Skipf("backend %s: gonum's pure-Go GEMM allocates for its worker goroutines; build with -tags openblas", tensor.BackendName())
	}
	cases := []struct {
		name    string
		shape   []int
		classes int
		mutate  func(*config.Config)
	}{
		{"mlp", []int{784}, 10, func(c *config.Config) { c.Model.Sizes = []int{784, 32, 32, 10} }},
		{"mlp-split", []int{784}, 10, func(c *config.Config) { c.Model.Sizes = []int{784, 32, 32, 10} }},
		{"cnn", []int{1, 28, 28}, 10, mnistCNN},
		{"rnn", []int{784}, 10, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Steps = "rnn", 16, 28 }},
		{"skipmlp", []int{784}, 10, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Depth = "skipmlp", 16, 4 }},
		{"skipmlp-split", []int{784}, 10, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Depth = "skipmlp", 16, 4 }},
		{"skipmlp-mupc", []int{784}, 10, func(c *config.Config) {
			c.Model.Type, c.Model.Hidden, c.Model.Depth, c.Model.Parameterization = "skipmlp", 16, 4, "mupc"
		}},
	}
	for _, c := range cases {
		for _, method := range rule.Names() {
			cfg := config.Default()
			cfg.Method = method
			cfg.PC.Steps = 3
			c.mutate(&cfg)
			if rule.Check(&cfg, "") != nil {
				continue // the rule does not run on this model (dfa on an rnn)
			}
			g, loss, x, labels := benchSetup(nil, &cfg, c.shape, c.classes)
			var m Method[float32]
			var err error
			if strings.HasSuffix(c.name, "-split") {
				m, err = newSplitMethod(2, &cfg, g, c.shape, c.classes, loss)
			} else {
				m, err = NewMethod(method, &cfg, g, loss)
			}
			if err != nil {
				t.Fatal(err)
			}
			opt, _ := optim.New(optim.Settings{Name: "adamw"}, g.Params())
			x.Resize(16, x.Cols)
			labels = labels[:16]
			step := func() {
				m.Grad(x, labels)
				opt.Step(1e-4)
			}
			step()
			if n := testing.AllocsPerRun(5, step); n != 0 {
				t.Errorf("%s/%s: %g allocations per step", c.name, method, n)
			}
		}
	}
}

// Splitting a batch across parts gives the batch-mean gradient of the whole
// batch (to rounding, float64) and the same summed loss and correct count.
func TestSplitMatchesWholeBatch(t *testing.T) {
	for _, method := range []string{"bp", "pc", "zil"} {
		cfg := config.Default()
		cfg.Method = method
		cfg.Model.Sizes = []int{784, 24, 16, 10}
		g, err := BuildModel[float64](&cfg, []int{784}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Init(rngFor(3, 1), "default"); err != nil {
			t.Fatal(err)
		}
		loss, _ := model.NewLoss[float64]("ce")
		whole, _ := NewMethod(method, &cfg, g, loss)
		x := tensor.New[float64](37, 784) // an odd size: parts of 12, 12, 13
		rng := rngFor(4, 1)
		for i := range x.Data {
			x.Data[i] = rng.NormFloat64()
		}
		labels := make([]int, 37)
		for i := range labels {
			labels[i] = rng.IntN(10)
		}
		rw := whole.Grad(x, labels)
		var want [][]float64
		for _, p := range g.Params() {
			want = append(want, append([]float64(nil), p.Grad.Data...))
		}
		sp, err := newSplitMethod(3, &cfg, g, []int{784}, 10, loss)
		if err != nil {
			t.Fatal(err)
		}
		rs := sp.Grad(x, labels)
		if math.Abs(rs.Loss-rw.Loss) > 1e-12*rw.Loss || rs.Correct != rw.Correct || math.Abs(rs.Energy-rw.Energy) > 1e-12*(1+rw.Energy) {
			t.Errorf("%s: split result %+v, whole batch %+v", method, rs, rw)
		}
		for i, p := range g.Params() {
			for j, v := range p.Grad.Data {
				if math.Abs(v-want[i][j]) > 1e-12*(1+math.Abs(want[i][j])) {
					t.Fatalf("%s: %s[%d] = %g split, %g whole", method, p.Name, j, v, want[i][j])
				}
			}
		}
	}
}
