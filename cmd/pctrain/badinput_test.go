package main

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/model"
)

// badCase is one bad input: files to add to a fresh copy of the fixture
// folder, the environment, the command line, and the strings the one-line
// message must hold (the culprit: file and key, flag, variable, array,
// tensor, folder).
type badCase struct {
	name string
	prep func(t *testing.T, dir string)
	env  []string // NAME=VALUE
	args []string
	want []string
}

// goInternals are words of Go's own messages that must never reach a user.
var goInternals = regexp.MustCompile(`strconv\.|interface \{\}|map\[string\]|\[\]int\b|reflect\.|goroutine |panic|runtime error|\*errors\.|mapstructure|yaml: unmarshal errors|!!`)

// fixtureDir is a folder holding tiny.yaml, blobs.npz and a finished
// run "good" (its checkpoint is the base of the checkpoint cases); each
// case works on a copy.
func fixtureDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeBlobs(t, filepath.Join(dir, "blobs.npz"), 300, 90)
	writeFile(t, filepath.Join(dir, "tiny.yaml"), tinyConfig)
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "train.epochs=1", "--set", "data.val_split=0", "--out", "good"); r.code != 0 {
		t.Fatalf("fixture run: exit %d %s", r.code, r.stderr)
	}
	return dir
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// yamlFile writes bad.yaml: tiny.yaml with one line replaced or added.
func yamlFile(text string) func(*testing.T, string) {
	return func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "bad.yaml"), text) }
}

// tinyWith is tinyConfig with old replaced by new (old must occur).
func tinyWith(old, new string) string {
	if !strings.Contains(tinyConfig, old) {
		panic("tinyConfig lacks " + old)
	}
	return strings.Replace(tinyConfig, old, new, 1)
}

// tinyEdit is tinyConfig with each pair old, new replaced.
func tinyEdit(pairs ...string) string {
	s := tinyConfig
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("tinyConfig lacks " + pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// blobArrays are the four arrays of a small 3-class problem in 20
// dimensions; edit them and write them with writeArrays.
func blobArrays(nTrain, nTest int) map[string]any {
	gen := func(n int) ([]float32, []int64) {
		x := make([]float32, n*20)
		y := make([]int64, n)
		for i := range y {
			y[i] = int64(i % 3)
			for j := 0; j < 20; j++ {
				x[i*20+j] = float32((i%3)*2-2) + float32(j%5)*0.1
			}
		}
		return x, y
	}
	xtr, ytr := gen(nTrain)
	xte, yte := gen(nTest)
	return map[string]any{"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}
}

// npzFile writes data/bad.npz from arrays edited by edit; shapes are
// [n, 20] for x and [n] for y unless shape overrides them.
func npzFile(edit func(a map[string]any, shape map[string][]int)) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		a := blobArrays(60, 30)
		shape := map[string][]int{"x_train": {60, 20}, "y_train": {60}, "x_test": {30, 20}, "y_test": {30}}
		edit(a, shape)
		enc := map[string][]byte{}
		var order []string
		for _, k := range []string{"x_train", "y_train", "x_test", "y_test", "extra"} {
			v, ok := a[k]
			if !ok {
				continue
			}
			order = append(order, k)
			if raw, ok := v.([]byte); ok {
				enc[k] = raw
				continue
			}
			enc[k] = data.EncodeNPY(shape[k], v)
		}
		var buf bytes.Buffer
		if err := data.WriteNPZ(&buf, enc, order); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "data"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "data", "bad.npz"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// npyRaw is an .npy member with a given header dict and body.
func npyRaw(dict string, body []byte) []byte {
	h := dict
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(h)))
	return append(append(out, h...), body...)
}

var npzSet = []string{"--set", "data.path=data/bad.npz"}

func trainNPZ(extra ...string) []string {
	return append(append([]string{"train", "-c", "tiny.yaml", "-q"}, npzSet...), extra...)
}

// idxDir writes data/idx with the four MNIST files (30 train, 10 test
// images of 28×28), then lets edit replace any of them.
func idxDir(edit func(files map[string][]byte)) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		img := func(n int) []byte { return data.EncodeIDX([]int{n, 28, 28}, make([]uint8, n*784)) }
		lab := func(n int) []byte {
			l := make([]uint8, n)
			for i := range l {
				l[i] = uint8(i % 10)
			}
			return data.EncodeIDX([]int{n}, l)
		}
		files := map[string][]byte{
			"train-images-idx3-ubyte": img(30), "train-labels-idx1-ubyte": lab(30),
			"t10k-images-idx3-ubyte": img(10), "t10k-labels-idx1-ubyte": lab(10),
		}
		edit(files)
		os.MkdirAll(filepath.Join(dir, "data", "idx"), 0o755)
		for name, raw := range files {
			if raw != nil {
				os.WriteFile(filepath.Join(dir, "data", "idx", name), raw, 0o644)
			}
		}
	}
}

