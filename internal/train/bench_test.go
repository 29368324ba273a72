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
	benchModel(b, method, []int{sizes[0]}, sizes[len(sizes)-1], func(c *config.Config) {
		c.Model.Sizes = sizes
		if mutate != nil {
			mutate(c)
		}
	})
}

// benchModel measures one training step on random inputs of the given
// sample shape.
func benchModel(b *testing.B, method string, shape []int, classes int, mutate func(*config.Config)) {
	cfg := config.Default()
	cfg.Method = method
	mutate(&cfg)
	g, err := BuildModel[float32](&cfg, shape, classes)
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
	x := tensor.New[float32](bs, model.Shape(shape).Size())
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	labels := make([]int, bs)
	for i := range labels {
		labels[i] = rng.IntN(classes)
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

func mnistCNN(c *config.Config) {
	c.Model.Type = "cnn"
	c.Model.Layers = []map[string]any{
		{"conv": map[string]any{"out": 16, "kernel": 5}}, {"act": "gelu"}, {"maxpool": 2},
		{"conv": map[string]any{"out": 32, "kernel": 5}}, {"act": "gelu"}, {"maxpool": 2},
		{"flatten": map[string]any{}}, {"dense": map[string]any{"out": 10}},
	}
}

func BenchmarkCNNStepBP(b *testing.B)  { benchModel(b, "bp", []int{1, 28, 28}, 10, mnistCNN) }
func BenchmarkCNNStepPC8(b *testing.B) { benchModel(b, "pc", []int{1, 28, 28}, 10, mnistCNN) }
func BenchmarkCNNStepZIL(b *testing.B) { benchModel(b, "zil", []int{1, 28, 28}, 10, mnistCNN) }
func BenchmarkVGG5StepBP(b *testing.B) {
	benchModel(b, "bp", []int{3, 32, 32}, 10, func(c *config.Config) { c.Model.Type = "vgg5" })
}
func BenchmarkVGG5StepPC7(b *testing.B) {
	benchModel(b, "pc", []int{3, 32, 32}, 10, func(c *config.Config) { c.Model.Type = "vgg5"; c.PC.Steps = 7 })
}
