package train

import (
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/optim"
)

// A training step allocates nothing once its buffers are sized: every
// method's gradient and the optimizer step, on an MLP, a CNN and a graph
// with tied weights (an RNN).
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
		{"cnn", []int{1, 28, 28}, 10, mnistCNN},
		{"rnn", []int{784}, 10, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Steps = "rnn", 16, 28 }},
	}
	for _, c := range cases {
		for _, method := range []string{"bp", "pc", "zil", "fa-zil"} {
			cfg := config.Default()
			cfg.Method = method
			cfg.PC.Steps = 3
			c.mutate(&cfg)
			g, loss, x, labels := benchSetup(nil, &cfg, c.shape, c.classes)
			m, err := NewMethod(method, &cfg, g, loss)
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
