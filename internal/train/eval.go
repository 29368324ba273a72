package train

import (
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/tensor"
)

// EvalResult is a model's performance on one split.
type EvalResult struct {
	Split    string  `json:"split"`
	Samples  int     `json:"samples"`
	Loss     float64 `json:"loss"`     // mean per-sample loss
	Accuracy float64 `json:"accuracy"` // fraction in [0, 1]
	// PerClass[k] is the accuracy on samples of class k (NaN-free: classes
	// with no samples get 0 and Support 0).
	PerClass []float64 `json:"per_class_accuracy"`
	Support  []int     `json:"support"`
	// Confusion[i][j] counts samples of class i predicted as j.
	Confusion [][]int `json:"confusion"`
	// Epoch is the epoch the checkpoint was written after (eval only; 0
	// when unknown) and SelectedBy how it was chosen: "val_acc" for a
	// validation-selected best.safetensors, "test_acc" for a test-selected
	// one (an older pctrain wrote these when a run had no validation
	// split: its test accuracy is optimistic), absent for last or epoch-N.
	Epoch      int    `json:"epoch,omitempty"`
	SelectedBy string `json:"selected_by,omitempty"`
}

// evaluator runs feed-forward passes over a split in fixed-size batches.
type evaluator[T tensor.Float] struct {
	g      *model.Graph[T]
	ws     *model.Workspace[T]
	loss   model.Loss[T]
	norm   data.Norm
	batch  int
	x, eps *tensor.Mat[T]
	labels []int
}

func newEvaluator[T tensor.Float](g *model.Graph[T], loss model.Loss[T], norm data.Norm, batch int) *evaluator[T] {
	return &evaluator[T]{g: g, ws: model.NewWorkspace(g), loss: loss, norm: norm, batch: batch,
		x: &tensor.Mat[T]{}, eps: &tensor.Mat[T]{}, labels: make([]int, batch)}
}

// run evaluates v. Prediction is the argmax of the logits (first on ties).
func (e *evaluator[T]) run(v data.View, split string, classes int) EvalResult {
	r := EvalResult{Split: split, Samples: v.Len(), PerClass: make([]float64, classes), Support: make([]int, classes), Confusion: make([][]int, classes)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, classes)
	}
	if v.Len() == 0 {
		return r
	}
	var lossSum float64
	correct := 0
	for lo := 0; lo < v.Len(); lo += e.batch {
		ids := v.Idx[lo:min(lo+e.batch, v.Len())]
		labels := e.labels[:len(ids)]
		data.Batch(e.x, labels, v.DS, ids, e.norm)
		logits := e.g.Forward(e.ws, e.x)
		lossSum += e.loss.OutputError(e.eps, logits, labels)
		for i, l := range labels {
			r.Support[l]++
			p := tensor.ArgMax(logits.Row(i))
			if p < classes {
				r.Confusion[l][p]++
			}
			if p == l {
				correct++
			}
		}
	}
	r.Loss = lossSum / float64(v.Len())
	r.Accuracy = float64(correct) / float64(v.Len())
	for k := range classes {
		if r.Support[k] > 0 {
			r.PerClass[k] = float64(r.Confusion[k][k]) / float64(r.Support[k])
		}
	}
	return r
}
