package train

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
)

type logReporter struct {
	nopReporter
	lines []string
}

func (r *logReporter) Logf(f string, a ...any) { r.lines = append(r.lines, fmt.Sprintf(f, a...)) }

// The stability probe (RULES.md §6) in a run: every telemetry line of pc,
// ipc and epc carries η·λ_max = pc.x_lr × λ_max and the safe step
// limit/λ_max; with a step past the limit each line carries the warning
// and stderr gets it once (not at every check); with a small step there is
// no warning; bp has no probe.
func TestStabilityProbeInTelemetry(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZShape(t, npz, []int{6})
	for _, method := range []string{"pc", "ipc", "epc", "bp"} {
		for _, xlr := range []float64{0.05, 3} {
			cfg := config.Default()
			cfg.Method, cfg.DType = method, "float64"
			cfg.Model.Sizes = []int{6, 8, 8, 3}
			cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, ValSplit: 0.2, Normalize: "standard"}
			cfg.Train.Epochs, cfg.Train.TelemetryEvery, cfg.Train.Threads = 1, 2, 1
			cfg.PC.Steps, cfg.PC.XLR, cfg.PC.XMomentum, cfg.PC.EnergyGrowthLimit = 2, xlr, 0, 0
			cfg.Optim.LR = 1e-6
			cfg.Train.OutDir = filepath.Join(dir, fmt.Sprintf("%s-%g", method, xlr))
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			rep := &logReporter{}
			if _, err := Train(context.Background(), &cfg, RunOptions{Reporter: rep}); err != nil {
				t.Fatalf("%s x_lr=%g: %v", method, xlr, err)
			}
			f, err := os.Open(filepath.Join(cfg.Train.OutDir, "telemetry.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			lines, warned := 0, 0
			for sc.Scan() {
				var rec Telemetry
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatal(err)
				}
				lines++
				s := rec.Stability
				if method == "bp" {
					if s != nil {
						t.Errorf("bp has a stability record %+v", s)
					}
					continue
				}
				if s == nil {
					t.Fatalf("%s: telemetry line without a stability record", method)
				}
				// F's and E's Hessians are I plus a positive part at
				// the start of inference here: λ_max > 1.
				if !(s.LambdaMax > 1) || s.EtaLambdaMax != xlr*s.LambdaMax || s.Limit != 2 || s.SafeStep != 2/s.LambdaMax {
					t.Errorf("%s x_lr=%g: record %+v", method, xlr, s)
				}
				if (s.Warning != "") != (s.EtaLambdaMax > 2) {
					t.Errorf("%s x_lr=%g: η·λ_max %.3g with warning %q", method, xlr, s.EtaLambdaMax, s.Warning)
				}
				if s.Warning != "" {
					warned++
				}
			}
			f.Close()
			if lines < 2 {
				t.Fatalf("%s: %d telemetry lines", method, lines)
			}
			var stderr []string
			for _, l := range rep.lines {
				if strings.HasPrefix(l, "warning: ") {
					stderr = append(stderr, l)
				}
			}
			switch {
			case method == "bp" || xlr < 1:
				if len(stderr) > 0 {
					t.Errorf("%s x_lr=%g: warnings %q", method, xlr, stderr)
				}
			case warned != lines || len(stderr) != 1 || !strings.Contains(stderr[0], "pc.x_lr below"):
				t.Errorf("%s x_lr=%g: %d of %d lines warned; stderr %q", method, xlr, warned, lines, stderr)
			}
		}
	}
}

// The divergence guard's use of the probe (exit 3): on a linear network
// with the squared-error loss F (pc) and E (epc) are quadratic, so a step
// past 2/λ_max diverges for certain and the run stops at the probe, before
// the batch's update; ipc (weights move during inference) and a small step
// run on. On a non-linear net a flagged batch whose inference raised the
// energy stops the run, unless pc.energy_growth_limit is 0.
func TestStabilityGuard(t *testing.T) {
	dir := t.TempDir()
	npz := filepath.Join(dir, "d.npz")
	writeTinyNPZShape(t, npz, []int{6})
	run := func(method, act, loss string, xlr, growth float64) (*Trainer[float64], error) {
		cfg := config.Default()
		cfg.Method, cfg.DType, cfg.Loss = method, "float64", loss
		cfg.Model.Sizes, cfg.Model.Activation = []int{6, 8, 8, 3}, act
		cfg.Data = config.DataConfig{Name: "npz", Path: npz, BatchSize: 16, Shuffle: true, ValSplit: 0.2, Normalize: "standard"}
		cfg.Train.Epochs, cfg.Train.TelemetryEvery, cfg.Train.Threads = 1, 2, 1
		cfg.PC.Steps, cfg.PC.XLR, cfg.PC.XMomentum, cfg.PC.EnergyGrowthLimit = 3, xlr, 0, growth
		cfg.Optim.LR = 1e-6
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		tr := newTestTrainer(t, &cfg)
		tr.Hooks.Telemetry = func(Telemetry) error { return nil }
		return tr, tr.Run(context.Background())
	}
	diverged := func(err error) *DivergedError {
		var de *DivergedError
		if !errors.As(err, &de) {
			return nil
		}
		return de
	}
	for _, method := range []string{"pc", "epc"} {
		tr, err := run(method, "linear", "mse", 3, 0)
		de := diverged(err)
		if de == nil || de.Step != 1 || !strings.Contains(de.Error(), "for certain") || !strings.Contains(de.Error(), "pc.x_lr below") {
			t.Fatalf("%s, linear, mse, x_lr 3: %v", method, err)
		}
		if tr.Pos.Step != 0 || tr.Opt.StepCount != 0 {
			t.Errorf("%s: the certain guard let the batch run (step %d, %d updates)", method, tr.Pos.Step, tr.Opt.StepCount)
		}
		if _, err := run(method, "linear", "mse", 0.05, 10); err != nil {
			t.Errorf("%s, linear, mse, x_lr 0.05: %v", method, err)
		}
		// Cross-entropy, or tanh, is not quadratic: no certain verdict.
		if _, err := run(method, "linear", "ce", 3, 0); err != nil {
			t.Errorf("%s, linear, ce, x_lr 3, growth check off: %v", method, err)
		}
		if _, err := run(method, "tanh", "mse", 3, 0); err != nil {
			t.Errorf("%s, tanh, mse, x_lr 3, growth check off: %v", method, err)
		}
	}
	if _, err := run("ipc", "linear", "mse", 3, 0); diverged(err) != nil && strings.Contains(err.Error(), "for certain") {
		t.Errorf("ipc was given a certain verdict: %v", err)
	}
	// Non-linear: confirmed by the energy the batch's inference ended at.
	_, err := run("pc", "tanh", "ce", 3, 1e6) // above what the growth guard sees
	if de := diverged(err); de == nil || !strings.Contains(err.Error(), "energy rose") || !strings.Contains(err.Error(), "pc.x_lr below") {
		t.Errorf("pc, tanh, x_lr 3: %v", err)
	}
	if _, err := run("pc", "tanh", "ce", 3, 0); err != nil {
		t.Errorf("pc, tanh, x_lr 3, growth check off: %v", err)
	}
}
