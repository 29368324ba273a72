package relax

import (
	"context"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Engine bundles IL, Z-IL and Fa-Z-IL over one State, the shape these
// tests were written against before each rule got its own type.
type Engine[T tensor.Float] struct {
	*State[T]
	il  *IL[T]
	zil *ZIL[T]
	fa  *FaZIL[T]
}

func NewEngine[T tensor.Float](g *model.Graph[T], loss model.Loss[T]) *Engine[T] {
	st := NewState(g, loss)
	return &Engine[T]{State: st, il: NewIL(st), zil: NewZIL(st), fa: NewFaZIL(st)}
}

func (e *Engine[T]) IL(in *Mat[T], labels []int, s ILSettings) Result {
	r, err := e.il.Run(context.Background(), in, labels, s)
	if err != nil {
		panic(err)
	}
	return r
}

func (e *Engine[T]) ZIL(in *Mat[T], labels []int, gamma float64, sched Schedule) Result {
	return e.zil.Run(in, labels, gamma, sched)
}

func (e *Engine[T]) FaZIL(in *Mat[T], labels []int, gamma float64) Result {
	return e.fa.Run(in, labels, gamma)
}
