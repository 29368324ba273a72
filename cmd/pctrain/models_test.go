package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/data"
)

// cliModels are the model types of the CLI tests, as --set
// overrides on tiny.yaml (20 inputs, 3 classes); the graph has a skip, a
// product and tied weights.
var cliModels = map[string][]string{
	"mlp":          {"model.sizes=[20,12,12,3]"},
	"resmlp":       {"model.type=resmlp", "model.hidden=10", "model.blocks=2"},
	"rnn":          {"model.type=rnn", "model.hidden=8", "model.steps=4"},
	"skipmlp":      {"model.type=skipmlp", "model.hidden=8", "model.depth=4"},
	"skipmlp-mupc": {"model.type=skipmlp", "model.hidden=8", "model.depth=4", "model.parameterization=mupc"},
	"lstm":         {"model.type=lstm", "model.hidden=6", "model.steps=4"},
	// The convolutional types read 1×16×16 images (images.npz).
	"cnn": {"data.path=images.npz", "model.type=cnn", `model.layers=[{conv: {out: 4, kernel: 3, padding: 1}}, {act: tanh},
		{maxpool: 2}, {conv: {out: 4, kernel: 3}}, {act: gelu}, {flatten: {}}, {dense: {out: 3}}]`},
	"vgg5": {"data.path=images.npz", "model.type=vgg5", "pc.x_lr=0.01", "optim.lr=0.001",
		"pc.energy_growth_limit=0"}, // ipc moves the weights during inference: F may grow
	"graph": {"model.type=graph", `model.vertices=[{name: a, op: dense, in: ["input[0:10]"], out: 8},
		{name: b, op: dense, in: ["input[10:20]"], out: 8}, {name: c, op: mul, in: [a, b], act: tanh},
		{name: d, op: dense, in: [c], out: 8, act: gelu}, {name: e, op: dense, in: [d], out: 8, act: sigmoid, share: d},
		{name: out, op: dense, in: [e, c, a], out: 3, act: [tanh, linear, sigmoid]}]`},
}

