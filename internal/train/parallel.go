package train

import (
	"runtime"
	"sync"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// split runs a method on consecutive slices of the batch at once, one
// goroutine each: the coarse parallelism this 2-core VM rewards (waking a
// core costs ~0.1 ms, so each part does a whole batch's inference). Part 0
// works on the model's own graph; the others on copies whose parameters
// share the same values but keep their own gradients, which are then
// combined into the model's gradients in a fixed order: the batch-mean
// gradient is Σ_k (B_k/B)·g_k. Results depend on the number of parts, not
// on scheduling.
type split[T tensor.Float] struct {
	g      *model.Graph[T]
	parts  []Method[T]
	graphs []*model.Graph[T]
	res    []relax.Result
	levels []float64
	// Workers 1..n−1 are started once and wait on go_[k]; a step sends
	// their slices and waits on done, so steps allocate nothing.
	xs     []tensor.Mat[T]
	labels [][]int
	start  []chan struct{}
	done   chan struct{}
	once   sync.Once
}

// newSplit prepares n parts of method name on g. Each copy is built from
// cfg like g.
func newSplit[T tensor.Float](n int, cfg *config.Config, g *model.Graph[T], shape []int, classes int, loss model.Loss[T]) (*split[T], error) {
	// One scheduler slot more than workers. Every GEMM and C kernel is a
	// cgo call, which Go treats as a system call: with every P inside one,
	// the runtime's monitor takes the P away after 20 µs and the call's
	// return must queue for it again. A spare idle P stops that (reference
	// PC step on two cores: +15–25 %, measured with -test.cpu 2 vs 3).
	if runtime.GOMAXPROCS(0) <= n {
		runtime.GOMAXPROCS(n + 1)
	}
	s := &split[T]{g: g, res: make([]relax.Result, n)}
	for k := 0; k < n; k++ {
		gk := g
		if k > 0 {
			var err error
			if gk, err = BuildModel[T](cfg, shape, classes); err != nil {
				return nil, err
			}
			for i, p := range gk.Params() {
				p.Value = g.Params()[i].Value
			}
		}
		m, err := NewMethod(cfg.Method, cfg, gk, loss)
		if err != nil {
			return nil, err
		}
		s.parts = append(s.parts, m)
		s.graphs = append(s.graphs, gk)
	}
	return s, nil
}

func (s *split[T]) Name() string { return s.parts[0].Name() }

func (s *split[T]) startWorkers() {
	n := len(s.parts)
	s.xs = make([]tensor.Mat[T], n)
	s.labels = make([][]int, n)
	s.start = make([]chan struct{}, n)
	s.done = make(chan struct{}, n)
	for k := 1; k < n; k++ {
		s.start[k] = make(chan struct{})
		go func(k int) {
			for range s.start[k] {
				s.res[k] = s.parts[k].Grad(&s.xs[k], s.labels[k])
				s.done <- struct{}{}
			}
		}(k)
	}
}

func (s *split[T]) Grad(x *tensor.Mat[T], labels []int) relax.Result {
	n := min(len(s.parts), x.Rows)
	if n < 2 {
		return s.parts[0].Grad(x, labels)
	}
	s.once.Do(s.startWorkers)
	bounds := func(k int) (int, int) { return k * x.Rows / n, (k + 1) * x.Rows / n }
	for k := 0; k < n; k++ {
		lo, hi := bounds(k)
		s.xs[k] = tensor.Mat[T]{Rows: hi - lo, Cols: x.Cols, Data: x.Data[lo*x.Cols : hi*x.Cols]}
		s.labels[k] = labels[lo:hi]
	}
	for k := 1; k < n; k++ {
		s.start[k] <- struct{}{}
	}
	s.res[0] = s.parts[0].Grad(&s.xs[0], s.labels[0])
	for k := 1; k < n; k++ {
		<-s.done
	}
	// Combine gradients and results, part 0 first.
	B := float64(x.Rows)
	for i, p := range s.g.Params() {
		lo, hi := bounds(0)
		tensor.Scale(T(float64(hi-lo)/B), p.Grad.Data)
		for k := 1; k < n; k++ {
			lo, hi := bounds(k)
			tensor.Axpy(T(float64(hi-lo)/B), s.graphs[k].Params()[i].Grad.Data, p.Grad.Data)
		}
	}
	out := relax.Result{Steps: s.res[0].Steps, Samples: x.Rows}
	if len(s.res[0].EnergyLevels) > 0 {
		s.levels = append(s.levels[:0], make([]float64, len(s.res[0].EnergyLevels))...)
		out.EnergyLevels = s.levels
	}
	for k := 0; k < n; k++ {
		r := s.res[k]
		w := float64(r.Samples) / B
		out.Loss += r.Loss
		out.Correct += r.Correct
		out.Energy += w * r.Energy
		for v, e := range r.EnergyLevels {
			out.EnergyLevels[v] += w * e
		}
	}
	return out
}

// trace and values reach part 0 (telemetry samples its half of the batch).
func (s *split[T]) trace(tr *[]float64) {
	if t, ok := s.parts[0].(tracer); ok {
		t.trace(tr)
	}
}

func (s *split[T]) values() []*tensor.Mat[T] {
	if v, ok := s.parts[0].(valuer[T]); ok {
		return v.values()
	}
	return nil
}
