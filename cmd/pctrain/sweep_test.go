package main

import (
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A 2×2 sweep × 2 seeds run as two shards and collected equals the same
// sweep run in one go; a rerun skips every finished run.
func TestSweepShardsEqualUnsharded(t *testing.T) {
	dir := setup(t)
	args := []string{"sweep", "-c", "tiny.yaml", "-q", "--set", "train.epochs=2", "--set", "data.val_split=0.2",
		"--grid", "method=bp,pc", "--grid", "model.sizes=[20,8,3],[20,16,3]", "--seeds", "2"}
	if r := pctrain(t, dir, append(args, "--out", "all")...); r.code != 0 {
		t.Fatalf("unsharded: exit %d %s", r.code, r.stderr)
	}
	for _, s := range []string{"0/2", "1/2"} {
		if r := pctrain(t, dir, append(args, "--out", "shard"+s[:1], "--shard", s)...); r.code != 0 {
			t.Fatalf("shard %s: exit %d %s", s, r.code, r.stderr)
		}
	}
	// Merge the shards' run directories and collect.
	os.MkdirAll(filepath.Join(dir, "merged"), 0o755)
	for _, s := range []string{"shard0", "shard1"} {
		entries, _ := os.ReadDir(filepath.Join(dir, s))
		for _, e := range entries {
			if e.IsDir() {
				if out, err := exec.Command("cp", "-r", filepath.Join(dir, s, e.Name()), filepath.Join(dir, "merged")).CombinedOutput(); err != nil {
					t.Fatalf("cp: %v %s", err, out)
				}
			}
		}
	}
	if r := pctrain(t, dir, "sweep", "--collect", "merged"); r.code != 0 {
		t.Fatalf("collect: exit %d %s", r.code, r.stderr)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "all", "leaderboard.csv"))
	b, _ := os.ReadFile(filepath.Join(dir, "merged", "leaderboard.csv"))
	if string(a) != string(b) {
		t.Fatalf("sharded and unsharded leaderboards differ:\n%s\n%s", a, b)
	}
	rows, err := csv.NewReader(strings.NewReader(string(a))).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("leaderboard: %v; want a header and 4 combinations:\n%s", err, a)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	prev := math.Inf(1)
	for _, f := range rows[1:] {
		if f[col["seeds"]] != "2" || f[col["val_selected_seeds"]] != "2" {
			t.Errorf("row %q: want 2 seeds, each with a validation-selected accuracy", f)
		}
		// Ranked by validation accuracy, never by a test figure.
		v, err := strconv.ParseFloat(f[col["best_val_acc_mean"]], 64)
		if err != nil || v > prev {
			t.Errorf("row %q: best_val_acc_mean %q not in descending order after %v", f, f[col["best_val_acc_mean"]], prev)
		}
		prev = v
	}
	// Each shard ran half of the 8 runs.
	for _, s := range []string{"shard0", "shard1"} {
		n := 0
		entries, _ := os.ReadDir(filepath.Join(dir, s))
		for _, e := range entries {
			if e.IsDir() {
				n++
			}
		}
		if n != 4 {
			t.Errorf("%s ran %d runs, want 4", s, n)
		}
	}
	rerun := append([]string(nil), args...)
	rerun[3] = "--quiet=false"
	r := pctrain(t, dir, append(rerun, "--out", "all")...)
	if r.code != 0 || strings.Count(r.stderr, "finished, skipped") != 8 {
		t.Errorf("rerun: exit %d, stderr %q: every run should be skipped", r.code, r.stderr)
	}
	for _, bad := range [][]string{{"--shard", "2/2"}, {"--grid", "nokey"}, {"--grid", "pc.stepz=1,2"}} {
		r := pctrain(t, dir, append(append([]string{"sweep", "-c", "tiny.yaml", "--grid", "pc.steps=1,2"}, bad...), "--out", "bad")...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, r.code, r.stderr)
		}
	}
}