var idxArgs = []string{"train", "-c", "tiny.yaml", "-q", "--set", "data.name=mnist", "--set", "data.dir=data/idx", "--set", "model.sizes=[784,8,10]"}

const goodCk = "good/checkpoints/last.safetensors"

// checkpointFile writes ck/bad.safetensors: the fixture run's checkpoint
// with its tensors edited by edit.
func checkpointFile(edit func(ts map[string]model.Tensor)) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		ts, meta, err := model.ReadSafetensors(filepath.Join(dir, goodCk))
		if err != nil {
			t.Fatal(err)
		}
		edit(ts)
		names := make([]string, 0, len(ts))
		for n := range ts {
			names = append(names, n)
		}
		sort.Strings(names)
		list := make([]model.Tensor, len(names))
		for i, n := range names {
			list[i] = ts[n]
			list[i].Name = n
		}
		var buf bytes.Buffer
		if err := model.EncodeSafetensors(&buf, list, meta); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "ck"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "ck", "bad.safetensors"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rawCheckpoint writes ck/bad.safetensors from the good checkpoint's
// bytes transformed by f.
func rawCheckpoint(f func([]byte) []byte) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		raw, err := os.ReadFile(filepath.Join(dir, goodCk))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "ck"), 0o755)
		os.WriteFile(filepath.Join(dir, "ck", "bad.safetensors"), f(raw), 0o644)
	}
}

