package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Images are samples in [0, 1] (pixel intensities), each of Shape.
type Images struct {
	Shape  []int
	Pixels [][]float64
	Labels []int
}

// GenerateOptions are the generate command's inputs.
type GenerateOptions struct {
	Checkpoint string
	Config     *config.Config // replaces the checkpoint's config when set
	Labels     []int
	PerLabel   int
	// Noise is the standard deviation of seeded Gaussian noise added to
	// the one-hot input of every sample (0: the per-label samples are
	// identical).
	Noise float64
	Seed  uint64
	Fetch FetchOptions
}

// genModel is a generative checkpoint loaded with its data.
type genModel[T tensor.Float] struct {
	cfg *config.Config
	d   *Data
	g   *model.Graph[T]
}

func loadGenerative[T tensor.Float](ck *loadedCheckpoint, cfg *config.Config, fo FetchOptions) (*genModel[T], error) {
	if !cfg.Generative() && !cfg.Bidirectional() {
		return nil, userErr("--checkpoint %s: not a generative network (its data.direction is %q, not generative, and its model.direction %q, not bidirectional)", ck.Path, cfg.Data.Direction, cfg.Model.Direction)
	}
	d, err := LoadData(cfg, fo)
	if err != nil {
		return nil, err
	}
	g, err := buildFor[T](cfg, d)
	if err != nil {
		return nil, userErr("%v", err)
	}
	if err := ck.loadWeights(g, buffersIfPresent); err != nil {
		return nil, err
	}
	if cfg.Bidirectional() {
		// A bidirectional network generates with its top-down graph
		// alone (label in, sample out); its bottom-up energy is not used.
		g = g.TopDown
	}
	return &genModel[T]{cfg: cfg, d: d, g: g}, nil
}

func openCheckpoint(path string, cfg *config.Config) (*loadedCheckpoint, *config.Config, error) {
	ck, err := readCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	if cfg == nil {
		if cfg, err = ck.config(); err != nil {
			return nil, nil, err
		}
	}
	return ck, cfg, nil
}

// Generate draws PerLabel samples for every label: the label clamped at
// the input (one-hot, plus Noise), the output free, eval.steps steps of
// inference (which move the hidden values only with eval.decay > 0:
// otherwise the feed-forward state is already the minimum, F = 0).
func Generate(opts GenerateOptions) (*Images, error) {
	ck, cfg, err := openCheckpoint(opts.Checkpoint, opts.Config)
	if err != nil {
		return nil, err
	}
	if cfg.DType == "float64" {
		return generateT[float64](ck, cfg, opts)
	}
	return generateT[float32](ck, cfg, opts)
}

func generateT[T tensor.Float](ck *loadedCheckpoint, cfg *config.Config, opts GenerateOptions) (*Images, error) {
	m, err := loadGenerative[T](ck, cfg, opts.Fetch)
	if err != nil {
		return nil, err
	}
	c := m.d.Classes
	var labels []int
	for _, l := range opts.Labels {
		if l < 0 || l >= c {
			return nil, userErr("--labels: label %d is not in 0..%d", l, c-1)
		}
		for range opts.PerLabel {
			labels = append(labels, l)
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 4))
	x0 := &tensor.Mat[T]{}
	oneHot(x0, labels, c)
	for i := range x0.Data {
		x0.Data[i] += T(opts.Noise * rng.NormFloat64())
	}
	size := model.Shape(m.d.Shape).Size()
	free := tensor.New[T](len(labels), size)
	for i := range free.Data {
		free.Data[i] = 1
	}
	loss := &model.TargetMSE[T]{Y: tensor.New[T](len(labels), size), Free: free}
	inf := relax.NewInfer[T](m.g, loss)
	e := cfg.Eval
	if _, err := inf.Run(context.Background(), x0, labels, relax.FreeSettings{Steps: e.Steps, LR: e.XLR, Momentum: e.XMomentum, Decay: e.Decay}); err != nil {
		return nil, err
	}
	out := &Images{Shape: m.d.Shape, Labels: labels}
	mu := inf.Prediction()
	for i := range labels {
		out.Pixels = append(out.Pixels, m.toUnit(mu.Row(i)))
	}
	return out, nil
}

// toUnit undoes the data's normalisation and maps one sample to [0, 1]
// (÷255 for byte data), clipped.
func (m *genModel[T]) toUnit(row []T) []float64 {
	nm := m.d.Norm
	ch := 1
	if len(m.d.Shape) == 3 {
		ch = m.d.Shape[0]
	}
	per := len(row) / ch
	div := nm.Scale
	if m.d.Train.DS.U8 != nil {
		div *= 255
	}
	p := make([]float64, len(row))
	for i, v := range row {
		x := float64(v)
		if len(nm.Mean) > 0 {
			c := i / per
			x = x*nm.Std[c] + nm.Mean[c]
		}
		p[i] = min(1, max(0, x/div))
	}
	return p
}

// Mask is a completion mask: which pixels are hidden and inferred.
type Mask struct {
	Kind string  // bottom-half, right-half or random
	P    float64 // random: the fraction hidden
}

// ParseMask reads bottom-half, right-half or random:P (0 < P < 1).
func ParseMask(s string) (Mask, error) {
	switch s {
	case "bottom-half", "right-half":
		return Mask{Kind: s}, nil
	}
	if p, ok := strings.CutPrefix(s, "random:"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || !(f > 0 && f < 1) {
			return Mask{}, fmt.Errorf("%q: the fraction after random: must be a number in (0, 1)", s)
		}
		return Mask{Kind: "random", P: f}, nil
	}
	return Mask{}, fmt.Errorf("%q is not one of bottom-half, right-half, random:P", s)
}

