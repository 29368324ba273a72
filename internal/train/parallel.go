package train

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// split runs a rule on consecutive slices of the batch at once, one
// goroutine each: the coarse parallelism this 2-core VM rewards (waking a
// core costs ~0.1 ms, so each part does a whole batch's inference). Part 0
// works on the model's own graph; the others on copies whose parameters
// and buffers share the same values but keep their own gradients.
//
// Every weight update is a barrier: each part's rule calls Update with
// its slice's gradient in its graph; the last part to arrive combines
// them into the model's gradients in a fixed order — the batch-mean
// gradient is Σ_k (B_k/B)·g_k — and makes the one optimizer step, which
// every part then sees. So rules that update several times per batch
// (iPC) split as well as those that update once, and results depend on
// the number of parts, not on scheduling. A part that stops early (the run
// was interrupted) releases the others: their Update returns an error.
type split[T tensor.Float] struct {
	g      *model.Graph[T]
	parts  []rule.Rule[T]
	graphs []*model.Graph[T]
	drops  [][]*model.Dropout[T] // each graph's dropout layers
	res    []relax.Result
	errs   []error
	levels []float64
	// Per batch: the slices, and what the parts are handed.
	batches []rule.Batch[T]
	xs      []tensor.Mat[T]
	pu      []partUpdater[T]
	ctx     context.Context
	upd     rule.Updater
	rows    int

	// The barrier.
	mu           sync.Mutex
	cond         *sync.Cond
	active       int // parts in this batch
	arrived, gen int
	aborted      bool
	updErr       error
	workersUp    bool
	start        []chan struct{}
	done         chan struct{}
	workers      sync.WaitGroup
}

var errPartStopped = errors.New("train: another part of the batch stopped")

// newSplit prepares n parts of rule info on g. Each copy is built from
// cfg like g.
func newSplit[T tensor.Float](n int, info *rule.Info, cfg *config.Config, g *model.Graph[T], shape []int, classes int, loss model.Loss[T]) (*split[T], error) {
	// One scheduler slot more than workers. Every GEMM and C kernel is a
	// cgo call, which Go treats as a system call: with every P inside one,
	// the runtime's monitor takes the P away after 20 µs and the call's
	// return must queue for it again. A spare idle P stops that (reference
	// PC step on two cores: +15–25 %, measured with -test.cpu 2 vs 3).
	if runtime.GOMAXPROCS(0) <= n {
		runtime.GOMAXPROCS(n + 1)
	}
	s := &split[T]{g: g, res: make([]relax.Result, n), errs: make([]error, n)}
	s.cond = sync.NewCond(&s.mu)
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
			gk.ShareBuffers(g)
			gk.ShareScalings(g)
		}
		m, err := newPart(info, cfg, gk, loss)
		if err != nil {
			return nil, err
		}
		s.parts = append(s.parts, m)
		s.graphs = append(s.graphs, gk)
		s.drops = append(s.drops, gk.Dropouts())
	}
	s.batches = make([]rule.Batch[T], n)
	s.xs = make([]tensor.Mat[T], n)
	s.pu = make([]partUpdater[T], n)
	for k := range s.pu {
		s.pu[k] = partUpdater[T]{s: s}
	}
	return s, nil
}

func (s *split[T]) startWorkers() {
	n := len(s.parts)
	s.start = make([]chan struct{}, n)
	s.done = make(chan struct{}, n)
	for k := 1; k < n; k++ {
		s.start[k] = make(chan struct{})
		s.workers.Add(1)
		go func(k int) {
			defer s.workers.Done()
			for range s.start[k] {
				s.runPart(k)
				s.done <- struct{}{}
			}
		}(k)
	}
	s.workersUp = true
}

// Close stops the worker goroutines; a later Step starts them again.
func (s *split[T]) Close() {
	if !s.workersUp {
		return
	}
	for k := 1; k < len(s.start); k++ {
		close(s.start[k])
	}
	s.workers.Wait()
	s.workersUp = false
}

func (s *split[T]) runPart(k int) {
	if k > 0 { // part 0 is the model's graph: the trainer switches it
		lo, _ := s.bounds(k)
		model.DropoutOn(s.drops[k], dropoutSeed(s.batches[k].Seed), lo)
	}
	s.res[k], s.errs[k] = s.parts[k].Step(s.ctx, &s.batches[k], &s.pu[k])
	model.DropoutOff(s.drops[k])
	s.mu.Lock()
	// A part that ends while others wait at a barrier it will not reach,
	// or that ends with an error, stops the batch for every part.
	if s.errs[k] != nil || s.arrived > 0 {
		s.aborted = true
		s.cond.Broadcast()
	}
	s.mu.Unlock()
}

