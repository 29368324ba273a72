package train

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
)

// Memory estimate. Before any model is built, checkMemory works out from
// the config and the data's shape roughly how much memory a run needs and
// refuses, on one line, a run that cannot fit, instead of letting Go die
// of "fatal error: out of memory" part-way through allocating. Counted, in
// elements of the dtype (4 or 8 bytes):
//
//   - parameters P: values, gradients, two optimizer buffers (Adam's m and
//     v; SGD needs fewer) and a gradient per extra thread: P × (4 + threads−1);
//   - per-sample values A (every vertex's output, the input included) and
//     per-sample im2col columns C of convolutions: a training batch holds
//     about 6 buffers of A per sample (x, mu, eps, the activation's
//     derivative, the value-node momentum and the backward gradient)
//     plus C, over the whole batch (the threads split it);
//   - evaluation: 1000-sample batches of 2 A + C.
//
// The count is an upper bound for bp and about right for pc; graphs whose
// shapes the walk below cannot follow get no estimate (BuildModel then
// reports what is wrong with them). The data set itself is already loaded
// when the check runs, so it is not counted.

// footprint is what a model holds, in elements.
type footprint struct {
	params float64 // parameters
	values float64 // per-sample values of every vertex
	im2col float64 // per-sample convolution columns
	// outputs is the output's size for models whose last layer the
	// config sets (mlp, cnn, graph); 0 for the presets, whose head has
	// one unit per class.
	outputs float64
}

// modelFootprint walks cfg's model over samples of shape, without
// allocating it. ok is false when the walk cannot follow the model.
func modelFootprint(cfg *config.Config, shape []int, classes int) (f footprint, ok bool) {
	n := float64(model.Shape(shape).Size())
	b := 0.0
	if cfg.Model.Bias {
		b = 1
	}
	dense := func(in, out float64) {
		f.params += in*out + b*out
		f.values += out
		f.outputs = out
	}
	f.values = n
	k := float64(max(classes, 2))
	h := float64(cfg.Model.Hidden)
	switch cfg.Model.Type {
	case "mlp":
		for i := 1; i < len(cfg.Model.Sizes); i++ {
			dense(float64(cfg.Model.Sizes[i-1]), float64(cfg.Model.Sizes[i]))
		}
		return f, len(cfg.Model.Sizes) >= 2
	case "rnn", "lstm":
		steps := float64(cfg.Model.Steps)
		gates := 1.0
		if cfg.Model.Type == "lstm" {
			gates = 4 // and cell state, gates and products per step: ×6 values
		}
		f.params = gates*(n/steps*h+h*h+b*h) + h*k + b*k
		f.values += steps*h*gates*1.5 + k
		return f, true
	case "resmlp":
		blocks := float64(cfg.Model.Blocks)
		dense(n, h)
		for range cfg.Model.Blocks {
			dense(h, h)
			dense(h, h)
		}
		f.values += blocks * h // identity vertices on the skip edges
		dense(h, k)
		f.outputs = 0
		return f, true
	case "skipmlp":
		dense(n, h)
		for range cfg.Model.Depth - 1 {
			dense(h, h)
		}
		dense(h, k)
		f.outputs = 0
		return f, true
	case "cnn", "vgg5":
		specs := model.VGG5(cfg.Model.Activation, classes)
		if cfg.Model.Type == "cnn" {
			var err error
			if specs, err = cfg.LayerSpecs(); err != nil {
				return f, false
			}
		}
		s, ok := imageShape(shape)
		if !ok {
			return f, false
		}
		for _, l := range specs {
			switch l.Kind {
			case "conv":
				st := max(l.Stride, 1)
				oh, ow := (s[1]+2*l.Padding-l.Kernel)/st+1, (s[2]+2*l.Padding-l.Kernel)/st+1
				if oh < 1 || ow < 1 {
					return f, false
				}
				cols := float64(s[0]) * float64(l.Kernel*l.Kernel) * float64(oh) * float64(ow)
				f.im2col = max(f.im2col, cols)
				f.params += float64(l.Out)*float64(s[0])*float64(l.Kernel*l.Kernel) + b*float64(l.Out)
				s = [3]int{l.Out, oh, ow}
				f.values += float64(s[0]) * float64(oh) * float64(ow)
			case "maxpool", "avgpool":
				st := l.Stride
				if st < 1 {
					st = l.Kernel
				}
				s[1], s[2] = (s[1]-l.Kernel)/st+1, (s[2]-l.Kernel)/st+1
				if s[1] < 1 || s[2] < 1 {
					return f, false
				}
			case "flatten":
				s = [3]int{s[0] * s[1] * s[2], 1, 1}
			case "dense":
				dense(float64(s[0])*float64(s[1])*float64(s[2]), float64(l.Out))
				s = [3]int{l.Out, 1, 1}
			}
		}
		if cfg.Model.Type == "vgg5" {
			f.outputs = 0
		}
		return f, true
	case "graph":
		return graphFootprint(cfg, shape)
	}
	return f, false
}