// hidden fills dst (one sample's units) with 1 where the mask hides the
// unit; shape is [C, H, W], [H, W] or [D] (a vector's "bottom half" is
// its second half, its "right half" too).
func (mk Mask) hidden(dst []float64, shape []int, rng *rand.Rand) {
	h, w := 1, len(dst)
	if len(shape) >= 2 {
		h, w = shape[len(shape)-2], shape[len(shape)-1]
	}
	plane := h * w
	for i := range dst {
		r, c := (i%plane)/w, i%w
		hide := false
		switch mk.Kind {
		case "bottom-half":
			hide = r >= h/2
			if h == 1 {
				hide = c >= w/2
			}
		case "right-half":
			hide = c >= w/2
		case "random":
			hide = rng.Float64() < mk.P
		}
		dst[i] = 0
		if hide {
			dst[i] = 1
		}
	}
}

// CompleteOptions are the complete command's inputs.
type CompleteOptions struct {
	Checkpoint string
	Config     *config.Config
	Mask       Mask
	N          int
	Seed       uint64
	Fetch      FetchOptions
}

// Completion is the result of completing N test images: Original, Masked
// (hidden pixels shown at 0.5) and Completed, in [0, 1]; MaskedMSE is the
// mean squared error of the completed hidden pixels, MeanFillMSE that of
// filling them with the training set's mean image.
type Completion struct {
	Shape                       []int
	Original, Masked, Completed [][]float64
	Labels                      []int
	MaskedPixels                int
	MaskedMSE, MeanFillMSE      float64
}

// Complete infers the hidden pixels of the first N test images: the
// visible pixels clamped at the output, the hidden ones free (their error
// is 0, TargetMSE.Free), the label vertex free from eval.input_init,
// eval.steps steps; a hidden pixel's completion is its prediction.
func Complete(opts CompleteOptions) (*Completion, error) {
	ck, cfg, err := openCheckpoint(opts.Checkpoint, opts.Config)
	if err != nil {
		return nil, err
	}
	if cfg.DType == "float64" {
		return completeT[float64](ck, cfg, opts)
	}
	return completeT[float32](ck, cfg, opts)
}

func completeT[T tensor.Float](ck *loadedCheckpoint, cfg *config.Config, opts CompleteOptions) (*Completion, error) {
	m, err := loadGenerative[T](ck, cfg, opts.Fetch)
	if err != nil {
		return nil, err
	}
	test := m.d.Test
	n := min(opts.N, test.Len())
	size := model.Shape(m.d.Shape).Size()
	mean := m.meanImage()
	rng := rand.New(rand.NewPCG(opts.Seed, 5))
	initRng := rngFor(cfg.Seed, streamEvalInit)
	res := &Completion{Shape: m.d.Shape}
	tl := &model.TargetMSE[T]{}
	inf := relax.NewInfer[T](m.g, tl)
	e := cfg.Eval
	set := relax.FreeSettings{Steps: e.Steps, LR: e.XLR, Momentum: e.XMomentum, FreeInput: true, Decay: e.Decay}
	var x, free, x0 tensor.Mat[T]
	hid := make([]float64, size)
	var sq, sqMean float64
	const batch = 500
	for lo := 0; lo < n; lo += batch {
		ids := test.Idx[lo:min(lo+batch, n)]
		labels := make([]int, len(ids))
		data.Batch(&x, labels, test.DS, ids, m.d.Norm)
		free.Resize(len(ids), size)
		for i := range ids {
			opts.Mask.hidden(hid, m.d.Shape, rng)
			row := free.Row(i)
			for j, h := range hid {
				row[j] = T(h)
			}
		}
		tl.Y, tl.Free = &x, &free
		initInput(&x0, len(ids), m.d.Classes, e.InputInit, initRng)
		if _, err := inf.Run(context.Background(), &x0, labels, set); err != nil {
			return nil, err
		}
		mu := inf.Prediction()
		for i := range ids {
			orig := m.toUnit(x.Row(i))
			pred := m.toUnit(mu.Row(i))
			masked := append([]float64(nil), orig...)
			done := append([]float64(nil), orig...)
			for j, f := range free.Row(i) {
				if f == 0 {
					continue
				}
				masked[j] = 0.5
				done[j] = pred[j]
				d, dm := pred[j]-orig[j], mean[j]-orig[j]
				sq += d * d
				sqMean += dm * dm
				res.MaskedPixels++
			}
			res.Original = append(res.Original, orig)
			res.Masked = append(res.Masked, masked)
			res.Completed = append(res.Completed, done)
			res.Labels = append(res.Labels, labels[i])
		}
	}
	if res.MaskedPixels > 0 {
		res.MaskedMSE = sq / float64(res.MaskedPixels)
		res.MeanFillMSE = sqMean / float64(res.MaskedPixels)
	}
	return res, nil
}

// meanImage is the training split's mean sample in [0, 1].
func (m *genModel[T]) meanImage() []float64 {
	v := m.d.Train
	size := model.Shape(m.d.Shape).Size()
	sum := make([]float64, size)
	var x tensor.Mat[T]
	labels := make([]int, 1000)
	for lo := 0; lo < v.Len(); lo += 1000 {
		ids := v.Idx[lo:min(lo+1000, v.Len())]
		data.Batch(&x, labels[:len(ids)], v.DS, ids, m.d.Norm)
		for i := range ids {
			for j, p := range m.toUnit(x.Row(i)) {
				sum[j] += p
			}
		}
	}
	for j := range sum {
		sum[j] /= float64(v.Len())
	}
	return sum
}
