package model

import "github.com/pctrain/pctrain/internal/tensor"

// Linear reports whether every vertex of g is a linear function of its
// inputs: dense and conv layers (their biases make them affine), the
// linear activation, scalings, average pooling, flatten and slices, joined
// by sums or concatenation. With a squared-error loss the PC energies of
// such a graph are quadratic in the value nodes and in ePC's errors, so
// their Hessian is one constant matrix and a descent step beyond
// 2/λ_max (RULES.md §6) diverges for certain.
func (g *Graph[T]) Linear() bool {
	for _, v := range g.Vertices {
		if len(v.Inputs) > 1 && v.Combine == "mul" {
			return false
		}
		for _, chain := range v.Pre {
			if !linearChain(chain) {
				return false
			}
		}
		if !linearChain(v.Layers) {
			return false
		}
	}
	return true
}

func linearChain[T tensor.Float](ls []Layer[T]) bool {
	for _, l := range ls {
		switch l := l.(type) {
		case *Dense[T], *Conv2D[T], *Scale[T], Flatten[T], *Flatten[T], *Slice[T]:
		case *Act[T]:
			if l.A.Name != "linear" {
				return false
			}
		case *Pool2D[T]:
			if l.Max {
				return false
			}
		default:
			return false
		}
	}
	return true
}
