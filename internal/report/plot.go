// Package report draws training curves from run directories.
package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Epoch is the part of a metrics.jsonl line a plot uses.
type Epoch struct {
	Epoch          int       `json:"epoch"`
	Method         string    `json:"method"`
	TrainLoss      float64   `json:"train_loss"`
	TestLoss       float64   `json:"test_loss"`
	TrainAcc       float64   `json:"train_acc"`
	TestAcc        float64   `json:"test_acc"`
	EnergyPerLevel []float64 `json:"energy_per_level"`
	SamplesPerSec  float64   `json:"samples_per_sec"`
}

// Alignment is the part of a telemetry.jsonl line a plot uses: per
// weight, the angle (degrees) between the feedback tensor and the weight,
// and between the rule's gradient and BP's.
type Alignment struct {
	Step          int                `json:"step"`
	FeedbackAngle map[string]float64 `json:"feedback_angle"`
	BPAngle       map[string]float64 `json:"bp_angle"`
}

// Run is one run directory's metrics, and its alignment telemetry when
// it recorded any.
type Run struct {
	Name      string
	Epochs    []Epoch
	Alignment []Alignment
}

// hasAlignment reports whether any record holds an angle.
func (r Run) hasAlignment() bool {
	for _, a := range r.Alignment {
		if len(a.FeedbackAngle) > 0 || len(a.BPAngle) > 0 {
			return true
		}
	}
	return false
}

// ReadRun reads dir/metrics.jsonl.
func ReadRun(dir string) (Run, error) {
	p := filepath.Join(dir, "metrics.jsonl")
	f, err := os.Open(p)
	if err != nil {
		return Run{}, fmt.Errorf("%s: not a run directory (%v)", dir, err)
	}
	defer f.Close()
	r := Run{Name: filepath.Base(filepath.Clean(dir))}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var e Epoch
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return Run{}, fmt.Errorf("%s:%d: %v", p, n, err)
		}
		r.Epochs = append(r.Epochs, e)
	}
	if err := sc.Err(); err != nil {
		return Run{}, fmt.Errorf("%s: %v", p, err)
	}
	if len(r.Epochs) == 0 {
		return Run{}, fmt.Errorf("%s: no epochs recorded yet", p)
	}
	if r.Alignment, err = readAlignment(filepath.Join(dir, "telemetry.jsonl")); err != nil {
		return Run{}, err
	}
	return r, nil
}

// readAlignment reads the angles of a telemetry.jsonl; none without the
// file.
func readAlignment(p string) ([]Alignment, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	defer f.Close()
	var out []Alignment
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var a Alignment
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", p, n, err)
		}
		if len(a.FeedbackAngle) > 0 || len(a.BPAngle) > 0 {
			out = append(out, a)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return out, nil
}

// Palette gives each run its colour, in order.
var Palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 255}, {R: 0xd6, G: 0x27, B: 0x28, A: 255}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 255},
	{R: 0xff, G: 0x7f, B: 0x0e, A: 255}, {R: 0x94, G: 0x67, B: 0xbd, A: 255}, {R: 0x8c, G: 0x56, B: 0x4b, A: 255},
}

func runColor(i int) color.RGBA { return Palette[i%len(Palette)] }

