package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// train --out into a folder that holds files of its own (and no
// config.yaml) is refused, with or without --force, naming train.out_dir
// and --out, and the folder is left exactly as it was; an empty folder is
// fine.
func TestOutDirThatIsNotARunIsNotWritten(t *testing.T) {
	dir := setup(t)
	mine := filepath.Join(dir, "mine")
	os.MkdirAll(filepath.Join(mine, "checkpoints"), 0o755)
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("my notes\n"), 0o644)
	os.WriteFile(filepath.Join(mine, "checkpoints", "best.safetensors"), []byte("not pctrain's"), 0o644)
	os.WriteFile(filepath.Join(mine, "summary.json"), []byte(`{"mine": true}`), 0o600)
	before := snapshot(t, mine)
	for _, extra := range [][]string{nil, {"--force"}} {
		r := pctrain(t, dir, append([]string{"train", "-c", "tiny.yaml", "-q", "--out", "mine"}, extra...)...)
		wantUserError(t, r, "train.out_dir", "--out", "mine", "not a pctrain run")
		sameTree(t, mine, before)
	}
	// Only the checkpoint folder: still someone else's files.
	os.Remove(filepath.Join(mine, "notes.txt"))
	os.Remove(filepath.Join(mine, "summary.json"))
	before = snapshot(t, mine)
	wantUserError(t, pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "mine"), "train.out_dir", "checkpoints/")
	sameTree(t, mine, before)
	// An empty folder, or one with only the empty checkpoints/ a run
	// stopped before writing its config.yaml leaves, is used.
	for _, d := range []string{"empty", filepath.Join("stopped", "checkpoints")} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
		out := strings.Split(d, string(filepath.Separator))[0]
		if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", out); r.code != 0 {
			t.Errorf("--out %s: exit %d %s", out, r.code, r.stderr)
		}
	}
	// Without train.out_dir, the default runs/NAME skips a foreign folder.
	os.MkdirAll(filepath.Join(dir, "runs", "tiny"), 0o755)
	os.WriteFile(filepath.Join(dir, "runs", "tiny", "x"), []byte("x"), 0o644)
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q"); r.code != 0 || !strings.Contains(r.stdout, filepath.Join("runs", "tiny-2")) {
		t.Errorf("default out dir: exit %d, stdout %q: want runs/tiny-2", r.code, r.stdout)
	}
}

// A run stopped before its first checkpoint (config.yaml written, metrics
// perhaps, no last.safetensors; e.g. a preempted job) is continued by
// --resume from the beginning, saying so, and ends exactly as an
// uninterrupted run. Rerunning the train command still refuses.
func TestResumeBeforeFirstCheckpointStartsOver(t *testing.T) {
	dir := setup(t)
	for _, out := range []string{"full", "stopped"} {
		if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "method=pc", "--out", out); r.code != 0 {
			t.Fatalf("exit %d %s", r.code, r.stderr)
		}
	}
	// Leave what a kill -9 after epoch 1's metrics, before its checkpoint,
	// leaves: config.yaml and one epoch of metrics.
	stopped := filepath.Join(dir, "stopped")
	os.RemoveAll(filepath.Join(stopped, "checkpoints"))
	os.MkdirAll(filepath.Join(stopped, "checkpoints"), 0o755)
	os.Remove(filepath.Join(stopped, "summary.json"))
	for _, f := range []string{"metrics.jsonl", "metrics.csv"} {
		raw, _ := os.ReadFile(filepath.Join(stopped, f))
		n := 1
		if f == "metrics.csv" {
			n = 2
		}
		os.WriteFile(filepath.Join(stopped, f), []byte(strings.Join(strings.SplitAfter(string(raw), "\n")[:n], "")), 0o644)
	}
	config, _ := os.ReadFile(filepath.Join(stopped, "config.yaml"))
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "method=pc", "--out", "stopped"); r.code != 2 || !strings.Contains(r.stderr, "--resume stopped") {
		t.Errorf("rerun: exit %d %q, want the already-holds-a-run refusal pointing to --resume", r.code, r.stderr)
	}
	r := pctrain(t, dir, "train", "--resume", "stopped")
	if r.code != 0 {
		t.Fatalf("--resume: exit %d %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "starts from the beginning") {
		t.Errorf("stderr %q does not say the run starts from the beginning", r.stderr)
	}
	sameCheckpoints(t, filepath.Join(dir, "full", "checkpoints", "last.safetensors"), filepath.Join(stopped, "checkpoints", "last.safetensors"))
	if a, b := metricsWithoutTiming(t, filepath.Join(dir, "full")), metricsWithoutTiming(t, stopped); a != b {
		t.Errorf("metrics differ from the uninterrupted run's:\n%s\n%s", a, b)
	}
	csvFull, _ := os.ReadFile(filepath.Join(dir, "full", "metrics.csv"))
	csvStopped, _ := os.ReadFile(filepath.Join(stopped, "metrics.csv"))
	if strings.Count(string(csvFull), "\n") != strings.Count(string(csvStopped), "\n") {
		t.Errorf("metrics.csv has %d lines, the uninterrupted run's %d", strings.Count(string(csvStopped), "\n"), strings.Count(string(csvFull), "\n"))
	}
	if now, _ := os.ReadFile(filepath.Join(stopped, "config.yaml")); string(now) != string(config) {
		t.Error("--resume rewrote config.yaml")
	}
}

// --resume of a run whose config.yaml was edited is refused with one line
// naming config.yaml, the key and both values, and changes nothing; an
// edited architecture is named the same way, not as a checkpoint problem.
func TestResumeRefusesEditedConfig(t *testing.T) {
	dir := setup(t)
	interruptedRun(t, dir, "tiny.yaml", "run", 15)
	run := filepath.Join(dir, "run")
	orig, _ := os.ReadFile(filepath.Join(run, "config.yaml"))
	edits := []struct{ from, to, key, now, was string }{
		{"lr: 0.01", "lr: 0.02", "optim.lr", "0.02", "0.01"},
		{"- 16\n", "- 8\n", "model.sizes", "[20, 8, 3]", "[20, 16, 3]"},
	}
	for _, e := range edits {
		if !strings.Contains(string(orig), e.from) {
			t.Fatalf("config.yaml lacks %q:\n%s", e.from, orig)
		}
		os.WriteFile(filepath.Join(run, "config.yaml"), []byte(strings.Replace(string(orig), e.from, e.to, 1)), 0o644)
		before := snapshot(t, run)
		r := pctrain(t, dir, "train", "--resume", "run", "-q")
		wantUserError(t, r, filepath.Join("run", "config.yaml"), e.key, e.now, e.was, "was edited")
		sameTree(t, run, before)
	}
	// Undone, the edit no longer stops the run.
	os.WriteFile(filepath.Join(run, "config.yaml"), orig, 0o644)
	if r := pctrain(t, dir, "train", "--resume", "run", "-q"); r.code != 0 {
		t.Fatalf("resume after undoing the edit: exit %d %s", r.code, r.stderr)
	}
}
