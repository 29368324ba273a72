// Package train runs experiments: it builds the model, data, method and
// optimizer from a config, runs the training loop with hooks (progress,
// metrics, checkpoints), evaluates, and compares methods.
package train

import (
	"errors"
	"fmt"
)

// UserError is a problem with the user's input (data, checkpoint, output
// folder): the CLI prints it on one line and exits 2.
type UserError struct{ Err error }

func (e *UserError) Error() string { return e.Err.Error() }
func (e *UserError) Unwrap() error { return e.Err }

func userErr(format string, args ...any) error {
	return &UserError{Err: fmt.Errorf(format, args...)}
}

// DivergedError reports a NaN/Inf quantity; the CLI exits 3. The last good
// checkpoint, if the run wrote one, is kept.
type DivergedError struct {
	Quantity    string // "loss", "energy", or "weights"
	Where       string // layer name where known
	Epoch, Step int
	Hint        string
	// Detail replaces "became NaN or Inf" when set.
	Detail string
	// Checkpoint is the last good checkpoint, written after
	// CheckpointStep steps; "" when the run wrote none.
	Checkpoint     string
	CheckpointStep int
}

func (e *DivergedError) Error() string {
	w := ""
	if e.Where != "" {
		w = " in " + e.Where
	}
	what := e.Detail
	if what == "" {
		what = "became NaN or Inf"
	}
	kept := "no checkpoint had been written yet"
	if e.Checkpoint != "" {
		kept = fmt.Sprintf("the last good checkpoint, %s after step %d, is kept", e.Checkpoint, e.CheckpointStep)
	}
	return fmt.Sprintf("training diverged: %s %s%s at epoch %d, step %d; %s (%s)", e.Quantity, what, w, e.Epoch, e.Step, e.Hint, kept)
}

// ErrInterrupted is returned when a run stops on SIGINT/SIGTERM after
// writing its checkpoint; the CLI exits 130.
var ErrInterrupted = errors.New("interrupted")
