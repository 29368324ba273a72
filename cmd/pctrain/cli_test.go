package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/data"
)

// result is what a user sees from one command line.
type result struct {
	code           int
	stdout, stderr string
}

func pctrain(t *testing.T, dir string, args ...string) result {
	t.Helper()
	old, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(old)
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// writeBlobs writes a tiny 3-class problem: Gaussian blobs in 20
// dimensions whose means are far apart, so any working method separates
// them.
// writeImages16 writes a tiny 3-class image problem for the convolutional
// model types: 1×16×16 images (VGG-5's four poolings need 16 pixels),
// each class a different bright square on noise.
func writeImages16(t *testing.T, path string, nTrain, nTest int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(44, 45))
	const side, d = 16, 16 * 16
	gen := func(n int) ([]float32, []int64) {
		x := make([]float32, n*d)
		y := make([]int64, n)
		for i := 0; i < n; i++ {
			c := i % 3
			y[i] = int64(c)
			for j := 0; j < d; j++ {
				v := 0.2 * rng.NormFloat64()
				if r, col := j/side, j%side; r/6 == c && col/6 == c {
					v += 1
				}
				x[i*d+j] = float32(v)
			}
		}
		return x, y
	}
	xtr, ytr := gen(nTrain)
	xte, yte := gen(nTest)
	arrs := map[string][]byte{
		"x_train": data.EncodeNPY([]int{nTrain, 1, side, side}, xtr), "y_train": data.EncodeNPY([]int{nTrain}, ytr),
		"x_test": data.EncodeNPY([]int{nTest, 1, side, side}, xte), "y_test": data.EncodeNPY([]int{nTest}, yte),
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := data.WriteNPZ(f, arrs, []string{"x_train", "y_train", "x_test", "y_test"}); err != nil {
		t.Fatal(err)
	}
}

func writeBlobs(t *testing.T, path string, nTrain, nTest int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 43))
	const d, k = 20, 3
	means := make([][]float64, k)
	for c := range means {
		means[c] = make([]float64, d)
		for j := range means[c] {
			means[c][j] = 2 * rng.NormFloat64()
		}
	}
	gen := func(n int) ([]float32, []int64) {
		x := make([]float32, n*d)
		y := make([]int64, n)
		for i := 0; i < n; i++ {
			c := i % k
			y[i] = int64(c)
			for j := 0; j < d; j++ {
				x[i*d+j] = float32(means[c][j] + rng.NormFloat64())
			}
		}
		return x, y
	}
	xtr, ytr := gen(nTrain)
	xte, yte := gen(nTest)
	arrs := map[string][]byte{
		"x_train": data.EncodeNPY([]int{nTrain, d}, xtr), "y_train": data.EncodeNPY([]int{nTrain}, ytr),
		"x_test": data.EncodeNPY([]int{nTest, d}, xte), "y_test": data.EncodeNPY([]int{nTest}, yte),
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := data.WriteNPZ(f, arrs, []string{"x_train", "y_train", "x_test", "y_test"}); err != nil {
		t.Fatal(err)
	}
}

const tinyConfig = `seed: 3
method: bp
loss: ce
data:
  name: npz
  path: blobs.npz
  batch_size: 32
model:
  sizes: [20, 16, 3]
  activation: tanh
pc:
  steps: 8
  x_lr: 0.1
  x_momentum: 0.5
optim:
  name: adam
  lr: 0.01
train:
  epochs: 3
`

