package train

import (
	"math/rand/v2"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/tensor"
)

// benchStep measures one training step (gradients + optimizer) of a method
// on the MNIST MLP shape with random data, float32, batch 128.
func benchStep(b *testing.B, method string, sizes []int, mutate func(*config.Config)) {
	cfg := config.Default()
	cfg.Method = method
	cfg.Model.Sizes = sizes
	if mutate != nil {
		mutate(&cfg)
	}
	g, err := BuildModel[float32](&cfg, []int{sizes[0]}, sizes[len(sizes)-1])
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if err := g.Init(rng, "default"); err != nil {
		b.Fatal(err)
	}
	loss, _ := model.NewLoss[float32](cfg.Loss)
	m, err := NewMethod(method, &cfg, g, loss)
	if err != nil {
		b.Fatal(err)
	}
	opt, _ := optim.New(optim.Settings{Name: "adamw"}, g.Params())
	const bs = 128
	x := tensor.New[float32](bs, sizes[0])
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	labels := make([]int, bs)
	for i := range labels {
		labels[i] = rng.IntN(sizes[len(sizes)-1])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Grad(x, labels)
		opt.Step(1e-4)
	}
	b.ReportMetric(float64(bs*b.N)/b.Elapsed().Seconds(), "samples/s")
}

var mnistMLP = []int{784, 128, 128, 128, 10}

func BenchmarkStepBP(b *testing.B)  { benchStep(b, "bp", mnistMLP, nil) }
func BenchmarkStepPC8(b *testing.B) { benchStep(b, "pc", mnistMLP, nil) }
func BenchmarkStepZIL(b *testing.B) { benchStep(b, "zil", mnistMLP, nil) }
func BenchmarkStepZILParallel(b *testing.B) {
	benchStep(b, "zil", mnistMLP, func(c *config.Config) { c.ZIL.Schedule = "parallel" })
}
func BenchmarkStepFaZIL(b *testing.B) { benchStep(b, "fa-zil", mnistMLP, nil) }
