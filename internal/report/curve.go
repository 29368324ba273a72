package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Curve is one line of a sweep plotted against a swept key: the runs of
// one folder that share every other setting, averaged over seeds at each
// value X of the key.
type Curve struct {
	// Label is the sweep folder's name and the other settings.
	Label string
	// X are the key's values, ascending; Acc the mean final test accuracy
	// and SecPerEpoch the mean training seconds per epoch there; Seeds
	// the number of runs averaged.
	X, Acc, SecPerEpoch []float64
	Seeds               []int
}

// ReadCurves reads the finished runs (sweep.json and summary.json) of
// every sweep folder in dirs and groups them into curves over the numeric
// swept key x. A folder without finished runs that sweep x is an error.
func ReadCurves(dirs []string, x string) ([]Curve, error) {
	var curves []Curve
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		type acc struct{ acc, sec []float64 }
		groups := map[string]map[float64]*acc{}
		for _, e := range entries {
			run := filepath.Join(dir, e.Name())
			var tag struct {
				Combo string `json:"combo"`
			}
			var sum struct {
				FinalTestAcc float64 `json:"final_test_acc"`
				Epochs       int     `json:"epochs"`
				TrainSeconds float64 `json:"train_seconds"`
			}
			if readJSON(filepath.Join(run, "sweep.json"), &tag) != nil || readJSON(filepath.Join(run, "summary.json"), &sum) != nil {
				continue
			}
			var rest []string
			xv, found := 0.0, false
			for _, kv := range strings.Fields(tag.Combo) {
				k, v, _ := strings.Cut(kv, "=")
				if k != x {
					rest = append(rest, kv)
					continue
				}
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, fmt.Errorf("%s: %s=%s is not a number", run, k, v)
				}
				xv, found = f, true
			}
			if !found {
				continue
			}
			label := strings.Join(rest, " ")
			if groups[label] == nil {
				groups[label] = map[float64]*acc{}
			}
			a := groups[label][xv]
			if a == nil {
				a = &acc{}
				groups[label][xv] = a
			}
			a.acc = append(a.acc, sum.FinalTestAcc)
			if sum.Epochs > 0 {
				a.sec = append(a.sec, sum.TrainSeconds/float64(sum.Epochs))
			}
		}
		if len(groups) == 0 {
			return nil, fmt.Errorf("%s: no finished sweep runs over %s", dir, x)
		}
		labels := make([]string, 0, len(groups))
		for l := range groups {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		for _, l := range labels {
			c := Curve{Label: strings.TrimSpace(filepath.Base(filepath.Clean(dir)) + " " + l)}
			var xs []float64
			for xv := range groups[l] {
				xs = append(xs, xv)
			}
			sort.Float64s(xs)
			for _, xv := range xs {
				a := groups[l][xv]
				c.X = append(c.X, xv)
				c.Acc = append(c.Acc, mean(a.acc))
				c.SecPerEpoch = append(c.SecPerEpoch, mean(a.sec))
				c.Seeds = append(c.Seeds, len(a.acc))
			}
			curves = append(curves, c)
		}
	}
	return curves, nil
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// WriteCurveTable writes the curves as a Markdown table: one row per x
// value, one column per curve (test accuracy in %, seconds per epoch).
func WriteCurveTable(w io.Writer, curves []Curve, x string) error {
	xs := map[float64]bool{}
	for _, c := range curves {
		for _, v := range c.X {
			xs[v] = true
		}
	}
	var keys []float64
	for v := range xs {
		keys = append(keys, v)
	}
	sort.Float64s(keys)
	fmt.Fprintf(w, "| %s |", x)
	for _, c := range curves {
		fmt.Fprintf(w, " %s |", c.Label)
	}
	fmt.Fprint(w, "\n|---|")
	for range curves {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, v := range keys {
		fmt.Fprintf(w, "| %g |", v)
		for _, c := range curves {
			cell := " — |"
			for i, cx := range c.X {
				if cx == v {
					cell = fmt.Sprintf(" %.2f %% (%.1f s/epoch, %d seed(s)) |", 100*c.Acc[i], c.SecPerEpoch[i], c.Seeds[i])
				}
			}
			fmt.Fprint(w, cell)
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, "\nfinal test accuracy, mean over seeds; training seconds per epoch")
	return err
}

// PlotCurves draws final test accuracy (left) and seconds per epoch (right,
// log scale) against x, one line per curve, x on a log₂ axis, as a PNG.
func PlotCurves(w io.Writer, curves []Curve, x string) error {
	acc, sec := plot.New(), plot.New()
	acc.Title.Text, sec.Title.Text = "final test accuracy", "training seconds per epoch"
	for _, p := range []*plot.Plot{acc, sec} {
		p.X.Label.Text = x
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = powersOfTwo{}
		p.Legend.Top = false
		p.Legend.Left = true
	}
	sec.Y.Scale = plot.LogScale{}
	sec.Y.Tick.Marker = plot.LogTicks{}
	sec.Legend.Top, sec.Legend.Left = true, true
	for i, c := range curves {
		for k, p := range []*plot.Plot{acc, sec} {
			var pts plotter.XYs
			for j, xv := range c.X {
				y := c.Acc[j]
				if k == 1 {
					y = c.SecPerEpoch[j]
				}
				if xv > 0 && (k == 0 || y > 0) {
					pts = append(pts, plotter.XY{X: xv, Y: y})
				}
			}
			if len(pts) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				return err
			}
			l.Color, s.Color = runColor(i), runColor(i)
			l.Width = vg.Points(2)
			p.Add(l, s)
			p.Legend.Add(c.Label, l, s)
		}
	}
	const width, height = 12 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{acc, sec}}, tiles, dc)
	acc.Draw(canvases[0][0])
	sec.Draw(canvases[0][1])
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// powersOfTwo ticks a log axis at 1, 2, 4, 8, ….
type powersOfTwo struct{}

func (powersOfTwo) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for v := 1.0; v <= max*1.0001; v *= 2 {
		if v >= min*0.9999 {
			t = append(t, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
	}
	return t
}
