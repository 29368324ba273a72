package train

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/tensor"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden from the current code")

// goldenCases are the runs whose metrics.jsonl were recorded at commit
// 3bf6c8e, before learning rules became plug-ins: the same seed and config
// must give the same numbers after any refactor of how a rule lives in
// the code. Timing fields are dropped.
func goldenCases() []struct {
	name string
	mut  func(*config.Config)
} {
	type gc = struct {
		name string
		mut  func(*config.Config)
	}
	var cases []gc
	models := []struct {
		name  string
		shape []int
		mut   func(*config.Config)
	}{
		{"mlp", []int{6}, func(c *config.Config) { c.Model.Sizes = []int{6, 8, 8, 3} }},
		{"cnn", []int{1, 6, 6}, func(c *config.Config) {
			c.Model.Type = "cnn"
			c.Model.Layers = []map[string]any{{"conv": map[string]any{"out": 3, "kernel": 3, "padding": 1}}, {"act": "tanh"},
				{"maxpool": 2}, {"flatten": map[string]any{}}, {"dense": map[string]any{"out": 3}}}
		}},
		{"resmlp", []int{6}, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Blocks = "resmlp", 8, 2 }},
		{"rnn", []int{6}, func(c *config.Config) { c.Model.Type, c.Model.Hidden, c.Model.Steps = "rnn", 5, 3 }},
	}
	for _, m := range models {
		for _, method := range []string{"bp", "pc", "zil", "fa-zil"} {
			for _, dtype := range []string{"float32", "float64"} {
				for _, threads := range []int{1, 2} {
					m, method, dtype, threads := m, method, dtype, threads
					cases = append(cases, gc{fmt.Sprintf("%s-%s-%s-t%d", m.name, method, dtype, threads), func(c *config.Config) {
						c.Method, c.DType, c.Train.Threads = method, dtype, threads
						c.Data = config.DataConfig{Name: "npz", Path: shapeNPZ(m.shape), BatchSize: 16, Shuffle: true, ValSplit: 0.2, Normalize: "standard"}
						c.Optim.LR = 0.01
						c.Optim.Schedule = "cosine"
						c.Train.Epochs = 2
						c.PC.Steps = 5
						c.PC.XLR = 0.1
						if m.name == "mlp" && threads == 1 {
							c.Train.TelemetryEvery, c.Train.TelemetryBPCosine = 3, true
						}
						m.mut(c)
					}})
				}
			}
		}
	}
	return cases
}

var goldenNPZ = map[string]string{}

var stabilityField = regexp.MustCompile(`,"stability":\{[^}]*\}`)

// angleFields are the alignment angles (RULES.md §5), also added after
// the recording: bp_angle is arccos of the recorded bp_cosine.
var angleFields = regexp.MustCompile(`,"(bp_angle|feedback_angle)":\{[^}]*\}`)

func shapeNPZ(shape []int) string { return goldenNPZ[fmt.Sprint(shape)] }

// TestGoldenMetrics: every rule on every model type reproduces, bit for
// bit, the metrics recorded before rules became plug-ins.
func TestGoldenMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if !onGoldenKernel(t) {
		return
	}
	dir := t.TempDir()
	for _, s := range [][]int{{6}, {1, 6, 6}} {
		p := filepath.Join(dir, fmt.Sprintf("d%d.npz", len(s)))
		writeTinyNPZShape(t, p, s)
		goldenNPZ[fmt.Sprint(s)] = p
	}
	timing := regexp.MustCompile(`"(seconds|samples_per_sec)":[^,}]*`)
	for _, gc := range goldenCases() {
		cfg := config.Default()
		gc.mut(&cfg)
		cfg.Train.OutDir = filepath.Join(dir, gc.name)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", gc.name, err)
		}
		if _, err := Train(context.Background(), &cfg, RunOptions{}); err != nil {
			t.Fatalf("%s: %v", gc.name, err)
		}
		raw, err := os.ReadFile(filepath.Join(cfg.Train.OutDir, "metrics.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{gc.name + ".jsonl": timing.ReplaceAll(raw, nil)}
		if cfg.Train.TelemetryEvery > 0 {
			tel, err := os.ReadFile(filepath.Join(cfg.Train.OutDir, "telemetry.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			// The stability probe (RULES.md §6) and the alignment angles
			// came after the recording; they only add fields.
			files[gc.name+".telemetry.jsonl"] = angleFields.ReplaceAll(stabilityField.ReplaceAll(tel, nil), nil)
		}
		for name, got := range files {
			path := filepath.Join("testdata", "golden", name)
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s: differs from the recorded run:\n got %s\nwant %s", name, got, want)
			}
		}
	}
}

// goldenKernel is the GEMM kernel the golden files were recorded with:
// float32 (and float64) sums round differently under another kernel, so
// bit-identity is a property of one kernel. onGoldenKernel reports whether
// this process runs it; if not, it reruns the test in a child process
// with OPENBLAS_CORETYPE set to it (the library reads the variable only
// when it loads), or skips where the kernel cannot run.
const goldenKernel = "Haswell"

const goldenChildEnv = "PCTRAIN_GOLDEN_CHILD"

func onGoldenKernel(t *testing.T) bool {
	name := tensor.BackendName()
	if strings.Contains(name, "kernel "+goldenKernel+",") {
		return true
	}
	if os.Getenv(goldenChildEnv) != "" {
		t.Fatalf("asked OpenBLAS for the %s kernel, got %s", goldenKernel, name)
	}
	if !strings.Contains(name, "DYNAMIC_ARCH") || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skipf("the golden files were recorded with OpenBLAS's %s kernel; this build computes with %s", goldenKernel, name)
	}
	args := []string{"-test.run=^TestGoldenMetrics$", "-test.count=1"}
	if *updateGolden {
		args = append(args, "-update-golden")
	}
	cmd := exec.Command(os.Args[0], args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OPENBLAS_CORETYPE=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, "OPENBLAS_CORETYPE="+goldenKernel, goldenChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("on the %s kernel: %v\n%s", goldenKernel, err, out)
	}
	return false
}