// Plot draws four panels — loss, accuracy, energy per level (last epoch,
// log scale) and samples/s per epoch — with every run overlaid, and
// writes a PNG. Runs with alignment telemetry add two: per weight, the
// angle between feedback and weight, and between the gradient and BP's,
// over the steps (one dash pattern per weight).
func Plot(w io.Writer, runs []Run) error {
	align := slices.ContainsFunc(runs, Run.hasAlignment)
	n := 4
	if align {
		n = 6
	}
	panels := make([]*plot.Plot, n)
	for i := range panels {
		panels[i] = plot.New()
	}
	titles := []string{"loss (solid: train, dashed: test)", "accuracy (solid: train, dashed: test)", "energy per vertex, last epoch", "samples/s",
		"angle between B and W (°), per weight", "angle to BP's gradient (°), per weight"}
	xlabels := []string{"epoch", "epoch", "vertex (input side first)", "epoch", "step", "step"}
	for i, p := range panels {
		p.Title.Text = titles[i]
		p.X.Label.Text = xlabels[i]
		p.Legend.Top = true
	}
	panels[1].Legend.Top = false
	panels[2].Y.Scale = plot.LogScale{}
	panels[2].Y.Tick.Marker = plot.LogTicks{}
	energy := false // whether any run has energies to draw
	for i, r := range runs {
		c := runColor(i)
		label := r.Name
		if m := r.Epochs[0].Method; m != "" {
			label += " (" + m + ")"
		}
		xy := func(f func(Epoch) float64) plotter.XYs {
			pts := make(plotter.XYs, len(r.Epochs))
			for k, e := range r.Epochs {
				pts[k] = plotter.XY{X: float64(e.Epoch), Y: f(e)}
			}
			return pts
		}
		add := func(p *plot.Plot, pts plotter.XYs, dashed bool, legend string) error {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color = c
			l.Width = vg.Points(2)
			if dashed {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			if legend != "" {
				p.Legend.Add(legend, l)
			}
			return nil
		}
		if err := add(panels[0], xy(func(e Epoch) float64 { return e.TrainLoss }), false, label); err != nil {
			return err
		}
		if err := add(panels[0], xy(func(e Epoch) float64 { return e.TestLoss }), true, ""); err != nil {
			return err
		}
		if err := add(panels[1], xy(func(e Epoch) float64 { return e.TrainAcc }), false, label); err != nil {
			return err
		}
		if err := add(panels[1], xy(func(e Epoch) float64 { return e.TestAcc }), true, ""); err != nil {
			return err
		}
		last := r.Epochs[len(r.Epochs)-1].EnergyPerLevel
		var pts plotter.XYs
		for k, e := range last {
			if e > 0 {
				pts = append(pts, plotter.XY{X: float64(k + 1), Y: e})
			}
		}
		if len(pts) > 0 {
			if err := add(panels[2], pts, false, label); err != nil {
				return err
			}
			energy = true
		}
		if err := add(panels[3], xy(func(e Epoch) float64 { return e.SamplesPerSec }), false, label); err != nil {
			return err
		}
		if align {
			if err := addAngles(panels[4], panels[5], r, c, label); err != nil {
				return err
			}
		}
	}
	if !energy {
		// bp runs only: an empty log axis cannot be drawn (gonum panics).
		panels[2].Y.Scale = plot.LinearScale{}
		panels[2].Y.Tick.Marker = plot.DefaultTicks{}
		panels[2].Title.Text += " (none recorded)"
	}
	var height vg.Length = 8 * vg.Inch
	grid := [][]*plot.Plot{{panels[0], panels[1]}, {panels[2], panels[3]}}
	if align {
		height = 12 * vg.Inch
		grid = append(grid, []*plot.Plot{panels[4], panels[5]})
	}
	const width = 12 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(grid), Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, dc)
	for r := range canvases {
		for c := range canvases[r] {
			panels[r*2+c].Draw(canvases[r][c])
		}
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// addAngles draws run r's angles, one line per weight in the run's colour
// (weights told apart by dash pattern, named in the legend).
func addAngles(fbPanel, bpPanel *plot.Plot, r Run, c color.RGBA, label string) error {
	dashes := [][]vg.Length{nil, {vg.Points(5), vg.Points(3)}, {vg.Points(1), vg.Points(3)}, {vg.Points(8), vg.Points(3), vg.Points(1), vg.Points(3)}}
	for _, panel := range []struct {
		p   *plot.Plot
		get func(Alignment) map[string]float64
	}{{fbPanel, func(a Alignment) map[string]float64 { return a.FeedbackAngle }}, {bpPanel, func(a Alignment) map[string]float64 { return a.BPAngle }}} {
		var names []string
		for _, a := range r.Alignment {
			for name := range panel.get(a) {
				// Weights only: a bias's angle says little about
				// alignment and would double the lines.
				if !slices.Contains(names, name) && !strings.HasSuffix(name, "bias") {
					names = append(names, name)
				}
			}
		}
		slices.Sort(names)
		for k, name := range names {
			var pts plotter.XYs
			for _, a := range r.Alignment {
				if v, ok := panel.get(a)[name]; ok {
					pts = append(pts, plotter.XY{X: float64(a.Step), Y: v})
				}
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color = c
			l.Width = vg.Points(2)
			l.Dashes = dashes[k%len(dashes)]
			panel.p.Add(l)
			panel.p.Legend.Add(label+" "+name, l)
		}
	}
	return nil
}
