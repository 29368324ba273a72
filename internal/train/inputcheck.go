package train

import (
	"math"
	"slices"
)

// checkFiniteTensors refuses a checkpoint holding NaN or Inf: loaded as
// model.init_from, for eval or to resume, it would only surface later as a
// divergence (exit 3, "lower optim.lr") instead of as the bad file it is.
func checkFiniteTensors(c *loadedCheckpoint) error {
	names := make([]string, 0, len(c.Tensors))
	for name := range c.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := c.Tensors[name]
		bad := func(i int, v float64) error {
			return userErr("checkpoint %s: tensor %q holds %v (element %d); the weights must be finite", c.Path, name, v, i)
		}
		for i, v := range t.F32 {
			if v != v || math.IsInf(float64(v), 0) {
				return bad(i, float64(v))
			}
		}
		for i, v := range t.F64 {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return bad(i, v)
			}
		}
	}
	return nil
}
