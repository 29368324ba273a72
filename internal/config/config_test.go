package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	f := writeFile(t, "method: bp\noptim:\n  lr: 0.1\n  name: sgd\nmodel:\n  sizes: [4, 3, 2]\n")
	c, err := Load(Sources{
		File: f,
		Env:  []string{"PCTRAIN_OPTIM_LR=0.2", "PCTRAIN_SEED=7", "HOME=/x"},
		Sets: []string{"optim.lr=1e-3", "model.sizes=[784, 256, 10]", "data.shuffle=false"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Method != "bp" || c.Optim.Name != "sgd" {
		t.Errorf("file values lost: %+v", c)
	}
	if c.Optim.LR != 1e-3 {
		t.Errorf("--set should beat env and file: lr = %g", c.Optim.LR)
	}
	if c.Seed != 7 {
		t.Errorf("env should beat defaults: seed = %d", c.Seed)
	}
	if got := c.Model.Sizes; len(got) != 3 || got[1] != 256 {
		t.Errorf("sizes = %v", got)
	}
	if c.Data.Shuffle {
		t.Error("data.shuffle=false ignored")
	}
	if c.PC.Steps != Default().PC.Steps {
		t.Errorf("default lost: pc.steps = %d", c.PC.Steps)
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, file string
		sets, env  []string
		want       []string
	}{
		{"unknown key in file", "optim:\n  lrr: 3\n", nil, nil, []string{"c.yaml", `unknown key "optim.lrr"`, `did you mean "optim.lr"`}},
		{"unknown top-level key", "metod: bp\n", nil, nil, []string{`unknown key "metod"`}},
		{"malformed YAML", "optim: [\n", nil, nil, []string{"c.yaml", "invalid YAML"}},
		{"wrong type", "optim:\n  lr: fast\n", nil, nil, []string{"c.yaml", "optim.lr"}},
		{"lr ≤ 0", "optim:\n  lr: -1\n", nil, nil, []string{"optim.lr: must be > 0"}},
		{"steps < 0", "pc:\n  steps: -1\n", nil, nil, []string{"pc.steps: must be ≥ 0"}},
		{"empty method", "method: ''\n", nil, nil, []string{"method: is empty"}},
		{"bad nudging", "pc:\n  nudging: sideways\n", nil, nil, []string{"pc.nudging", "centred"}},
		{"bad activation", "model:\n  activation: swish\n", nil, nil, []string{"model.activation"}},
		{"npz without path", "data:\n  name: npz\n", nil, nil, []string{"data.path: required"}},
		{"unknown --set key", "", []string{"optim.learning_rate=1"}, nil, []string{"--set optim.learning_rate: no such config key"}},
		{"--set without =", "", []string{"optim.lr"}, nil, []string{"want key=value"}},
		{"unknown env key", "", nil, []string{"PCTRAIN_NOPE=1"}, []string{"PCTRAIN_NOPE"}},
		{"--set wrong type", "", []string{"train.epochs=many"}, nil, []string{"train.epochs"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := Sources{Sets: c.sets, Env: c.env}
			if c.file != "" {
				src.File = writeFile(t, c.file)
			}
			_, err := Load(src)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(Sources{File: "/nonexistent/x.yaml"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/x.yaml") {
		t.Fatalf("err = %v", err)
	}
}

// The resolved config round-trips through its YAML form.
func TestYAMLRoundTrip(t *testing.T) {
	c := Default()
	c.Model.Sizes = []int{10, 3}
	c.Optim.LR = 0.125
	back, err := FromYAML(c.YAML(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if string(back.YAML()) != string(c.YAML()) {
		t.Fatalf("round trip changed the config:\n%s\n%s", c.YAML(), back.YAML())
	}
}

// Every shipped config loads and validates.
func TestShippedConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../configs/*.yaml")
	if len(files) == 0 {
		t.Fatal("no configs found")
	}
	for _, f := range files {
		if _, err := Load(Sources{File: f}); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// train.threads: 0 means the cores found at start-up, however GOMAXPROCS
// is changed later (a split run raises it above its thread count).
func TestThreadsDefault(t *testing.T) {
	c := Default()
	c.Train.Threads = 0
	start := c.Threads()
	if start != runtime.NumCPU() && start != runtime.GOMAXPROCS(0) {
		t.Fatalf("Threads() = %d with %d CPUs", start, runtime.NumCPU())
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(start + 3))
	if got := c.Threads(); got != start {
		t.Fatalf("after raising GOMAXPROCS, Threads() = %d, want %d", got, start)
	}
	c.Train.Threads = 5
	if got := c.Threads(); got != 5 {
		t.Fatalf("train.threads 5: Threads() = %d", got)
	}
}
