package train

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/rule"
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

// benchSetup builds an initialised float32 model for cfg and a random batch
// of 128 samples of the given shape.
func benchSetup(b testing.TB, cfg *config.Config, shape []int, classes int) (*model.Graph[float32], model.Loss[float32], *tensor.Mat[float32], []int) {
	g, err := BuildModel[float32](cfg, shape, classes)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if err := g.Init(rng, "default"); err != nil {
		b.Fatal(err)
	}
	loss, _ := model.NewLoss[float32](cfg.Loss)
	const bs = 128
	x := tensor.New[float32](bs, model.Shape(shape).Size())
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	labels := make([]int, bs)
	for i := range labels {
		labels[i] = rng.IntN(classes)
	}
	return g, loss, x, labels
}

// benchModel measures one training step on random inputs of the given
// sample shape.
func benchModel(b *testing.B, method string, shape []int, classes int, mutate func(*config.Config)) {
	cfg := config.Default()
	cfg.Method = method
	mutate(&cfg)
	g, loss, x, labels := benchSetup(b, &cfg, shape, classes)
	m, err := NewMethod(method, &cfg, g, loss)
	if err != nil {
		b.Fatal(err)
	}
	opt, _ := optim.New(optim.Settings{Name: "adamw"}, g.Params())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Grad(x, labels)
		opt.Step(1e-4)
	}
	b.ReportMetric(float64(x.Rows*b.N)/b.Elapsed().Seconds(), "samples/s")
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

// BenchmarkRatioZILOverBP times Z-IL (sequential) and BP steps back to back
// on the same weights and batch, so machine noise hits both alike, and
// reports the median ratio over the pairs (and the ratio of the totals)
// (PC-SPEC: Z-IL costs what BP costs; the AAAI paper reports 1.01–1.03).
func BenchmarkRatioZILOverBP(b *testing.B) { benchRatio(b, "zil", mnistMLP, nil) }

// BenchmarkRatioPC8OverBP is the same for inference learning with T = 8.
func BenchmarkRatioPC8OverBP(b *testing.B) { benchRatio(b, "pc", mnistMLP, nil) }

// BenchmarkRatioZILParallelOverBP: the parallel schedule does ≈ depth× the work.
func BenchmarkRatioZILParallelOverBP(b *testing.B) {
	benchRatio(b, "zil", mnistMLP, func(c *config.Config) { c.ZIL.Schedule = "parallel" })
}

// benchRatio times gradient computations only; BenchmarkRatioUpdate*
// include the optimizer step both methods share.
func benchRatio(b *testing.B, method string, sizes []int, mutate func(*config.Config)) {
	benchRatioOpt(b, method, sizes, mutate, false)
}

func BenchmarkRatioUpdateZILOverBP(b *testing.B) { benchRatioOpt(b, "zil", mnistMLP, nil, true) }

func benchRatioOpt(b *testing.B, method string, sizes []int, mutate func(*config.Config), withOpt bool) {
	cfg := config.Default()
	cfg.Model.Sizes = sizes
	if mutate != nil {
		mutate(&cfg)
	}
	g, loss, x, labels := benchSetup(b, &cfg, []int{sizes[0]}, sizes[len(sizes)-1])
	m0, _ := NewMethod(method, &cfg, g, loss)
	bp0, _ := NewMethod("bp", &cfg, g, loss)
	opt, _ := optim.New(optim.Settings{Name: "adamw"}, g.Params())
	m, bp := m0, bp0
	if withOpt {
		m = stepping[float32]{m0, opt}
		bp = stepping[float32]{bp0, opt}
	}
	var tm, tb time.Duration
	ratios := make([]float64, b.N)
	for i := 0; i < 5; i++ { // warm up buffers
		m.Grad(x, labels)
		bp.Grad(x, labels)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate the order so neither method always runs on a cache
		// the other warmed.
		var dm, db time.Duration
		if i%2 == 0 {
			s := time.Now()
			bp.Grad(x, labels)
			db = time.Since(s)
		}
		s := time.Now()
		m.Grad(x, labels)
		dm = time.Since(s)
		if i%2 == 1 {
			s := time.Now()
			bp.Grad(x, labels)
			db = time.Since(s)
		}
		tm += dm
		tb += db
		ratios[i] = float64(dm) / float64(db)
	}
	// The median of the per-step ratios (each pair run back to back) is
	// what noise on a shared machine moves least; the ratio of the totals
	// follows.
	sort.Float64s(ratios)
	b.ReportMetric(ratios[len(ratios)/2], method+"/bp")
	b.ReportMetric(float64(tm)/float64(tb), method+"/bp(total)")
	b.ReportMetric(float64(tm.Microseconds())/float64(b.N), "µs/"+method)
	b.ReportMetric(float64(tb.Microseconds())/float64(b.N), "µs/bp")
}