var sliceSpec = regexp.MustCompile(`^([^\[\]]+)\[(\d+):(\d+)\]$`)

// graphFootprint follows the vertices' sizes: dense and concat change
// them, the element-wise ops keep them. Convolutions and pooling make it
// give up unless every such vertex reads image data of known shape.
func graphFootprint(cfg *config.Config, shape []int) (f footprint, ok bool) {
	specs, err := cfg.VertexSpecs()
	if err != nil {
		return f, false
	}
	b := 0.0
	if cfg.Model.Bias {
		b = 1
	}
	img := map[string][3]int{}
	if s, ok := imageShape(shape); ok {
		img["input"] = s
	}
	size := map[string]float64{"input": float64(model.Shape(shape).Size())}
	f.values = size["input"]
	for _, s := range specs {
		in := 0.0
		for _, name := range s.In {
			if m := sliceSpec.FindStringSubmatch(name); m != nil {
				lo, _ := strconv.Atoi(m[2])
				hi, _ := strconv.Atoi(m[3])
				in += float64(hi - lo)
				continue
			}
			v, known := size[name]
			if !known {
				return f, false
			}
			in += v
		}
		var out float64
		switch s.Op {
		case "dense":
			out = float64(s.Out)
			if s.Share == "" {
				f.params += in*out + b*out
			}
		case "concat":
			out = in
		case "act", "add", "mul", "identity", "flatten":
			out = size[s.In[0]]
			if si, isImg := img[s.In[0]]; isImg && s.Op != "flatten" {
				img[s.Name] = si
			}
		case "conv", "maxpool", "avgpool":
			si, isImg := img[s.In[0]]
			if !isImg || s.Kernel < 1 {
				return f, false
			}
			st := max(s.Stride, 1)
			if s.Op != "conv" && s.Stride < 1 {
				st = s.Kernel
			}
			oh, ow := (si[1]+2*s.Padding-s.Kernel)/st+1, (si[2]+2*s.Padding-s.Kernel)/st+1
			if oh < 1 || ow < 1 {
				return f, false
			}
			c := si[0]
			if s.Op == "conv" {
				c = s.Out
				f.im2col = max(f.im2col, float64(si[0])*float64(s.Kernel*s.Kernel)*float64(oh)*float64(ow))
				if s.Share == "" {
					f.params += float64(s.Out)*float64(si[0])*float64(s.Kernel*s.Kernel) + b*float64(s.Out)
				}
			}
			img[s.Name] = [3]int{c, oh, ow}
			out = float64(c) * float64(oh) * float64(ow)
		default:
			return f, false
		}
		size[s.Name] = out
		f.values += out
		f.outputs = out
	}
	// Identity vertices on skip edges: at most one per vertex and level.
	f.values *= 2
	return f, true
}

func imageShape(shape []int) ([3]int, bool) {
	switch len(shape) {
	case 2:
		return [3]int{1, shape[0], shape[1]}, true
	case 3:
		return [3]int{shape[0], shape[1], shape[2]}, true
	}
	return [3]int{}, false
}

// memoryNeed is an estimate in bytes, split by what the user can change.
type memoryNeed struct {
	params, batch, threads, eval float64
	// sample is one sample's share of batch and eval: what even a batch
	// of one needs on top of the parameters.
	sample float64
}

func (m memoryNeed) total() float64 { return m.params + m.batch + m.threads + m.eval }

