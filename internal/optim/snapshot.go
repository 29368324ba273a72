package optim

// Saved is a copy of the parameters and optimizer state, to undo the
// updates of a batch that was stopped part way (a rule that steps the
// optimizer several times per batch). Its buffers are reused.
type Saved[T any] struct {
	values, m, v [][]T
	step         int
}

// Save copies the parameters' values and the optimizer's state into s.
func (o *Optimizer[T]) Save(s *Saved[T]) {
	cp := func(dst *[][]T, src func(i int) []T) {
		if len(*dst) != len(o.params) {
			*dst = make([][]T, len(o.params))
		}
		for i := range o.params {
			(*dst)[i] = append((*dst)[i][:0], src(i)...)
		}
	}
	cp(&s.values, func(i int) []T { return o.params[i].Value.Data })
	cp(&s.m, func(i int) []T { return o.m[i] })
	cp(&s.v, func(i int) []T { return o.v[i] })
	s.step = o.StepCount
}

// Restore puts back what Save copied.
func (o *Optimizer[T]) Restore(s *Saved[T]) {
	for i, p := range o.params {
		copy(p.Value.Data, s.values[i])
		copy(o.m[i], s.m[i])
		copy(o.v[i], s.v[i])
	}
	o.StepCount = s.step
}