// Every model type trains through the CLI, and zil's run is the same
// computation as bp's from the same seed: identical metrics (timing aside),
// in float32 and float64. This checks the equivalence end to end —
// data, graph, levels, identity vertices, tied weights, optimizer.
func TestModelTypesZILMatchesBP(t *testing.T) {
	dir := setup(t)
	models := cliModels
	timing := regexp.MustCompile(`"(seconds|samples_per_sec|method)":[^,}]*`)
	for name, sets := range models {
		for _, dtype := range []string{"float32", "float64"} {
			var got [2]string
			for i, method := range []string{"bp", "zil"} {
				args := []string{"train", "-c", "tiny.yaml", "-q", "--set", "method=" + method, "--set", "dtype=" + dtype,
					"--set", "train.epochs=2", "--out", name + dtype + method}
				for _, s := range sets {
					args = append(args, "--set", s)
				}
				r := pctrain(t, dir, args...)
				if r.code != 0 {
					t.Fatalf("%s %s %s: exit %d: %s", name, dtype, method, r.code, r.stderr)
				}
				raw, _ := os.ReadFile(filepath.Join(dir, name+dtype+method, "metrics.jsonl"))
				// Energy differs by definition (bp reports the loss,
				// zil adds its hidden errors); drop it too.
				s := timing.ReplaceAllString(string(raw), "")
				s = regexp.MustCompile(`"energy(_per_level)?":(\[[^\]]*\]|[^,}]*)`).ReplaceAllString(s, "")
				s = regexp.MustCompile(`"inference_steps":\d+`).ReplaceAllString(s, "")
				got[i] = s
			}
			if got[0] != got[1] || !strings.Contains(got[0], "test_acc") {
				t.Errorf("%s %s: zil and bp differ:\n%s\n%s", name, dtype, got[0], got[1])
			}
		}
	}
	// Graph errors name the vertex.
	bad := []struct{ set, want string }{
		{`model.vertices=[{name: a, op: dense, in: [nope], out: 3}]`, `vertex "a": unknown input "nope"`},
		{`model.vertices=[{name: a, op: add, in: [input, input]}, {name: b, op: dense, in: [a], out: 3, share: zz}]`, `vertex "b": share: no earlier vertex "zz"`},
		{`model.vertices=[{name: a, op: dense, in: [input], out: 5}, {name: b, op: add, in: [a, input]}]`, `vertex "b": add of inputs with shapes`},
		{`model.vertices=[{name: a, op: dense, in: [b], out: 3}, {name: b, op: dense, in: [a], out: 3}]`, `cycles cannot be written`},
		{`model.vertices=[{name: a, op: dense, in: [input], out: 3, colour: red}]`, `model.vertices[0] (a): colour: unknown field`},
	}
	for _, b := range bad {
		r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "model.type=graph", "--set", b.set)
		if r.code != 2 || !strings.Contains(r.stderr, b.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", b.set, r.code, r.stderr, b.want)
		}
	}
	r := pctrain(t, dir, "graph", "-c", "tiny.yaml", "--set", "model.type=resmlp", "--set", "model.blocks=1")
	if r.code != 0 || !strings.Contains(r.stdout, "identity (inserted)") || !strings.Contains(r.stdout, "depth 4") {
		t.Errorf("pctrain graph: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// CNNs through the CLI: every method trains, eval reads the checkpoint, and
// compare reports zil and fa-zil exact in float64.
func TestCNNThroughCLI(t *testing.T) {
	dir := t.TempDir()
	writeImages(t, filepath.Join(dir, "img.npz"))
	cfg := `seed: 2
loss: ce
data: {name: npz, path: img.npz, batch_size: 16, flip: true, crop_padding: 1, normalize: standard}
model:
  type: cnn
  layers: [{conv: {out: 4, kernel: 3, padding: 1}}, {act: gelu}, {maxpool: 2}, {conv: {out: 4, kernel: 3, padding: 1}}, {act: tanh}, {avgpool: 2}, {flatten: {}}, {dense: {out: 3}}]
pc: {steps: 4, x_lr: 0.1, x_momentum: 0.5}
optim: {name: adam, lr: 0.01}
train: {epochs: 2}
`
	os.WriteFile(filepath.Join(dir, "cnn.yaml"), []byte(cfg), 0o644)
	for _, m := range []string{"bp", "pc", "zil", "fa-zil"} {
		if r := pctrain(t, dir, "train", "-c", "cnn.yaml", "-q", "--set", "method="+m, "--out", m); r.code != 0 {
			t.Fatalf("%s: exit %d %s", m, r.code, r.stderr)
		}
		if r := pctrain(t, dir, "eval", "--checkpoint", filepath.Join(m, "checkpoints", "last.safetensors"), "--json"); r.code != 0 {
			t.Fatalf("eval %s: exit %d %s", m, r.code, r.stderr)
		}
	}
	r := pctrain(t, dir, "compare", "zil", "fa-zil", "-c", "cnn.yaml", "-q", "--set", "dtype=float64", "--steps", "6", "--out", "cmp")
	if r.code != 0 || strings.Count(r.stdout, "→ exact") != 2 {
		t.Fatalf("compare: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// writeImages writes 3-class 1×6×6 images: each class brightens one third of
// the rows.
func writeImages(t *testing.T, path string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func(n int) ([]uint8, []int64) {
		x := make([]uint8, n*36)
		y := make([]int64, n)
		for i := range y {
			y[i] = int64(i % 3)
			for j := 0; j < 36; j++ {
				v := 60 + rng.IntN(60)
				if j/12 == int(y[i]) {
					v += 120
				}
				x[i*36+j] = uint8(v)
			}
		}
		return x, y
	}
	xtr, ytr := gen(120)
	xte, yte := gen(30)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data.WriteNPZ(f, map[string][]byte{
		"x_train": data.EncodeNPY([]int{120, 1, 6, 6}, xtr), "y_train": data.EncodeNPY([]int{120}, ytr),
		"x_test": data.EncodeNPY([]int{30, 1, 6, 6}, xte), "y_test": data.EncodeNPY([]int{30}, yte),
	}, []string{"x_train", "y_train", "x_test", "y_test"})
}
