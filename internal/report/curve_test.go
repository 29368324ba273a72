package report

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A sweep over model.depth × method with two seeds becomes one curve per
// method, each point the mean over its seeds, x ascending; runs without
// summary.json (unfinished) are left out; the table and the PNG are made.
func TestReadCurvesGroupsBySettings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "depth")
	write := func(name, combo string, acc, sec float64, finished bool) {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "sweep.json"), []byte(fmt.Sprintf(`{"combo": %q, "seed": 1}`, combo)), 0o644)
		if finished {
			os.WriteFile(filepath.Join(d, "summary.json"), []byte(fmt.Sprintf(`{"final_test_acc": %g, "epochs": 2, "train_seconds": %g}`, acc, sec)), 0o644)
		}
	}
	write("a", "model.depth=16 method=bp", 0.9, 10, true)
	write("b", "model.depth=16 method=bp", 0.8, 30, true)
	write("c", "model.depth=4 method=bp", 0.95, 4, true)
	write("d", "model.depth=4 method=pc", 0.5, 8, true)
	write("e", "model.depth=16 method=pc", 0.1, 8, false)
	curves, err := ReadCurves([]string{dir}, "model.depth")
	if err != nil {
		t.Fatal(err)
	}
	if len(curves) != 2 || curves[0].Label != "depth method=bp" || curves[1].Label != "depth method=pc" {
		t.Fatalf("curves %+v", curves)
	}
	bp := curves[0]
	if fmt.Sprint(bp.X) != "[4 16]" || math.Abs(bp.Acc[1]-0.85) > 1e-12 || bp.SecPerEpoch[1] != 10 || bp.Seeds[1] != 2 || bp.Acc[0] != 0.95 {
		t.Errorf("bp curve %+v", bp)
	}
	if fmt.Sprint(curves[1].X) != "[4]" {
		t.Errorf("unfinished run counted: %+v", curves[1])
	}
	var tab, png bytes.Buffer
	if err := WriteCurveTable(&tab, curves, "model.depth"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab.String(), "| 16 | 85.00 % (10.0 s/epoch, 2 seed(s)) | — |") {
		t.Errorf("table:\n%s", tab.String())
	}
	if err := PlotCurves(&png, curves, "model.depth"); err != nil || !bytes.HasPrefix(png.Bytes(), []byte("\x89PNG")) {
		t.Errorf("plot: %v", err)
	}
	if _, err := ReadCurves([]string{dir}, "pc.steps"); err == nil {
		t.Error("a folder that does not sweep the key gave no error")
	}
}
