package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Sweeps that would mix results are refused (exit 2, one line naming the
// culprit) before anything is written: the same --grid key twice; a rerun
// whose base config differs from the one the folder's runs were made
// with; --collect of a folder without finished sweep runs.
func TestSweepRefusesMixedResults(t *testing.T) {
	dir := setup(t)
	base := []string{"sweep", "-c", "tiny.yaml", "-q", "--set", "train.epochs=1", "--grid", "method=bp,pc"}
	t.Run("grid key twice", func(t *testing.T) {
		r := pctrain(t, dir, "sweep", "-c", "tiny.yaml", "-q", "--grid", "pc.steps=2,4", "--grid", "pc.steps=8", "--out", "twice")
		wantUserError(t, r, "--grid pc.steps", "twice")
		if _, err := os.Stat(filepath.Join(dir, "twice")); err == nil {
			t.Error("the refused sweep created its folder")
		}
	})
	t.Run("other base config", func(t *testing.T) {
		if r := pctrain(t, dir, append(base, "--out", "sw")...); r.code != 0 {
			t.Fatalf("sweep: exit %d %s", r.code, r.stderr)
		}
		before := snapshot(t, filepath.Join(dir, "sw"))
		wantUserError(t, pctrain(t, dir, append(base, "--out", "sw", "--set", "optim.lr=0.02")...),
			"sweep --out sw", "optim.lr", "0.02", "0.01", "config.yaml")
		t.Setenv("PCTRAIN_DATA_BATCH_SIZE", "16")
		wantUserError(t, pctrain(t, dir, append(base, "--out", "sw")...), "data.batch_size", "16", "32")
		sameTree(t, filepath.Join(dir, "sw"), before)
	})
	t.Run("collect nothing", func(t *testing.T) {
		os.MkdirAll(filepath.Join(dir, "empty", "notarun"), 0o755)
		os.WriteFile(filepath.Join(dir, "empty", "notes.txt"), []byte("x"), 0o644)
		before := snapshot(t, filepath.Join(dir, "empty"))
		wantUserError(t, pctrain(t, dir, "sweep", "--collect", "empty"), "sweep --collect empty", "no finished sweep runs")
		sameTree(t, filepath.Join(dir, "empty"), before)
		wantUserError(t, pctrain(t, dir, "sweep", "--collect", "nowhere"), "sweep --collect nowhere")
	})
}