func setup(t *testing.T) string {
	dir := t.TempDir()
	writeBlobs(t, filepath.Join(dir, "blobs.npz"), 300, 90)
	writeImages16(t, filepath.Join(dir, "images.npz"), 24, 12)
	if err := os.WriteFile(filepath.Join(dir, "tiny.yaml"), []byte(tinyConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readSummary(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func readMetrics(t *testing.T, path string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

// Train with bp and pc, check every output file, evaluate the checkpoint,
// and restart from it with model.init_from.
func TestTrainEvalInitFrom(t *testing.T) {
	dir := setup(t)
	for _, method := range []string{"bp", "pc", "zil", "fa-zil"} {
		t.Run(method, func(t *testing.T) {
			out := "run-" + method
			r := pctrain(t, dir, "train", "--config", "tiny.yaml", "--set", "method="+method, "--out", out)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "final test accuracy") {
				t.Errorf("stdout lacks the result line: %q", r.stdout)
			}
			run := filepath.Join(dir, out)
			for _, f := range []string{"config.yaml", "metrics.csv", "checkpoints/last.safetensors", "checkpoints/best.safetensors"} {
				if _, err := os.Stat(filepath.Join(run, f)); err != nil {
					t.Errorf("missing %s", f)
				}
			}
			ms := readMetrics(t, filepath.Join(run, "metrics.jsonl"))
			if len(ms) != 3 {
				t.Fatalf("%d metrics lines, want 3 epochs", len(ms))
			}
			csv, _ := os.ReadFile(filepath.Join(run, "metrics.csv"))
			if n := strings.Count(string(csv), "\n"); n != 4 {
				t.Errorf("metrics.csv has %d lines, want header + 3", n)
			}
			last := ms[2]
			// data.val_split's default 0.1 holds out 30 of the 300
			// samples: 270 train in 9 batches of 32.
			if last["method"] != method || last["epoch"].(float64) != 3 || last["step"].(float64) != 27 {
				t.Errorf("last metrics %v", last)
			}
			// Three well-separated blobs: every method must learn them.
			acc := last["test_acc"].(float64)
			if acc < 0.9 || acc > 1 {
				t.Errorf("test accuracy %g: the blobs are separable, want ≥ 0.9", acc)
			}
			s := readSummary(t, filepath.Join(run, "summary.json"))
			if s["final_test_acc"].(float64) != acc || s["best_selected_by"] != "val_acc" || s["seed"].(float64) != 3 {
				t.Errorf("summary %v disagrees with metrics", s)
			}
			// eval of best.safetensors reproduces the validation-selected
			// epoch's test accuracy and says how it was chosen.
			ev := pctrain(t, dir, "eval", "--checkpoint", filepath.Join(out, "checkpoints", "best.safetensors"), "--json")
			if ev.code != 0 {
				t.Fatalf("eval exit %d: %s", ev.code, ev.stderr)
			}
			var er map[string]any
			if err := json.Unmarshal([]byte(ev.stdout), &er); err != nil {
				t.Fatalf("eval --json: %v: %q", err, ev.stdout)
			}
			if er["accuracy"].(float64) != s["best_test_acc"].(float64) || er["samples"].(float64) != 90 ||
				er["selected_by"] != "val_acc" || er["epoch"].(float64) != s["best_epoch"].(float64) {
				t.Errorf("eval accuracy %v, summary best %v", er["accuracy"], s["best_test_acc"])
			}
			// init_from with a vanishing learning rate keeps the weights:
			// the new run's accuracy is the checkpoint's.
			r2 := pctrain(t, dir, "train", "--config", "tiny.yaml", "--set", "method="+method, "--out", out+"-again",
				"--set", "model.init_from="+filepath.Join(out, "checkpoints", "last.safetensors"),
				"--set", "optim.lr=1e-30", "--set", "train.epochs=1")
			if r2.code != 0 {
				t.Fatalf("init_from exit %d: %s", r2.code, r2.stderr)
			}
			s2 := readSummary(t, filepath.Join(dir, out+"-again", "summary.json"))
			if s2["final_test_acc"].(float64) != acc {
				t.Errorf("restarted from the checkpoint: accuracy %v, want %v", s2["final_test_acc"], acc)
			}
		})
	}
}

// Same seed and config twice give identical metrics apart from timing.
func TestDeterminism(t *testing.T) {
	dir := setup(t)
	timing := regexp.MustCompile(`"(seconds|samples_per_sec)":[^,}]*`)
	for _, dtype := range []string{"float32", "float64"} {
		for _, method := range []string{"bp", "pc"} {
			var runs [2]string
			for i := range runs {
				out := filepath.Join(dtype+method, string(rune('a'+i)))
				r := pctrain(t, dir, "train", "-c", "tiny.yaml", "--set", "dtype="+dtype, "--set", "method="+method, "--out", out, "-q")
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				raw, _ := os.ReadFile(filepath.Join(dir, out, "metrics.jsonl"))
				runs[i] = timing.ReplaceAllString(string(raw), "")
			}
			if runs[0] != runs[1] || runs[0] == "" {
				t.Errorf("%s/%s: metrics differ between identical runs:\n%s\n%s", dtype, method, runs[0], runs[1])
			}
		}
	}
}

// Every user mistake gives exit 2 and one line naming what is wrong.
func TestUserErrors(t *testing.T) {
	dir := setup(t)
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "--out", "good", "-q"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "--out", "noval", "-q", "--set", "data.val_split=0", "--set", "train.epochs=1"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "typo.yaml"), []byte(strings.Replace(tinyConfig, "batch_size", "batch_sise", 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "corrupt.safetensors"), []byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":"), 0o644)
	os.WriteFile(filepath.Join(dir, "other.yaml"), []byte(strings.Replace(tinyConfig, "[20, 16, 3]", "[20, 8, 3]", 1)), 0o644)
	ck := filepath.Join("good", "checkpoints", "last.safetensors")
	os.WriteFile(filepath.Join(dir, "afile"), []byte("x"), 0o644)
	// MNIST-format files: a truncated image file, and labels beyond 9.
	trunc := filepath.Join(dir, "trunc")
	os.Mkdir(trunc, 0o755)
	img := data.EncodeIDX([]int{2, 28, 28}, make([]uint8, 2*784))
	os.WriteFile(filepath.Join(trunc, "train-images-idx3-ubyte"), img[:len(img)-10], 0o644)
	for _, f := range []string{"train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"} {
		os.WriteFile(filepath.Join(trunc, f), data.EncodeIDX([]int{2}, []uint8{1, 12}), 0o644)
	}
	os.WriteFile(filepath.Join(trunc, "t10k-images-idx3-ubyte"), img, 0o644)
	badLabels := filepath.Join(dir, "labels")
	os.Mkdir(badLabels, 0o755)
	for _, p := range []string{"train", "t10k"} {
		os.WriteFile(filepath.Join(badLabels, p+"-images-idx3-ubyte"), img, 0o644)
		os.WriteFile(filepath.Join(badLabels, p+"-labels-idx1-ubyte"), data.EncodeIDX([]int{2}, []uint8{1, 12}), 0o644)
	}
	// A checkpoint cut short.
	full, _ := os.ReadFile(filepath.Join(dir, ck))
	os.WriteFile(filepath.Join(dir, "short.safetensors"), full[:len(full)/2], 0o644)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown key", []string{"train", "-c", "typo.yaml"}, []string{"typo.yaml", "data.batch_sise", `did you mean "data.batch_size"`}},
		{"missing config", []string{"train", "-c", "nope.yaml"}, []string{"nope.yaml"}},
		{"no config", []string{"train"}, []string{"--config"}},
		{"missing data", []string{"train", "-c", "tiny.yaml", "--set", "data.path=missing.npz"}, []string{"data.path", "missing.npz"}},
		{"bad value", []string{"train", "-c", "tiny.yaml", "--set", "optim.lr=0"}, []string{"optim.lr: must be > 0"}},
		{"sizes do not match data", []string{"train", "-c", "tiny.yaml", "--set", "model.sizes=[784,10]"}, []string{"model.sizes", "20 values"}},
		{"existing run dir", []string{"train", "-c", "tiny.yaml", "--out", "good"}, []string{"good already holds a run", "--resume"}},
		{"unknown flag", []string{"train", "--bogus"}, []string{"bogus"}},
		{"unknown command", []string{"trian"}, []string{"unknown command"}},
		{"corrupt checkpoint", []string{"eval", "--checkpoint", "corrupt.safetensors"}, []string{"corrupt.safetensors"}},
		{"missing checkpoint", []string{"eval", "--checkpoint", "none.safetensors"}, []string{"none.safetensors", "does not exist"}},
		{"other architecture", []string{"train", "-c", "other.yaml", "--set", "model.init_from=" + ck}, []string{"model.init_from", "layers.0.weight", "[16 20]", "[8 20]"}},
		{"bad split", []string{"eval", "--checkpoint", ck, "--split", "dev"}, []string{"--split"}},
		{"truncated checkpoint", []string{"eval", "--checkpoint", "short.safetensors"}, []string{"short.safetensors", "truncated"}},
		{"unwritable out dir", []string{"train", "-c", "tiny.yaml", "--out", "afile/run"}, []string{"train.out_dir", "afile/run"}},
		{"truncated IDX", []string{"train", "-c", "tiny.yaml", "--set", "data.name=mnist", "--set", "data.dir=trunc", "--set", "model.sizes=[784,10]"}, []string{"train-images-idx3-ubyte", "truncated"}},
		{"labels out of range", []string{"train", "-c", "tiny.yaml", "--set", "data.name=mnist", "--set", "data.dir=labels", "--set", "model.sizes=[784,10]"}, []string{"train-labels-idx1-ubyte", "label 12"}},
		{"yaml --set value", []string{"train", "-c", "tiny.yaml", "--set", "model.sizes=[1,"}, []string{"--set model.sizes", "not valid YAML"}},
		{"val split without val", []string{"eval", "--checkpoint", filepath.Join("noval", "checkpoints", "last.safetensors"), "--split", "val"}, []string{"data.val_split"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := pctrain(t, dir, c.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			msg := lines[len(lines)-1]
			if !strings.HasPrefix(msg, "pctrain: ") {
				t.Errorf("error line %q lacks the pctrain: prefix", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
	// The failed runs left the good run untouched.
	if s := readSummary(t, filepath.Join(dir, "good", "summary.json")); s["epochs"].(float64) != 3 {
		t.Errorf("good run changed: %v", s)
	}
}

// A divergent run stops with exit 3, names the quantity and keeps the last
// good checkpoint.
func TestDivergence(t *testing.T) {
	dir := setup(t)
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "--set", "method=pc", "--set", "pc.x_lr=50", "--set", "pc.steps=40", "--out", "div", "-q")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3 (stderr %q)", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "diverged") || !strings.Contains(r.stderr, "pc.x_lr") {
		t.Errorf("message %q should say what diverged and suggest lowering pc.x_lr", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "div", "summary.json")); err == nil {
		t.Error("a diverged run wrote a summary")
	}
	// Energy growth is caught before anything becomes NaN: a value-node
	// step of 5 (the eps_l term alone has curvature 1, so steps above 2 overshoot) makes F grow.
	r = pctrain(t, dir, "train", "-c", "tiny.yaml", "--set", "method=pc", "--set", "pc.x_lr=5", "--set", "pc.steps=8", "--set", "pc.x_momentum=0", "--out", "grow", "-q")
	if r.code != 3 || !strings.Contains(r.stderr, "inference energy grew from") || !strings.Contains(r.stderr, "pc.energy_growth_limit") {
		t.Errorf("energy growth: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"train", "eval", "compare", "graph", "plot", "sweep", "data fetch", "version"} {
		r := pctrain(t, dir, append(strings.Fields(c), "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage") || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help: exit %d, no usage or examples: %q", c, r.code, r.stdout)
		}
		if c != "version" && !strings.Contains(r.stdout, "EXIT STATUS") {
			t.Errorf("%s --help lacks EXIT STATUS", c)
		}
	}
	if r := pctrain(t, dir, "completion", "bash"); r.code != 0 || !strings.Contains(r.stdout, "pctrain") {
		t.Errorf("completion bash: exit %d", r.code)
	}
	r := pctrain(t, dir, "version")
	if r.code != 0 || !strings.Contains(r.stdout, "backend:") || !strings.Contains(r.stdout, "element-wise:") || !strings.Contains(r.stdout, "threads:") {
		t.Errorf("version: %q", r.stdout)
	}
}

func TestPlotAndCompareFiles(t *testing.T) {
	dir := setup(t)
	for _, m := range []string{"bp", "pc"} {
		if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "method="+m, "--out", m); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	r := pctrain(t, dir, "plot", "pc", "bp", "-o", "both.png")
	if r.code != 0 {
		t.Fatalf("plot: exit %d %s", r.code, r.stderr)
	}
	if st, err := os.Stat(filepath.Join(dir, "both.png")); err != nil || st.Size() < 10000 {
		t.Fatalf("both.png: %v", err)
	}
	if r := pctrain(t, dir, "plot", "nope"); r.code != 2 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("plot of a missing run: exit %d %q", r.code, r.stderr)
	}
	r = pctrain(t, dir, "compare", "zil", "pc", "-c", "tiny.yaml", "-q", "--set", "dtype=float64", "--steps", "5", "--out", "cmp", "--json")
	if r.code != 0 {
		t.Fatalf("compare: exit %d %s", r.code, r.stderr)
	}
	var rep struct {
		Methods []struct {
			Method    string
			Verdict   string
			Agreement []struct {
				RelErr float64 `json:"rel_err"`
			} `json:"gradient_agreement"`
			FinalWeights float64 `json:"final_weights_max_abs_diff_to_bp"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("compare --json: %v", err)
	}
	for _, m := range rep.Methods {
		switch m.Method {
		case "zil":
			if m.Verdict != "exact" || m.FinalWeights != 0 || len(m.Agreement) != 4 {
				t.Errorf("zil: verdict %q, final weights differ by %g, %d layers", m.Verdict, m.FinalWeights, len(m.Agreement))
			}
		case "pc":
			if m.Verdict != "differs from BP" || m.FinalWeights == 0 {
				t.Errorf("pc: verdict %q, final weights differ by %g", m.Verdict, m.FinalWeights)
			}
		}
	}
	for _, f := range []string{"compare.json", "compare.csv", "compare.png"} {
		if _, err := os.Stat(filepath.Join(dir, "cmp", f)); err != nil {
			t.Errorf("compare wrote no %s", f)
		}
	}
}
