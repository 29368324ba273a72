package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/train"
)

type generateOptions struct {
	cfg        configFlags
	checkpoint string
	labels     string
	perLabel   int
	noise      float64
	seed       uint64
	out        string
	npz        string
}

func newGenerateCommand(g *globals) *cobra.Command {
	o := &generateOptions{}
	cmd := &cobra.Command{
		Use:   "generate --checkpoint FILE [--labels 0-9] [--per-label N] -o grid.png [--npz FILE]",
		Short: "Generate samples from a generative network (data.direction generative), one row per label",
		Long: `Generate samples from a generative PC network: the label clamped at the input (one-hot, plus
--noise), the output free, eval.steps inference steps (they change the feed-forward sample only
when eval.decay > 0). -o writes a PNG grid, one row per label; --npz writes the arrays images
(pixel intensities in [0, 1]) and labels.` + exitStatusHelp,
		Example: `  pctrain generate --checkpoint runs/mnist-generative-pc/checkpoints/last.safetensors -o grid.png
  pctrain generate --checkpoint C --labels 3,7 --per-label 8 --noise 0.2 -o g.png --npz g.npz`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGenerate(g, o) },
	}
	o.cfg.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.checkpoint, "checkpoint", "", "safetensors checkpoint of a generative network (required)")
	f.StringVar(&o.labels, "labels", "0-9", "labels to generate: a range 0-9 or a list 1,3,5")
	f.IntVar(&o.perLabel, "per-label", 1, "samples per label (columns of the grid)")
	f.Float64Var(&o.noise, "noise", 0, "standard deviation of Gaussian noise added to the one-hot input")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the input noise")
	f.StringVarP(&o.out, "out", "o", "", "PNG file of the grid (required unless --npz)")
	f.StringVar(&o.npz, "npz", "", "also write the samples as .npz (images in [0, 1], labels)")
	return cmd
}

// parseLabels reads "0-9", "3" or "1,3,5".
func parseLabels(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || a < 0 {
			return nil, fmt.Errorf("--labels %q: want a range such as 0-9 or a list such as 1,3,5", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || b < a {
				return nil, fmt.Errorf("--labels %q: want a range such as 0-9 or a list such as 1,3,5", s)
			}
		}
		for l := a; l <= b; l++ {
			out = append(out, l)
		}
	}
	return out, nil
}

func (c *configFlags) maybeLoad() (*config.Config, error) {
	if c.file == "" && len(c.sets) == 0 {
		return nil, nil
	}
	return c.load()
}

func runGenerate(g *globals, o *generateOptions) error {
	if o.checkpoint == "" {
		return usageError{fmt.Errorf("generate needs --checkpoint FILE")}
	}
	if o.out == "" && o.npz == "" {
		return usageError{fmt.Errorf("generate needs -o FILE (or --npz FILE)")}
	}
	labels, err := parseLabels(o.labels)
	if err != nil {
		return usageError{err}
	}
	if o.perLabel < 1 {
		return usageError{fmt.Errorf("--per-label %d: must be ≥ 1", o.perLabel)}
	}
	if !(o.noise >= 0) {
		return usageError{fmt.Errorf("--noise %g: must be ≥ 0", o.noise)}
	}
	cfg, err := o.cfg.maybeLoad()
	if err != nil {
		return err
	}
	rep := newReporter(g)
	im, err := train.Generate(train.GenerateOptions{Checkpoint: o.checkpoint, Config: cfg, Labels: labels, PerLabel: o.perLabel,
		Noise: o.noise, Seed: o.seed, Fetch: train.FetchOptions{Logf: rep.Logf, Progress: rep.fetchProgress}})
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := writeGrid(o.out, im.Shape, im.Pixels, len(labels), o.perLabel); err != nil {
			return err
		}
	}
	if o.npz != "" {
		flat := make([]float32, 0, len(im.Pixels)*len(im.Pixels[0]))
		for _, p := range im.Pixels {
			for _, v := range p {
				flat = append(flat, float32(v))
			}
		}
		ls := make([]int64, len(im.Labels))
		for i, l := range im.Labels {
			ls[i] = int64(l)
		}
		f, err := os.Create(o.npz)
		if err != nil {
			return usageError{fmt.Errorf("--npz: %v", err)}
		}
		err = data.WriteNPZ(f, map[string][]byte{
			"images": data.EncodeNPY(append([]int{len(im.Pixels)}, im.Shape...), flat),
			"labels": data.EncodeNPY([]int{len(ls)}, ls),
		}, []string{"images", "labels"})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--npz %s: %v", o.npz, err)
		}
	}
	return nil
}