func (s *split[T]) bounds(k int) (int, int) {
	return k * s.rows / s.active, (k + 1) * s.rows / s.active
}

func (s *split[T]) Step(ctx context.Context, b *rule.Batch[T], u rule.Updater) (relax.Result, error) {
	x := b.X
	n := min(len(s.parts), x.Rows)
	if n < 2 {
		return s.parts[0].Step(ctx, b, u)
	}
	if !s.workersUp {
		s.startWorkers()
	}
	s.ctx, s.upd, s.rows, s.active = ctx, u, x.Rows, n
	s.arrived, s.aborted, s.updErr = 0, false, nil
	for k := 0; k < n; k++ {
		lo, hi := s.bounds(k)
		s.xs[k] = tensor.Mat[T]{Rows: hi - lo, Cols: x.Cols, Data: x.Data[lo*x.Cols : hi*x.Cols]}
		s.batches[k] = rule.Batch[T]{X: &s.xs[k], Labels: b.Labels[lo:hi], Seed: b.Seed}
	}
	for k := 1; k < n; k++ {
		s.start[k] <- struct{}{}
	}
	s.runPart(0)
	for k := 1; k < n; k++ {
		<-s.done
	}
	out := relax.Result{Steps: s.res[0].Steps, Samples: x.Rows}
	if err := s.firstErr(n); err != nil {
		return out, err
	}
	if len(s.res[0].EnergyLevels) > 0 {
		s.levels = append(s.levels[:0], make([]float64, len(s.res[0].EnergyLevels))...)
		out.EnergyLevels = s.levels
	}
	B := float64(x.Rows)
	for k := 0; k < n; k++ {
		r := s.res[k]
		w := float64(r.Samples) / B
		out.Loss += r.Loss
		out.Correct += r.Correct
		out.Energy += w * r.Energy
		out.StartEnergy += w * r.StartEnergy
		for v, e := range r.EnergyLevels {
			out.EnergyLevels[v] += w * e
		}
	}
	return out, nil
}

// firstErr is the error that stopped the batch: the update's own (a
// diverged weight), else a part's (the run was interrupted).
func (s *split[T]) firstErr(n int) error {
	if s.updErr != nil {
		return s.updErr
	}
	var stopped error
	for k := 0; k < n; k++ {
		if err := s.errs[k]; err != nil {
			if !errors.Is(err, errPartStopped) {
				return err
			}
			stopped = err
		}
	}
	return stopped
}

// combine sets the model's gradients to the batch mean of the parts'.
func (s *split[T]) combine() {
	B := float64(s.rows)
	for i, p := range s.g.Params() {
		lo, hi := s.bounds(0)
		tensor.Scale(T(float64(hi-lo)/B), p.Grad.Data)
		for k := 1; k < s.active; k++ {
			lo, hi := s.bounds(k)
			tensor.Axpy(T(float64(hi-lo)/B), s.graphs[k].Params()[i].Grad.Data, p.Grad.Data)
		}
	}
}

// partUpdater is the Updater a part's rule is handed: the barrier.
type partUpdater[T tensor.Float] struct{ s *split[T] }

func (p *partUpdater[T]) Update() error {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted {
		return errPartStopped
	}
	s.arrived++
	if s.arrived == s.active {
		s.combine()
		if err := s.upd.Update(); err != nil {
			s.updErr = err
			s.aborted = true
		}
		s.arrived = 0
		s.gen++
		s.cond.Broadcast()
		if s.aborted {
			return errPartStopped
		}
		return nil
	}
	for gen := s.gen; gen == s.gen && !s.aborted; {
		s.cond.Wait()
	}
	if s.aborted {
		return errPartStopped
	}
	return nil
}

// Stability probes on part 0's graph, over the whole batch.
func (s *split[T]) Stability(b *rule.Batch[T]) (rule.Stability, bool) {
	if p, ok := s.parts[0].(rule.Prober[T]); ok {
		return p.Stability(b)
	}
	return rule.Stability{}, false
}

// Trace and Values reach part 0 (telemetry samples its slice of the
// batch).
func (s *split[T]) Trace(tr *[]float64) {
	if t, ok := s.parts[0].(rule.Tracer); ok {
		t.Trace(tr)
	}
}

func (s *split[T]) Values() []*tensor.Mat[T] {
	if v, ok := s.parts[0].(rule.Valuer[T]); ok {
		return v.Values()
	}
	return nil
}

// Feedback reaches part 0 (the model's own graph), for alignment
// telemetry; nil when the rule has no feedback tensors.
func (s *split[T]) Feedback() []rule.WeightFeedback[T] {
	if f, ok := s.parts[0].(rule.Feedbacker[T]); ok {
		return f.Feedback()
	}
	return nil
}