// stepping adds the optimizer step to a method's Grad, making one update.
type stepping[T tensor.Float] struct {
	Method[T]
	opt *optim.Optimizer[T]
}

func (s stepping[T]) Grad(x *tensor.Mat[T], labels []int) relax.Result {
	r := s.Method.Grad(x, labels)
	s.opt.Step(1e-12)
	return r
}

// The reference MLP of `make bench` (bench/torch_ref.py): 784-256-256-10,
// tanh, softmax cross-entropy, AdamW, batch 128, float32; PC with T = 20.
var refMLP = []int{784, 256, 256, 10}

func refSettings(c *config.Config) {
	c.Model.Activation = "tanh"
	c.PC.Steps, c.PC.XLR, c.PC.XMomentum = 20, 0.05, 0.5
}

func BenchmarkRefMLPBP(b *testing.B)   { benchStep(b, "bp", refMLP, refSettings) }
func BenchmarkRefMLPPC20(b *testing.B) { benchStep(b, "pc", refMLP, refSettings) }
func BenchmarkRefMLPZIL(b *testing.B)  { benchStep(b, "zil", refMLP, refSettings) }

// iPC with T = 20 takes an optimizer step at every inference step (the
// trainer's Update), so its benchmark does too; ePC with T = 5 (ePC's
// setting; issue 17 judges it against bp).
func BenchmarkRefMLPIPC20(b *testing.B) {
	cfg := config.Default()
	cfg.Method, cfg.Model.Sizes = "ipc", refMLP
	refSettings(&cfg)
	g, loss, x, labels := benchSetup(b, &cfg, []int{784}, 10)
	info, _ := rule.Lookup("ipc")
	r, err := rule.New(info, rule.Env[float32]{Cfg: &cfg, G: g, Loss: loss})
	if err != nil {
		b.Fatal(err)
	}
	opt, _ := optim.New(optim.Settings{Name: "adamw"}, g.Params())
	u := optUpdater{func() { opt.Step(1e-4) }}
	batch := rule.Batch[float32]{X: x, Labels: labels}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Step(context.Background(), &batch, u); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(x.Rows*b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkRefMLPEPC5(b *testing.B) {
	benchStep(b, "epc", refMLP, func(c *config.Config) { refSettings(c); c.PC.Steps, c.PC.XLR, c.PC.XMomentum = 5, 0.01, 0 })
}

// optUpdater is a rule.Updater that takes an optimizer step.
type optUpdater struct{ step func() }

func (u optUpdater) Update() error { u.step(); return nil }

// The reference MLP with each batch split over two cores (train.threads 2).
func BenchmarkRefMLPBPSplit2(b *testing.B)   { benchSplit(b, "bp") }
func BenchmarkRefMLPPC20Split2(b *testing.B) { benchSplit(b, "pc") }

func benchSplit(b *testing.B, method string) {
	benchSplitModel(b, method, []int{784}, func(c *config.Config) { c.Model.Sizes = refMLP; refSettings(c) })
}

// VGG-5 with each batch split over two cores.
func BenchmarkVGG5StepBPSplit2(b *testing.B) {
	benchSplitModel(b, "bp", []int{3, 32, 32}, func(c *config.Config) { c.Model.Type = "vgg5" })
}
func BenchmarkVGG5StepPC7Split2(b *testing.B) {
	benchSplitModel(b, "pc", []int{3, 32, 32}, func(c *config.Config) { c.Model.Type = "vgg5"; c.PC.Steps = 7 })
}

func benchSplitModel(b *testing.B, method string, shape []int, mutate func(*config.Config)) {
	cfg := config.Default()
	cfg.Method = method
	mutate(&cfg)
	g, loss, x, labels := benchSetup(b, &cfg, shape, 10)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // newSplit raises it
	m, err := newSplitMethod(2, &cfg, g, shape, 10, loss)
	if err != nil {
		b.Fatal(err)
	}
	opt, _ := optim.New(optim.Settings{Name: "adamw"}, g.Params())
	m.Grad(x, labels)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Grad(x, labels)
		opt.Step(1e-4)
	}
	b.ReportMetric(float64(x.Rows*b.N)/b.Elapsed().Seconds(), "samples/s")
}

// The depth curve's skipmlp (configs/depth/): width 128, gelu, batch 64,
// float32, standard parameterisation; pc with T = 20, epc with T = 5 (the
// configs' settings). GFLOP/s counts the matmuls: bp 3 passes of every
// weight but W_1's input gradient; pc and epc as their passes below.
func benchSkipMLP(b *testing.B, method string, depth int) {
	cfg := config.Default()
	cfg.Method = method
	cfg.Model.Type, cfg.Model.Depth, cfg.Model.Hidden, cfg.Model.Activation = "skipmlp", depth, 128, "gelu"
	cfg.PC.Steps, cfg.PC.XLR, cfg.PC.XMomentum = 20, 0.1, 0
	if method == "epc" {
		cfg.PC.Steps, cfg.PC.XLR = 5, 0.01
	}
	g, loss, x, labels := benchSetup(b, &cfg, []int{784}, 10)
	const bs = 64
	x.Resize(bs, x.Cols)
	labels = labels[:bs]
	m, err := NewMethod(method, &cfg, g, loss)
	if err != nil {
		b.Fatal(err)
	}
	opt, _ := optim.New(optim.Settings{Name: "adam"}, g.Params())
	skipMLPSteps(m, opt, x, labels, 1)
	b.ResetTimer()
	skipMLPSteps(m, opt, x, labels, b.N)
	// Multiply–adds per sample of one pass: input layer, hidden layers, output.
	w0, wh, wo := 784.0*128, float64(depth-1)*128*128, 128.0*10
	T := float64(cfg.PC.Steps)
	var passes float64 // in units of one pass over the hidden and output weights
	switch method {
	case "bp": // forward, input gradients, weight gradients
		passes = 3
	case "epc": // T+1 forwards, T reverse passes, one weight gradient
		passes = 2*T + 2
	default: // pc: T+1 predictions, T error VJPs, one weight gradient
		passes = 2*T + 2
	}
	flops := 2 * bs * (passes*(wh+wo) + 2*w0)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(bs*b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkSkipMLP4BP(b *testing.B)    { benchSkipMLP(b, "bp", 4) }
func BenchmarkSkipMLP4EPC(b *testing.B)   { benchSkipMLP(b, "epc", 4) }
func BenchmarkSkipMLP16BP(b *testing.B)   { benchSkipMLP(b, "bp", 16) }
func BenchmarkSkipMLP16EPC(b *testing.B)  { benchSkipMLP(b, "epc", 16) }
func BenchmarkSkipMLP128BP(b *testing.B)  { benchSkipMLP(b, "bp", 128) }
func BenchmarkSkipMLP128PC(b *testing.B)  { benchSkipMLP(b, "pc", 128) }
func BenchmarkSkipMLP128EPC(b *testing.B) { benchSkipMLP(b, "epc", 128) }

// skipMLPSteps runs n training steps; its own function so that callgrind
// can count the steps alone (--toggle-collect='*skipMLPSteps*').
func skipMLPSteps(m Method[float32], opt *optim.Optimizer[float32], x *tensor.Mat[float32], labels []int, n int) {
	for i := 0; i < n; i++ {
		m.Grad(x, labels)
		opt.Step(1e-4)
	}
}
