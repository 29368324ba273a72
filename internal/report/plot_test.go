package report

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func writeRun(t *testing.T, dir, method string, n int, acc func(int) float64) string {
	t.Helper()
	d := filepath.Join(dir, method)
	os.MkdirAll(d, 0o755)
	var b bytes.Buffer
	for e := 1; e <= n; e++ {
		fmt.Fprintf(&b, `{"epoch":%d,"method":%q,"train_loss":%g,"test_loss":%g,"train_acc":%g,"test_acc":%g,"energy_per_level":[0.01,0.1,%g],"samples_per_sec":%d}`+"\n",
			e, method, 1/float64(e), 1.2/float64(e), acc(e), acc(e)-0.01, 1/float64(e), 1000*e)
	}
	os.WriteFile(filepath.Join(d, "metrics.jsonl"), b.Bytes(), 0o644)
	return d
}

// The PNG decodes, has the promised size, and shows each run in its own
// colour: the pixels of run i's colour appear, and a second run adds the
// second colour, which a single-run plot lacks.
func TestPlotShowsEveryRun(t *testing.T) {
	dir := t.TempDir()
	a, _ := ReadRun(writeRun(t, dir, "pc", 5, func(e int) float64 { return 0.9 + 0.01*float64(e) }))
	b, _ := ReadRun(writeRun(t, dir, "bp", 5, func(e int) float64 { return 0.92 + 0.01*float64(e) }))
	count := func(runs []Run) map[int]int {
		var buf bytes.Buffer
		if err := Plot(&buf, runs); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("not a PNG: %v", err)
		}
		if s := img.Bounds().Size(); s.X < 800 || s.Y < 500 {
			t.Fatalf("image %v too small", s)
		}
		n := map[int]int{}
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				r, g, bb, _ := img.At(x, y).RGBA()
				for i, c := range Palette[:2] {
					if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bb>>8) == c.B {
						n[i]++
					}
				}
			}
		}
		return n
	}
	one := count([]Run{a})
	two := count([]Run{a, b})
	if one[0] < 200 || one[1] != 0 {
		t.Fatalf("one run: %d pixels of its colour, %d of the second", one[0], one[1])
	}
	if two[0] < 200 || two[1] < 200 {
		t.Fatalf("two runs: %d and %d pixels of their colours", two[0], two[1])
	}
}

func TestReadRunErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRun(dir); err == nil {
		t.Fatal("empty directory accepted")
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte("{\"epoch\":1}\nnot json\n"), 0o644)
	if _, err := ReadRun(dir); err == nil {
		t.Fatal("corrupt metrics accepted")
	}
}

// A run with alignment telemetry gets the two angle panels (a taller
// image, its colour in them); one with BP angles only (dfa has no B–W
// angle) still draws; a telemetry line without angles adds none.
func TestPlotShowsAlignment(t *testing.T) {
	dir := t.TempDir()
	plain, _ := ReadRun(writeRun(t, dir, "bp", 3, func(e int) float64 { return 0.9 }))
	d := writeRun(t, dir, "fa", 3, func(e int) float64 { return 0.9 })
	os.WriteFile(filepath.Join(d, "telemetry.jsonl"), []byte(
		`{"step":1,"weight_norms":{}}`+"\n"+
			`{"step":2,"feedback_angle":{"layers.1.weight":80},"bp_angle":{"layers.0.weight":70,"layers.1.weight":10,"layers.1.bias":5}}`+"\n"+
			`{"step":5,"feedback_angle":{"layers.1.weight":60},"bp_angle":{"layers.0.weight":50,"layers.1.weight":0,"layers.1.bias":0}}`+"\n"), 0o644)
	fa, err := ReadRun(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa.Alignment) != 2 || fa.Alignment[1].FeedbackAngle["layers.1.weight"] != 60 {
		t.Fatalf("alignment read as %+v", fa.Alignment)
	}
	d2 := writeRun(t, dir, "dfa", 3, func(e int) float64 { return 0.9 })
	os.WriteFile(filepath.Join(d2, "telemetry.jsonl"), []byte(`{"step":1,"bp_angle":{"layers.0.weight":40}}`+"\n"), 0o644)
	dfa, _ := ReadRun(d2)
	height := func(runs ...Run) int {
		var buf bytes.Buffer
		if err := Plot(&buf, runs); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return img.Bounds().Dy()
	}
	if h0, h1 := height(plain), height(plain, fa); h1 <= h0 {
		t.Errorf("with alignment the image is %d px tall, without %d: no angle panels", h1, h0)
	}
	if h0, h1 := height(plain), height(dfa); h1 <= h0 {
		t.Errorf("BP angles alone add no panels")
	}
}
