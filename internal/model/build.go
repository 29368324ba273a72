package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/pctrain/pctrain/internal/tensor"
)

// MLPSpec describes a multilayer perceptron.
type MLPSpec struct {
	// Sizes are the vertex widths from input to output, e.g. [784, 128, 10].
	Sizes []int
	// Activation is applied to every hidden value before the next dense
	// layer; never to the input or the output (logits).
	Activation string
	Bias       bool
}

// NewMLP builds the chain graph input → h1 → … → output. Dense layer i
// (0 = input side) has parameters "layers.{i}.weight" and "layers.{i}.bias".
func NewMLP[T tensor.Float](s MLPSpec) (*Graph[T], error) {
	if len(s.Sizes) < 2 {
		return nil, fmt.Errorf("model: an MLP needs at least two sizes, got %v", s.Sizes)
	}
	for i, n := range s.Sizes {
		if n <= 0 {
			return nil, fmt.Errorf("model: size %d is %d; sizes must be positive", i, n)
		}
	}
	act, err := LookupActivation(s.Activation)
	if err != nil {
		return nil, err
	}
	vs := []*Vertex[T]{{Name: "input", Shape: Shape{s.Sizes[0]}}}
	for l := 1; l < len(s.Sizes); l++ {
		name := fmt.Sprintf("h%d", l)
		if l == len(s.Sizes)-1 {
			name = "output"
		}
		var layers []Layer[T]
		if l > 1 {
			layers = append(layers, &Act[T]{A: act})
		}
		layers = append(layers, NewDense[T](fmt.Sprintf("layers.%d", l-1), s.Sizes[l-1], s.Sizes[l], s.Bias))
		vs = append(vs, &Vertex[T]{Name: name, Inputs: []int{l - 1}, Layers: layers})
	}
	return NewGraph(vs)
}

// Initializer fills one parameter. fanIn and fanOut are those of the layer
// that owns it; isBias tells weights from biases.
type Initializer func(rng *rand.Rand, p []float64, fanIn, fanOut int, isBias bool)

func uniform(rng *rand.Rand, p []float64, bound float64) {
	for i := range p {
		p[i] = (2*rng.Float64() - 1) * bound
	}
}

func normal(rng *rand.Rand, p []float64, std float64) {
	for i := range p {
		p[i] = rng.NormFloat64() * std
	}
}

var initializers = map[string]Initializer{
	// default is PyTorch's nn.Linear/nn.Conv2d initialisation: weights and
	// biases uniform in ±1/√fan_in.
	"default": func(rng *rand.Rand, p []float64, in, _ int, _ bool) { uniform(rng, p, 1/math.Sqrt(float64(in))) },
	"xavier-uniform": func(rng *rand.Rand, p []float64, in, out int, bias bool) {
		if !bias {
			uniform(rng, p, math.Sqrt(6/float64(in+out)))
		}
	},
	"xavier-normal": func(rng *rand.Rand, p []float64, in, out int, bias bool) {
		if !bias {
			normal(rng, p, math.Sqrt(2/float64(in+out)))
		}
	},
	// standard-normal draws weights from N(0, 1) (μPC, RULES.md §4);
	// biases stay 0.
	"standard-normal": func(rng *rand.Rand, p []float64, _, _ int, bias bool) {
		if !bias {
			normal(rng, p, 1)
		}
	},
	"kaiming-uniform": func(rng *rand.Rand, p []float64, in, _ int, bias bool) {
		if !bias {
			uniform(rng, p, math.Sqrt(6/float64(in)))
		}
	},
	"kaiming-normal": func(rng *rand.Rand, p []float64, in, _ int, bias bool) {
		if !bias {
			normal(rng, p, math.Sqrt(2/float64(in)))
		}
	},
}

// InitNames lists the valid initialiser names, sorted.
func InitNames() []string {
	names := make([]string, 0, len(initializers))
	for n := range initializers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupInit returns the named initialiser or an error listing valid names.
func LookupInit(name string) (Initializer, error) {
	f, ok := initializers[name]
	if !ok {
		return nil, fmt.Errorf("unknown init %q (valid: %s)", name, strings.Join(InitNames(), ", "))
	}
	return f, nil
}

// Fanner is implemented by layers with parameters, for initialisation.
type Fanner interface{ Fans() (in, out int) }

func (d *Dense[T]) Fans() (int, int) { return d.In, d.Out }

// Init draws every parameter, in checkpoint order, from rng. Values are
// drawn in float64 and rounded to T, so float32 and float64 runs of one
// seed start from the same weights up to rounding.
func (g *Graph[T]) Init(rng *rand.Rand, name string) error {
	f, err := LookupInit(name)
	if err != nil {
		return err
	}
	seen := map[*Param[T]]bool{}
	for _, vx := range g.Vertices {
		for _, l := range vx.allLayers() {
			ps := l.Params()
			if len(ps) == 0 || seen[ps[0]] {
				continue // no parameters, or tied to a layer drawn already
			}
			for _, p := range ps {
				seen[p] = true
			}
			initLayer(rng, f, l)
		}
	}
	if g.TopDown != nil {
		return g.TopDown.Init(rng, name)
	}
	return nil
}

func initLayer[T tensor.Float](rng *rand.Rand, f Initializer, l Layer[T]) {
	fl, ok := l.(Fanner)
	if !ok {
		return
	}
	in, out := fl.Fans()
	for i, p := range l.Params() {
		buf := make([]float64, len(p.Value.Data))
		f(rng, buf, in, out, i > 0)
		for j, v := range buf {
			p.Value.Data[j] = T(v)
		}
	}
}
