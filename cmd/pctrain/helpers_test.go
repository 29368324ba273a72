package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/train"
)

// tree is a folder's content: every entry's path, mode and (for files)
// bytes.
type tree map[string]string

func snapshot(t *testing.T, root string) tree {
	t.Helper()
	out := tree{}
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		v := st.Mode().String()
		if !e.IsDir() {
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(raw)
		}
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails the test when a folder changed since its snapshot.
func sameTree(t *testing.T, root string, before tree) {
	t.Helper()
	after := snapshot(t, root)
	var diffs []string
	for p, v := range before {
		if w, ok := after[p]; !ok {
			diffs = append(diffs, p+" removed")
		} else if w != v {
			diffs = append(diffs, p+" changed")
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, p+" added")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s changed: %s", root, strings.Join(diffs, ", "))
	}
}

// wantUserError checks a bad input's outcome: exit 2 and one line on
// stderr, prefixed pctrain:, holding every string of want.
func wantUserError(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
	}
	msg := strings.TrimSuffix(r.stderr, "\n")
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "pctrain: ") {
		t.Errorf("stderr %q: want one line starting pctrain:", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
}

// cancelAfter interrupts a run (as SIGINT does) once it has done n batches.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Logf(string, ...any)         {}
func (c *cancelAfter) Noticef(string, ...any)      {}
func (c *cancelAfter) EpochStart(train.EpochPlan)  {}
func (c *cancelAfter) EpochEnd(train.EpochMetrics) {}
func (c *cancelAfter) Batch(int, float64, int) {
	if c.n--; c.n == 0 {
		c.cancel()
	}
}

// interruptedRun trains in dir what `pctrain train -c file --set … --out
// out` would, but stops it after batches batches the way SIGINT does:
// last.safetensors of that moment, ErrInterrupted.
func interruptedRun(t *testing.T, dir, file, out string, batches int, sets ...string) {
	t.Helper()
	old, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(old)
	cfg, err := config.Load(config.Sources{File: file, Sets: sets})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Train.OutDir = out
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := train.Train(ctx, cfg, train.RunOptions{Reporter: &cancelAfter{n: batches, cancel: cancel}}); err != train.ErrInterrupted {
		t.Fatalf("interrupted run: err = %v, want ErrInterrupted", err)
	}
}

// sameCheckpoints fails unless two checkpoints hold the same tensors with
// bit-identical values.
func sameCheckpoints(t *testing.T, a, b string) {
	t.Helper()
	ta, _, err := model.ReadSafetensors(a)
	if err != nil {
		t.Fatal(err)
	}
	tb, _, err := model.ReadSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ta) != len(tb) || len(ta) == 0 {
		t.Fatalf("%s has %d tensors, %s %d", a, len(ta), b, len(tb))
	}
	for name, x := range ta {
		y, ok := tb[name]
		if !ok {
			t.Fatalf("%s lacks %s", b, name)
		}
		fx, fy := x.Float64s(), y.Float64s()
		if fmt.Sprint(x.Shape) != fmt.Sprint(y.Shape) {
			t.Fatalf("%s: shape %v vs %v", name, x.Shape, y.Shape)
		}
		for i := range fx {
			if fx[i] != fy[i] {
				t.Fatalf("%s[%d]: %v in %s, %v in %s", name, i, fx[i], a, fy[i], b)
			}
		}
	}
}

var timingFields = regexp.MustCompile(`"(seconds|samples_per_sec)":[^,}]*`)

// metricsWithoutTiming is a run's metrics.jsonl without its timings.
func metricsWithoutTiming(t *testing.T, run string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(run, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return timingFields.ReplaceAllString(string(raw), "")
}