func weightName(ts map[string]model.Tensor) string {
	names := []string{}
	for n, x := range ts {
		if !strings.HasPrefix(n, "optim.") && len(x.Shape) == 2 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names[0]
}

func setNaN(ts map[string]model.Tensor, name string) {
	x := ts[name]
	if x.F64 != nil {
		x.F64 = append([]float64(nil), x.F64...)
		x.F64[len(x.F64)/2] = math.NaN()
	} else {
		x.F32 = append([]float32(nil), x.F32...)
		x.F32[len(x.F32)/2] = float32(math.NaN())
	}
	ts[name] = x
}

var (
	evalBad = []string{"eval", "--checkpoint", "ck/bad.safetensors"}
	initBad = []string{"train", "-c", "tiny.yaml", "-q", "--set", "model.init_from=ck/bad.safetensors"}
)

func both(prefix []string, extra ...string) []string {
	return append(append([]string{}, prefix...), extra...)
}

// weightNames are the checkpoint's tensors the table edits (the fixture's
// model is mlp 20-16-3).
const (
	w0 = "layers.0.weight"
	b0 = "layers.0.bias"
)

func badInputCases() []badCase {
	train := func(extra ...string) []string { return both([]string{"train", "-c", "tiny.yaml", "-q"}, extra...) }
	trainBad := func(extra ...string) []string { return both([]string{"train", "-c", "bad.yaml", "-q"}, extra...) }
	return []badCase{
		// YAML files.
		{name: "yaml syntax", prep: yamlFile("seed: 3\nmodel: [20, 16\n"), args: trainBad(), want: []string{"bad.yaml", "invalid YAML"}},
		{name: "yaml unclosed quote", prep: yamlFile("method: \"bp\n"), args: trainBad(), want: []string{"bad.yaml"}},
		{name: "yaml tab indent", prep: yamlFile("data:\n\tbatch_size: 3\n"), args: trainBad(), want: []string{"bad.yaml"}},
		{name: "yaml not a mapping", prep: yamlFile("- a\n- b\n"), args: trainBad(), want: []string{"bad.yaml", "mapping"}},
		{name: "yaml unknown key", prep: yamlFile(tinyWith("method: bp", "metod: bp")), args: trainBad(), want: []string{"bad.yaml", "metod", `did you mean "method"`}},
		{name: "yaml unknown nested key", prep: yamlFile(tinyWith("batch_size: 32", "batchsize: 32")), args: trainBad(), want: []string{"bad.yaml", "data.batchsize", "data.batch_size"}},
		{name: "yaml unknown section", prep: yamlFile(tinyConfig + "optimiser:\n  lr: 1\n"), args: trainBad(), want: []string{"bad.yaml", "optimiser", `did you mean "optim"`}},
		{name: "yaml wrong type int", prep: yamlFile(tinyWith("steps: 8", "steps: ten")), args: trainBad(), want: []string{"bad.yaml", "pc.steps", `"ten"`}},
		{name: "yaml 1.5 for int", prep: yamlFile(tinyWith("steps: 8", "steps: 1.5")), args: trainBad(), want: []string{"bad.yaml", "pc.steps", "1.5"}},
		{name: "yaml wrong type float", prep: yamlFile(tinyWith("lr: 0.01", "lr: fast")), args: trainBad(), want: []string{"bad.yaml", "optim.lr"}},
		{name: "yaml wrong type bool", prep: yamlFile(tinyConfig + "  telemetry_bp_cosine: maybe\n"), args: trainBad(), want: []string{"bad.yaml", "train.telemetry_bp_cosine"}},
		{name: "yaml list for int", prep: yamlFile(tinyWith("epochs: 3", "epochs: [3]")), args: trainBad(), want: []string{"bad.yaml", "train.epochs"}},
		{name: "yaml mapping for list", prep: yamlFile(tinyWith("sizes: [20, 16, 3]", "sizes: {a: 1}")), args: trainBad(), want: []string{"bad.yaml", "model.sizes"}},
		{name: "yaml string in sizes", prep: yamlFile(tinyWith("sizes: [20, 16, 3]", "sizes: [20, x, 3]")), args: trainBad(), want: []string{"bad.yaml", "model.sizes"}},
		{name: "yaml section as scalar", prep: yamlFile(tinyWith("train:\n  epochs: 3\n", "train: 3\n")), args: trainBad(), want: []string{"bad.yaml", "train"}},
		{name: "yaml negative epochs", prep: yamlFile(tinyWith("epochs: 3", "epochs: -1")), args: trainBad(), want: []string{"bad.yaml", "train.epochs"}},
		{name: "yaml negative seed", prep: yamlFile(tinyWith("seed: 3", "seed: -1")), args: trainBad(), want: []string{"bad.yaml", "seed"}},
		{name: "yaml negative x_lr", prep: yamlFile(tinyEdit("method: bp", "method: pc", "x_lr: 0.1", "x_lr: -0.1")), args: trainBad(), want: []string{"bad.yaml", "pc.x_lr"}},
		{name: "yaml zero batch", prep: yamlFile(tinyWith("batch_size: 32", "batch_size: 0")), args: trainBad(), want: []string{"bad.yaml", "data.batch_size"}},
		{name: "yaml val_split out of range", prep: yamlFile(tinyWith("batch_size: 32", "batch_size: 32\n  val_split: 1.5")), args: trainBad(), want: []string{"bad.yaml", "data.val_split"}},
		{name: "yaml huge int", prep: yamlFile(tinyWith("epochs: 3", "epochs: 99999999999999999999")), args: trainBad(), want: []string{"bad.yaml", "train.epochs"}},
		{name: "yaml dropout of 1", prep: yamlFile(tinyWith("activation: tanh", "activation: tanh\n  dropout: 1")), args: trainBad(), want: []string{"bad.yaml", "model.dropout"}},
		{name: "yaml NaN lr", prep: yamlFile(tinyWith("lr: 0.01", "lr: .nan")), args: trainBad(), want: []string{"bad.yaml", "optim.lr"}},
		{name: "yaml duplicate key", prep: yamlFile(tinyConfig + "method: pc\n"), args: trainBad(), want: []string{"bad.yaml", "method"}},
		{name: "yaml unknown method", prep: yamlFile(tinyWith("method: bp", "method: bq")), args: trainBad(), want: []string{"bad.yaml", "method", `"bq"`}},
		{name: "yaml unknown optimizer", prep: yamlFile(tinyWith("name: adam", "name: adamm")), args: trainBad(), want: []string{"bad.yaml", "optim.name"}},
		{name: "yaml unknown activation", prep: yamlFile(tinyWith("activation: tanh", "activation: tahn")), args: trainBad(), want: []string{"bad.yaml", "model.activation"}},
		{name: "yaml unknown loss", prep: yamlFile(tinyWith("loss: ce", "loss: hinge")), args: trainBad(), want: []string{"bad.yaml", "loss"}},
		{name: "yaml unknown nudging", prep: yamlFile(tinyWith("x_momentum: 0.5", "x_momentum: 0.5\n  nudging: sideways")), args: trainBad(), want: []string{"bad.yaml", "pc.nudging"}},
		{name: "yaml pc steps zero for pc", prep: yamlFile(tinyEdit("method: bp", "method: pc", "steps: 8", "steps: 0")), args: trainBad(), want: []string{"bad.yaml", "pc.steps"}},
		{name: "yaml missing file", args: []string{"train", "-c", "nope.yaml", "-q"}, want: []string{"nope.yaml"}},
		{name: "yaml is a folder", prep: func(t *testing.T, d string) { os.Mkdir(filepath.Join(d, "cfgdir"), 0o755) }, args: []string{"train", "-c", "cfgdir", "-q"}, want: []string{"cfgdir"}},
		{name: "yaml data path missing", prep: yamlFile(tinyWith("path: blobs.npz", "path: nope.npz")), args: trainBad(), want: []string{"nope.npz"}},

		// --set.
		{name: "set unknown key", args: train("--set", "metod=pc"), want: []string{"--set metod", `did you mean "method"`}},
		{name: "set unknown nested key", args: train("--set", "pc.step=3"), want: []string{"--set pc.step", `did you mean "pc.steps"`}},
		{name: "set bad value", args: train("--set", "pc.steps=abc"), want: []string{"--set pc.steps=abc", "pc.steps"}},
		{name: "set 1.5 for int", args: train("--set", "pc.steps=1.5"), want: []string{"--set pc.steps=1.5"}},
		{name: "set missing =", args: train("--set", "pc.steps"), want: []string{"--set", "pc.steps", "key=value"}},
		{name: "set empty key", args: train("--set", "=3"), want: []string{"--set", "key=value"}},
		{name: "set invalid yaml", args: train("--set", "model.sizes=[20,"), want: []string{"--set model.sizes=[20,"}},
		{name: "set negative lr", args: train("--set", "optim.lr=-1"), want: []string{"--set optim.lr=-1", "optim.lr"}},
		{name: "set val_split 2", args: train("--set", "data.val_split=2"), want: []string{"--set data.val_split=2"}},
		{name: "set rule check pc.steps", args: train("--set", "method=pc", "--set", "pc.steps=0"), want: []string{"--set pc.steps=0", "pc.steps"}},
		{name: "set rule check x_lr", args: train("--set", "method=ipc", "--set", "pc.x_lr=0"), want: []string{"--set pc.x_lr=0", "pc.x_lr"}},
		{name: "set rule check beta", args: train("--set", "method=pc", "--set", "pc.nudging=positive", "--set", "pc.beta=0"), want: []string{"--set pc.beta=0", "pc.beta"}},
		{name: "set unknown method", args: train("--set", "method=bq"), want: []string{"--set method=bq", `"bq"`}},
		{name: "set sizes mapping", args: train("--set", "model.sizes={a: 1}"), want: []string{"--set model.sizes", "model.sizes"}},

		// Environment variables.
		{name: "env 2.7 for int", env: []string{"PCTRAIN_PC_STEPS=2.7"}, args: train(), want: []string{"PCTRAIN_PC_STEPS", "pc.steps"}},
		{name: "env bad float", env: []string{"PCTRAIN_OPTIM_LR=abc"}, args: train(), want: []string{"PCTRAIN_OPTIM_LR", "optim.lr"}},
		{name: "env unknown variable", env: []string{"PCTRAIN_OPTIM_LRR=0.1"}, args: train(), want: []string{"PCTRAIN_OPTIM_LRR", "PCTRAIN_OPTIM_LR"}},
		{name: "env negative batch", env: []string{"PCTRAIN_DATA_BATCH_SIZE=-3"}, args: train(), want: []string{"PCTRAIN_DATA_BATCH_SIZE"}},
		{name: "env rule check", env: []string{"PCTRAIN_METHOD=pc", "PCTRAIN_PC_X_LR=-1"}, args: train(), want: []string{"PCTRAIN_PC_X_LR", "pc.x_lr"}},
		{name: "env unknown method", env: []string{"PCTRAIN_METHOD=bq"}, args: train(), want: []string{"PCTRAIN_METHOD", `"bq"`}},
		{name: "env bad sizes", env: []string{"PCTRAIN_MODEL_SIZES=abc"}, args: train(), want: []string{"PCTRAIN_MODEL_SIZES", "model.sizes"}},

		// Flags.
		{name: "threads abc", args: train("--threads", "abc"), want: []string{"--threads", `"abc"`}},
		{name: "threads 1.5", args: train("--threads", "1.5"), want: []string{"--threads", "1.5"}},
		{name: "threads -5", args: train("--threads", "-5"), want: []string{"--threads -5"}},
		{name: "threads 100000", args: train("--threads", "100000"), want: []string{"--threads 100000"}},
		{name: "eval threads abc", args: []string{"eval", "--checkpoint", goodCk, "--threads", "abc"}, want: []string{"--threads", `"abc"`}},
		{name: "graph threads abc", args: []string{"graph", "-c", "tiny.yaml", "--threads", "x"}, want: []string{"--threads", `"x"`}},
		{name: "unknown flag", args: train("--bogus"), want: []string{"--bogus"}},
		{name: "flag missing value", args: []string{"train", "-c"}, want: []string{"-c/--config", "needs a value"}},
		{name: "unknown command", args: []string{"trian"}, want: []string{"trian"}},
		{name: "train extra argument", args: train("extra.yaml"), want: []string{"extra.yaml"}},

		// npz files.
		{name: "npz missing array", prep: npzFile(func(a map[string]any, _ map[string][]int) { delete(a, "y_test") }), args: trainNPZ(), want: []string{"data/bad.npz", "y_test"}},
		{name: "npz wrong dtype", prep: npzFile(func(a map[string]any, _ map[string][]int) {
			a["x_train"] = npyRaw("{'descr': '<c8', 'fortran_order': False, 'shape': (60, 20), }", make([]byte, 60*20*8))
		}), args: trainNPZ(), want: []string{"data/bad.npz", "x_train"}},
		{name: "npz float labels", prep: npzFile(func(a map[string]any, _ map[string][]int) { y := make([]float32, 60); y[4] = 0.5; a["y_train"] = y }), args: trainNPZ(), want: []string{"data/bad.npz", "y_train"}},
		{name: "npz wrong shape labels", prep: npzFile(func(a map[string]any, s map[string][]int) { s["y_train"] = []int{30, 2} }), args: trainNPZ(), want: []string{"data/bad.npz", "y_train"}},
		{name: "npz rows differ", prep: npzFile(func(a map[string]any, s map[string][]int) { a["y_test"] = make([]int64, 29); s["y_test"] = []int{29} }), args: trainNPZ(), want: []string{"data/bad.npz", "y_test"}},
		{name: "npz features differ from model", prep: npzFile(func(a map[string]any, s map[string][]int) {
			a["x_train"], a["x_test"] = make([]float32, 600), make([]float32, 300)
			s["x_train"], s["x_test"] = []int{60, 10}, []int{30, 10}
		}), args: trainNPZ(), want: []string{"data/bad.npz", "model.sizes"}},
		{name: "npz train and test shapes differ", prep: npzFile(func(a map[string]any, s map[string][]int) {
			a["x_test"] = make([]float32, 300)
			s["x_test"] = []int{30, 10}
		}), args: trainNPZ(), want: []string{"data/bad.npz", "x_test"}},
		{name: "npz NaN train", prep: npzFile(func(a map[string]any, _ map[string][]int) { a["x_train"].([]float32)[7] = float32(math.NaN()) }), args: trainNPZ(), want: []string{"data/bad.npz", "x_train"}},
		{name: "npz NaN test", prep: npzFile(func(a map[string]any, _ map[string][]int) { a["x_test"].([]float32)[7] = float32(math.NaN()) }), args: trainNPZ(), want: []string{"data/bad.npz", "x_test"}},
		{name: "npz Inf test", prep: npzFile(func(a map[string]any, _ map[string][]int) { a["x_test"].([]float32)[0] = float32(math.Inf(-1)) }), args: trainNPZ(), want: []string{"data/bad.npz", "x_test"}},
		{name: "npz label out of range", prep: npzFile(func(a map[string]any, _ map[string][]int) { a["y_train"].([]int64)[5] = 7 }), args: trainNPZ(), want: []string{"data/bad.npz", "y_train"}},
		{name: "npz negative label", prep: npzFile(func(a map[string]any, _ map[string][]int) { a["y_test"].([]int64)[5] = -1 }), args: trainNPZ(), want: []string{"data/bad.npz", "y_test"}},
		{name: "npz header garbage", prep: npzFile(func(a map[string]any, _ map[string][]int) {
			a["x_test"] = []byte("\x93NUMPY\x01\x00\x10\x00garbage garbage\n")
		}), args: trainNPZ(), want: []string{"data/bad.npz", "x_test"}},
		{name: "npz truncated", prep: func(t *testing.T, d string) {
			raw, _ := os.ReadFile(filepath.Join(d, "blobs.npz"))
			writeFile(t, filepath.Join(d, "data", "bad.npz"), string(raw[:len(raw)/2]))
		}, args: trainNPZ(), want: []string{"data/bad.npz"}},
		{name: "npz not a zip", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "data", "bad.npz"), "hello, not a zip\n") }, args: trainNPZ(), want: []string{"data/bad.npz"}},
		{name: "npz empty", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "data", "bad.npz"), "") }, args: trainNPZ(), want: []string{"data/bad.npz"}},
		{name: "npz is a folder", prep: func(t *testing.T, d string) { os.MkdirAll(filepath.Join(d, "data", "bad.npz"), 0o755) }, args: trainNPZ(), want: []string{"data/bad.npz"}},
		{name: "npz NaN test eval", prep: npzFile(func(a map[string]any, _ map[string][]int) { a["x_test"].([]float32)[3] = float32(math.NaN()) }),
			args: []string{"eval", "--checkpoint", goodCk, "-c", "tiny.yaml", "--set", "data.path=data/bad.npz"}, want: []string{"data/bad.npz", "x_test"}},

		// IDX files.
		{name: "idx wrong magic", prep: idxDir(func(f map[string][]byte) { f["train-images-idx3-ubyte"] = f["train-labels-idx1-ubyte"] }), args: idxArgs, want: []string{"train-images-idx3-ubyte", "magic"}},
		{name: "idx truncated", prep: idxDir(func(f map[string][]byte) {
			r := f["t10k-images-idx3-ubyte"]
			f["t10k-images-idx3-ubyte"] = r[:len(r)-100]
		}), args: idxArgs, want: []string{"t10k-images-idx3-ubyte"}},
		{name: "idx count mismatch", prep: idxDir(func(f map[string][]byte) { f["train-labels-idx1-ubyte"] = data.EncodeIDX([]int{29}, make([]uint8, 29)) }), args: idxArgs, want: []string{"train-labels-idx1-ubyte"}},
		{name: "idx label out of range", prep: idxDir(func(f map[string][]byte) {
			l := make([]uint8, 10)
			l[3] = 200
			f["t10k-labels-idx1-ubyte"] = data.EncodeIDX([]int{10}, l)
		}), args: idxArgs, want: []string{"t10k-labels-idx1-ubyte"}},
		{name: "idx missing file", prep: idxDir(func(f map[string][]byte) { f["t10k-labels-idx1-ubyte"] = nil }), args: idxArgs, want: []string{"data/idx", "t10k-labels-idx1-ubyte", "data.dir"}},
		{name: "idx garbage", prep: idxDir(func(f map[string][]byte) { f["train-images-idx3-ubyte"] = []byte("no") }), args: idxArgs, want: []string{"train-images-idx3-ubyte"}},

		// Checkpoints.
		{name: "ckpt missing", args: []string{"eval", "--checkpoint", "nope.safetensors"}, want: []string{"nope.safetensors"}},
		{name: "ckpt truncated", prep: rawCheckpoint(func(b []byte) []byte { return b[:len(b)-40] }), args: evalBad, want: []string{"ck/bad.safetensors"}},
		{name: "ckpt empty", prep: rawCheckpoint(func(b []byte) []byte { return nil }), args: evalBad, want: []string{"ck/bad.safetensors"}},
		{name: "ckpt header garbage", prep: rawCheckpoint(func(b []byte) []byte {
			n := binary.LittleEndian.Uint64(b)
			out := append([]byte{}, b...)
			copy(out[8:8+n], bytes.Repeat([]byte("#"), int(n)))
			return out
		}), args: evalBad, want: []string{"ck/bad.safetensors"}},
		{name: "ckpt header length huge", prep: rawCheckpoint(func(b []byte) []byte {
			out := append([]byte{}, b...)
			binary.LittleEndian.PutUint64(out, 1<<62)
			return out
		}), args: evalBad, want: []string{"ck/bad.safetensors"}},
		{name: "ckpt wrong shape", prep: checkpointFile(func(ts map[string]model.Tensor) { x := ts[w0]; x.Shape = []int{x.Shape[1], x.Shape[0]}; ts[w0] = x }), args: evalBad, want: []string{"ck/bad.safetensors", w0}},
		{name: "ckpt missing tensor", prep: checkpointFile(func(ts map[string]model.Tensor) { delete(ts, b0) }), args: evalBad, want: []string{"ck/bad.safetensors", b0}},
		{name: "ckpt extra tensor", prep: checkpointFile(func(ts map[string]model.Tensor) {
			ts["layers.9.weight"] = model.Tensor{Shape: []int{2}, F64: []float64{1, 2}}
		}), args: evalBad, want: []string{"ck/bad.safetensors", "layers.9.weight"}},
		{name: "ckpt NaN weight eval", prep: checkpointFile(func(ts map[string]model.Tensor) { setNaN(ts, w0) }), args: evalBad, want: []string{"ck/bad.safetensors", w0}},
		{name: "init_from NaN weight", prep: checkpointFile(func(ts map[string]model.Tensor) { setNaN(ts, w0) }), args: initBad, want: []string{"model.init_from", "ck/bad.safetensors", w0}},
		{name: "init_from wrong shape", prep: checkpointFile(func(ts map[string]model.Tensor) { x := ts[w0]; x.Shape = []int{x.Shape[1], x.Shape[0]}; ts[w0] = x }), args: initBad, want: []string{"ck/bad.safetensors", w0}},
		{name: "init_from missing tensor", prep: checkpointFile(func(ts map[string]model.Tensor) { delete(ts, w0) }), args: initBad, want: []string{"ck/bad.safetensors", w0}},
		{name: "init_from extra tensor", prep: checkpointFile(func(ts map[string]model.Tensor) { ts["head.weight"] = model.Tensor{Shape: []int{1}, F64: []float64{1}} }), args: initBad, want: []string{"ck/bad.safetensors", "head.weight"}},
		{name: "init_from truncated", prep: rawCheckpoint(func(b []byte) []byte { return b[:len(b)/2] }), args: initBad, want: []string{"model.init_from", "ck/bad.safetensors"}},
		{name: "init_from missing file", args: train("--set", "model.init_from=nope.safetensors"), want: []string{"model.init_from", "nope.safetensors"}},
		{name: "init_from not safetensors", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "ck", "bad.safetensors"), "hello") }, args: initBad, want: []string{"ck/bad.safetensors"}},

		// Run folders.
		{name: "out foreign folder", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "mine", "notes.txt"), "mine") }, args: train("--out", "mine"), want: []string{"mine", "not a pctrain run"}},
		{name: "out foreign folder force", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "mine", "summary.json"), "{}") }, args: train("--out", "mine", "--force"), want: []string{"mine", "not a pctrain run"}},
		{name: "out is a file", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "afile"), "x") }, args: train("--out", "afile"), want: []string{"afile"}},
		{name: "out holds a run", args: train("--out", "good"), want: []string{"good", "--resume"}},
		{name: "resume non-run", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "mine", "notes.txt"), "mine") }, args: []string{"train", "--resume", "mine", "-q"}, want: []string{"mine"}},
		{name: "resume missing folder", args: []string{"train", "--resume", "nowhere", "-q"}, want: []string{"nowhere"}},
		{name: "resume finished run", args: []string{"train", "--resume", "good", "-q"}, want: []string{"good"}},
		{name: "resume edited config", prep: func(t *testing.T, d string) {
			raw, _ := os.ReadFile(filepath.Join(d, "good", "config.yaml"))
			writeFile(t, filepath.Join(d, "good", "config.yaml"), strings.Replace(string(raw), "epochs: 1", "epochs: 5", 1)+"")
			raw, _ = os.ReadFile(filepath.Join(d, "good", "config.yaml"))
			writeFile(t, filepath.Join(d, "good", "config.yaml"), strings.Replace(string(raw), "lr: 0.01", "lr: 0.5", 1))
		}, args: []string{"train", "--resume", "good", "-q"}, want: []string{filepath.Join("good", "config.yaml"), "optim.lr"}},
		{name: "resume broken config", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "good", "config.yaml"), "seed: [\n") }, args: []string{"train", "--resume", "good", "-q"}, want: []string{filepath.Join("good", "config.yaml")}},

		{name: "resume config wrong type", prep: func(t *testing.T, d string) {
			raw, _ := os.ReadFile(filepath.Join(d, "good", "config.yaml"))
			writeFile(t, filepath.Join(d, "good", "config.yaml"), strings.Replace(string(raw), "epochs: 1", "epochs: two", 1))
		}, args: []string{"train", "--resume", "good", "-q"}, want: []string{filepath.Join("good", "config.yaml"), "train.epochs", `"two"`}},
		{name: "resume config unknown key", prep: func(t *testing.T, d string) {
			raw, _ := os.ReadFile(filepath.Join(d, "good", "config.yaml"))
			writeFile(t, filepath.Join(d, "good", "config.yaml"), string(raw)+"extra_key: 1\n")
		}, args: []string{"train", "--resume", "good", "-q"}, want: []string{filepath.Join("good", "config.yaml"), "extra_key"}},

		// Sizes that cannot fit in memory.
		{name: "memory sizes", args: train("--set", "model.sizes=[20,100000000000,3]"), want: []string{"--set model.sizes=[20,100000000000,3]", "model.sizes", "memory"}},
		{name: "memory sizes yaml", prep: yamlFile(tinyWith("sizes: [20, 16, 3]", "sizes: [20, 100000000000, 3]")), args: trainBad(), want: []string{"bad.yaml", "model.sizes", "memory"}},
		{name: "memory batch", prep: func(t *testing.T, d string) {
			// 100000 samples: a batch of them cannot fit, a sample can.
			a := blobArrays(100000, 30)
			enc := map[string][]byte{"x_train": data.EncodeNPY([]int{100000, 20}, a["x_train"]), "y_train": data.EncodeNPY([]int{100000}, a["y_train"]),
				"x_test": data.EncodeNPY([]int{30, 20}, a["x_test"]), "y_test": data.EncodeNPY([]int{30}, a["y_test"])}
			var buf bytes.Buffer
			data.WriteNPZ(&buf, enc, []string{"x_train", "y_train", "x_test", "y_test"})
			writeFile(t, filepath.Join(d, "data", "bad.npz"), buf.String())
		}, args: trainNPZ("--set", "data.batch_size=1e12", "--set", "model.sizes=[20,1000000,3]"), want: []string{"--set data.batch_size=1e12", "data.batch_size", "memory"}},
		{name: "memory sizes 1e8", args: train("--set", "model.sizes=[20,100000000,3]"), want: []string{"--set model.sizes=[20,100000000,3]", "model.sizes", "memory"}},
		{name: "memory graph 1e8", args: []string{"graph", "-c", "tiny.yaml", "--set", "model.sizes=[20,100000000,3]"}, want: []string{"model.sizes", "memory"}},
		{name: "memory threads", args: train("--threads", "1000", "--set", "model.sizes=[20,10000000,3]"), want: []string{"--threads 1000", "train.threads", "memory"}},
		{name: "memory graph sizes", args: []string{"graph", "-c", "tiny.yaml", "--set", "model.sizes=[20,100000000000,3]"}, want: []string{"model.sizes", "memory"}},
		{name: "memory compare sizes", args: []string{"compare", "pc", "bp", "-c", "tiny.yaml", "-q", "--set", "model.sizes=[20,100000000000,3]"}, want: []string{"model.sizes", "memory"}},
		{name: "memory cnn channels", args: train("--set", "model.type=cnn", "--set", "model.layers=[{conv: {out: 100000000, kernel: 3}}, {dense: {out: 3}}]"), want: []string{"model"}},

		// plot, sweep, eval, compare, data.
		{name: "plot missing run", args: []string{"plot", "nowhere"}, want: []string{"nowhere"}},
		{name: "plot not a run", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "mine", "notes.txt"), "x") }, args: []string{"plot", "mine"}, want: []string{"mine", "metrics.jsonl"}},
		{name: "plot corrupt metrics", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "good", "metrics.jsonl"), "{not json\n") }, args: []string{"plot", "good", "-o", "p.png"}, want: []string{filepath.Join("good", "metrics.jsonl")}},
		{name: "plot no args", args: []string{"plot"}, want: []string{"plot"}},
		{name: "plot onto folder", prep: func(t *testing.T, d string) { os.Mkdir(filepath.Join(d, "adir"), 0o755) }, args: []string{"plot", "good", "-o", "adir"}, want: []string{"-o adir"}},
		{name: "sweep grid no =", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps"}, want: []string{"--grid", "pc.steps"}},
		{name: "sweep grid unknown key", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.step=1,2"}, want: []string{"--grid", "pc.step", "pc.steps"}},
		{name: "sweep grid bad value", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps=a,2"}, want: []string{"--grid", "pc.steps", `"a"`}},
		{name: "sweep grid empty values", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps="}, want: []string{"--grid", "pc.steps"}},
		{name: "sweep seeds 0", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps=1,2", "--seeds", "0"}, want: []string{"--seeds"}},
		{name: "sweep seeds abc", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps=1,2", "--seeds", "abc"}, want: []string{"--seeds", `"abc"`}},
		{name: "sweep shard out of range", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps=1,2", "--shard", "5/2"}, want: []string{"--shard", "5/2"}},
		{name: "sweep shard garbage", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps=1,2", "--shard", "abc"}, want: []string{"--shard", "abc"}},
		{name: "sweep collect missing", args: []string{"sweep", "--collect", "nowhere"}, want: []string{"nowhere"}},
		{name: "sweep grid key twice", args: []string{"sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps=1", "--grid", "pc.steps=2"}, want: []string{"--grid pc.steps", "twice"}},
		{name: "eval no checkpoint", args: []string{"eval"}, want: []string{"--checkpoint"}},
		{name: "eval bad split", args: []string{"eval", "--checkpoint", goodCk, "--split", "dev"}, want: []string{"--split", "dev"}},
		{name: "eval val without split", args: []string{"eval", "--checkpoint", goodCk, "--split", "val"}, want: []string{"--split val", "data.val_split"}},
		{name: "eval config bad key", args: []string{"eval", "--checkpoint", goodCk, "-c", "tiny.yaml", "--set", "pc.stepz=2"}, want: []string{"--set pc.stepz", "pc.steps"}},
		{name: "eval architecture mismatch", args: []string{"eval", "--checkpoint", goodCk, "-c", "tiny.yaml", "--set", "model.sizes=[20,8,3]"}, want: []string{goodCk, w0}},
		{name: "compare unknown method", args: []string{"compare", "pc", "bq", "-c", "tiny.yaml", "-q"}, want: []string{"bq"}},
		{name: "compare variant bad key", args: []string{"compare", "pc:pc.stepz=2", "bp", "-c", "tiny.yaml", "-q"}, want: []string{"pc:pc.stepz=2", "pc.steps"}},
		{name: "compare variant bad value", args: []string{"compare", "pc:pc.steps=x", "bp", "-c", "tiny.yaml", "-q"}, want: []string{"pc:pc.steps=x"}},
		{name: "compare variant rule check", args: []string{"compare", "pc:pc.x_lr=0", "bp", "-c", "tiny.yaml", "-q"}, want: []string{"pc:pc.x_lr=0", "pc.x_lr"}},
		{name: "compare steps negative", args: []string{"compare", "pc", "bp", "-c", "tiny.yaml", "-q", "--steps", "-1"}, want: []string{"--steps"}},
		{name: "compare steps abc", args: []string{"compare", "pc", "bp", "-c", "tiny.yaml", "-q", "--steps", "abc"}, want: []string{"--steps", `"abc"`}},
		{name: "compare out is a file", prep: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "afile"), "x") }, args: []string{"compare", "pc", "bp", "-c", "tiny.yaml", "-q", "--out", "afile"}, want: []string{"afile"}},
		{name: "data fetch unknown", args: []string{"data", "fetch", "imagenet"}, want: []string{"imagenet"}},
		{name: "data fetch no name", args: []string{"data", "fetch"}, want: []string{"fetch"}},
	}
}

// TestBadInputTable: every bad input exits 2 with one line naming its
// culprit, shows no Go internals, and changes, adds or removes no file.
func TestBadInputTable(t *testing.T) {
	base := fixtureDir(t)
	cases := badInputCases()
	if len(cases) < 70 {
		t.Fatalf("only %d cases", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("case %q twice", c.name)
		}
		seen[c.name] = true
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, base, dir)
			if c.prep != nil {
				c.prep(t, dir)
			}
			for _, kv := range c.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			before := snapshot(t, dir)
			r := pctrain(t, dir, c.args...)
			t.Log(strings.TrimSpace(r.stderr))
			wantUserError(t, r, c.want...)
			if m := goInternals.FindString(r.stderr); m != "" {
				t.Errorf("message %q shows Go internals (%q)", r.stderr, m)
			}
			sameTree(t, dir, before)
		})
	}
}