// writeGrid writes samples (each of shape [C, H, W], [H, W] or a square
// [D]) as a PNG grid of rows × cols cells, row-major, 2× enlarged, with a
// 2-pixel gray gap.
func writeGrid(path string, shape []int, samples [][]float64, rows, cols int) error {
	ch, h, w := 1, 1, len(samples[0])
	switch len(shape) {
	case 3:
		ch, h, w = shape[0], shape[1], shape[2]
	case 2:
		h, w = shape[0], shape[1]
	default:
		for s := 1; s*s <= w; s++ {
			if s*s == w {
				h, w = s, s
			}
		}
	}
	const zoom, gap = 2, 2
	cw, chh := w*zoom+gap, h*zoom+gap
	img := image.NewRGBA(image.Rect(0, 0, cols*cw+gap, rows*chh+gap))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	for k, s := range samples {
		r, c := k/cols, k%cols
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var px [3]uint8
				for q := 0; q < 3; q++ {
					v := s[min(q, ch-1)*h*w+y*w+x]
					px[q] = uint8(v*255 + 0.5)
				}
				for dy := 0; dy < zoom; dy++ {
					for dx := 0; dx < zoom; dx++ {
						img.Set(gap+c*cw+x*zoom+dx, gap+r*chh+y*zoom+dy, color.RGBA{px[0], px[1], px[2], 255})
					}
				}
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return usageError{fmt.Errorf("-o: %v", err)}
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("-o %s: %v", path, err)
	}
	return f.Close()
}

type completeOptions struct {
	cfg        configFlags
	checkpoint string
	mask       string
	n          int
	seed       uint64
	out        string
	json       bool
}

func newCompleteCommand(g *globals) *cobra.Command {
	o := &completeOptions{}
	cmd := &cobra.Command{
		Use:   "complete --checkpoint FILE --mask bottom-half|right-half|random:0.5 [--n 16] -o grid.png [--json]",
		Short: "Complete masked test images with a generative network (associative memory)",
		Long: `Hide part of each of the first --n test images and infer it: the visible pixels clamped at the
output, the hidden ones free, the label vertex free (eval.input_init), eval.steps steps. -o writes
a PNG with original, masked and completed side by side, one image per row. It reports the mean
squared error of the hidden pixels and, for comparison, of filling them with the training set's
mean image, both on the [0, 1] pixel scale (--json: n, masked_mse, mean_fill_mse).` + exitStatusHelp,
		Example: `  pctrain complete --checkpoint runs/mnist-generative-pc/checkpoints/last.safetensors --mask bottom-half -o c.png
  pctrain complete --checkpoint C --mask random:0.5 --n 1000 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runComplete(g, o, cmd.OutOrStdout()) },
	}
	o.cfg.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.checkpoint, "checkpoint", "", "safetensors checkpoint of a generative network (required)")
	f.StringVar(&o.mask, "mask", "", "hidden pixels: bottom-half, right-half or random:P (required)")
	f.IntVar(&o.n, "n", 16, "number of test images")
	f.Uint64Var(&o.seed, "seed", 1, "seed of a random mask")
	f.StringVarP(&o.out, "out", "o", "", "PNG file: original, masked, completed per row")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runComplete(g *globals, o *completeOptions, stdout io.Writer) error {
	if o.checkpoint == "" {
		return usageError{fmt.Errorf("complete needs --checkpoint FILE")}
	}
	if o.mask == "" {
		return usageError{fmt.Errorf("complete needs --mask bottom-half|right-half|random:P")}
	}
	mask, err := train.ParseMask(o.mask)
	if err != nil {
		return usageError{fmt.Errorf("--mask %v", err)}
	}
	if o.n < 1 {
		return usageError{fmt.Errorf("--n %d: must be ≥ 1", o.n)}
	}
	cfg, err := o.cfg.maybeLoad()
	if err != nil {
		return err
	}
	rep := newReporter(g)
	c, err := train.Complete(train.CompleteOptions{Checkpoint: o.checkpoint, Config: cfg, Mask: mask, N: o.n, Seed: o.seed,
		Fetch: train.FetchOptions{Logf: rep.Logf, Progress: rep.fetchProgress}})
	if err != nil {
		return err
	}
	if o.out != "" {
		var cells [][]float64
		for i := range c.Original {
			cells = append(cells, c.Original[i], c.Masked[i], c.Completed[i])
		}
		if err := writeGrid(o.out, c.Shape, cells, len(c.Original), 3); err != nil {
			return err
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			N           int     `json:"n"`
			MaskedMSE   float64 `json:"masked_mse"`
			MeanFillMSE float64 `json:"mean_fill_mse"`
		}{len(c.Original), c.MaskedMSE, c.MeanFillMSE})
	}
	fmt.Fprintf(stdout, "%d images, %d hidden pixels: completion MSE %.5f, mean-image fill MSE %.5f\n", len(c.Original), c.MaskedPixels, c.MaskedMSE, c.MeanFillMSE)
	return nil
}
