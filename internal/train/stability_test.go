package train

import (
	"bufio"
	"context"
	"encoding/json"
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