// estimateMemory applies the counts above to cfg and data d.
func estimateMemory(cfg *config.Config, d *Data) (memoryNeed, bool) {
	f, ok := modelFootprint(cfg, d.Shape, d.Classes)
	if !ok {
		return memoryNeed{}, false
	}
	elem := 4.0
	if cfg.DType == "float64" {
		elem = 8
	}
	threads := float64(cfg.Threads())
	batch := float64(cfg.Data.BatchSize)
	if n := float64(d.Train.Len()); batch > n {
		batch = n
	}
	evalBatch := math.Min(1000, float64(max(d.Train.Len(), d.Test.Len(), d.Val.Len())))
	return memoryNeed{
		params:  elem * f.params * 4,
		threads: elem * f.params * (threads - 1),
		batch:   elem * batch * (6*f.values + f.im2col),
		eval:    elem * evalBatch * (2*f.values + f.im2col),
		sample:  elem * (8*f.values + 2*f.im2col),
	}, true
}

// checkMemory refuses a run whose estimate exceeds the memory available.
func checkMemory(cfg *config.Config, d *Data) error {
	need, ok := estimateMemory(cfg, d)
	if !ok {
		return nil
	}
	avail, source := availableMemory()
	if need.total() <= avail {
		return nil
	}
	modelKey := map[string]string{"mlp": "model.sizes", "cnn": "model.layers", "graph": "model.vertices", "vgg5": "model.type"}[cfg.Model.Type]
	if modelKey == "" {
		modelKey = "model.hidden"
	}
	// Blame what the user can shrink: the model when even a batch of one
	// sample cannot fit, else the larger of the batches and the threads.
	key, what, part := modelKey, "its parameters with their gradients and optimizer state, and one sample's values", need.params+need.sample
	switch {
	case need.params+need.sample > avail:
	case need.threads > need.batch+need.eval:
		key, what, part = "train.threads", fmt.Sprintf("a copy of the gradients for each of %d threads", cfg.Threads()), need.threads
	default:
		key, what, part = "data.batch_size", fmt.Sprintf("the values of %d-sample batches", min(cfg.Data.BatchSize, d.Train.Len())), need.batch+need.eval
	}
	advice := "make it smaller"
	if key != modelKey {
		advice = "make it or " + modelKey + " smaller"
	}
	named := key
	if src := cfg.SourceOf(key); src != "" {
		named = src + ": " + key
	}
	return userErr("%s: the run needs about %s of memory (%s of it %s) but this machine has %s %s; %s",
		named, bytesString(need.total()), bytesString(part), what, bytesString(avail), source, advice)
}

// memoryLimitFallback is assumed when the machine's memory cannot be read
// (no /proc): absurd requests are still refused.
const memoryLimitFallback = 1 << 40

// availableMemory is MemAvailable from /proc/meminfo (MemTotal on old
// kernels), lowered to a cgroup limit if one is set.
func availableMemory() (float64, string) {
	avail, source := float64(memoryLimitFallback), "(assumed: /proc/meminfo is unreadable)"
	if f, err := os.Open("/proc/meminfo"); err == nil {
		fields := map[string]float64{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			name, rest, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			parts := strings.Fields(rest)
			if len(parts) > 0 {
				if v, err := strconv.ParseFloat(parts[0], 64); err == nil {
					fields[name] = v * 1024
				}
			}
		}
		f.Close()
		if v, ok := fields["MemAvailable"]; ok {
			avail, source = v, "available"
		} else if v, ok := fields["MemTotal"]; ok {
			avail, source = v, "in total"
		}
	}
	if runtime.GOOS == "linux" {
		for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
			raw, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if v, err := strconv.ParseFloat(strings.TrimSpace(string(raw)), 64); err == nil && v < avail {
				avail, source = v, "(its cgroup memory limit)"
			}
		}
	}
	return avail, source
}

func bytesString(b float64) string {
	switch {
	case b >= 1e12:
		return fmt.Sprintf("%.1f TB", b/1e12)
	case b >= 1e9:
		return fmt.Sprintf("%.1f GB", b/1e9)
	}
	return fmt.Sprintf("%.0f MB", b/1e6)
}
