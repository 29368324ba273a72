package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// "Best" is never chosen by test accuracy as the model to use: by default
// a validation split selects best.safetensors; with data.val_split: 0 the
// final epoch is the result, and a best checkpoint an older pctrain chose
// by test accuracy is labelled test-selected when evaluated.
func TestSelectionIsHonest(t *testing.T) {
	dir := setup(t)
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "val")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if !strings.Contains(r.stdout, "validation-selected") || !strings.Contains(r.stdout, "best.safetensors") {
		t.Errorf("default run: stdout %q should name the validation-selected best", r.stdout)
	}
	ev := pctrain(t, dir, "eval", "--checkpoint", "val/checkpoints/best.safetensors")
	if ev.code != 0 || !strings.Contains(ev.stdout, "validation-selected") {
		t.Errorf("eval of best: exit %d, stdout %q should say validation-selected", ev.code, ev.stdout)
	}

	r = pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "noval", "--set", "data.val_split=0", "--set", "train.epochs=1")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if !strings.Contains(r.stdout, "final epoch is the result") || strings.Contains(r.stdout, "best") {
		t.Errorf("val_split 0: stdout %q should give the final epoch as the result and offer no best", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "noval", "checkpoints", "best.safetensors")); err == nil {
		t.Error("val_split 0 wrote a best.safetensors")
	}
	ev = pctrain(t, dir, "eval", "--checkpoint", "noval/checkpoints/last.safetensors")
	if ev.code != 0 || strings.Contains(ev.stdout, "selected") || !strings.Contains(ev.stdout, "after epoch 1") {
		t.Errorf("eval of last: exit %d, stdout %q", ev.code, ev.stdout)
	}
	// What an older pctrain wrote with no validation split: best.safetensors
	// of the epoch of highest test accuracy (here the only epoch).
	raw, err := os.ReadFile(filepath.Join(dir, "noval", "checkpoints", "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "noval", "checkpoints", "best.safetensors"), raw, 0o644)
	ev = pctrain(t, dir, "eval", "--checkpoint", "noval/checkpoints/best.safetensors")
	if ev.code != 0 || !strings.Contains(ev.stdout, "test-selected") {
		t.Errorf("eval of a test-selected best: exit %d, stdout %q should say test-selected", ev.code, ev.stdout)
	}
	ev = pctrain(t, dir, "eval", "--checkpoint", "noval/checkpoints/best.safetensors", "--json")
	if ev.code != 0 || !strings.Contains(ev.stdout, `"selected_by": "test_acc"`) {
		t.Errorf("eval --json of a test-selected best: %q", ev.stdout)
	}
}

// eval --set without --config changes keys of the checkpoint's own config
// (here where the data lives), not of the built-in defaults (an MNIST MLP
// that would not match the checkpoint).
func TestEvalSetOverridesCheckpointConfig(t *testing.T) {
	dir := setup(t)
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "run", "--set", "train.epochs=1"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "blobs.npz"))
	os.WriteFile(filepath.Join(dir, "moved.npz"), raw, 0o644)
	os.Remove(filepath.Join(dir, "blobs.npz"))
	ev := pctrain(t, dir, "eval", "--checkpoint", "run/checkpoints/last.safetensors", "--set", "data.path=moved.npz", "--json")
	if ev.code != 0 || !strings.Contains(ev.stdout, `"samples": 90`) {
		t.Fatalf("eval --set data.path: exit %d, stdout %q, stderr %q", ev.code, ev.stdout, ev.stderr)
	}
	bad := pctrain(t, dir, "eval", "--checkpoint", "run/checkpoints/last.safetensors", "--set", "optim.lr=-1")
	wantUserError(t, bad, "--set", "optim.lr")
}

// --threads says once what its values mean: no "(default -1)" beside
// "0 = every core".
func TestThreadsHelp(t *testing.T) {
	for _, c := range []string{"train", "eval", "graph", "compare", "sweep"} {
		r := pctrain(t, t.TempDir(), c, "--help")
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, "--threads") && (strings.Contains(l, "(default") || !strings.Contains(l, "0 = every core")) {
				t.Errorf("%s --help: %q", c, l)
			}
		}
	}
}

// A run with --set overrides is named for them, not for the config alone
// (which would call a Fashion-MNIST run mnist-pc-2), and its plot is
// labelled with that name.
func TestRunNameFollowsOverrides(t *testing.T) {
	dir := setup(t)
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "train.epochs=1"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "train.epochs=1", "--set", "model.sizes=[20, 8, 3]")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	want := filepath.Join("runs", "tiny-train.epochs=1-model.sizes=_20_8_3")
	if !strings.Contains(r.stdout, "run directory "+want+"\n") {
		t.Errorf("stdout %q: want the run in %s", r.stdout, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "tiny-train.epochs=1", "summary.json")); err != nil {
		t.Errorf("first run: %v", err)
	}
	if r := pctrain(t, dir, "plot", want); r.code != 0 || !strings.Contains(r.stderr+r.stdout, "plot.png") {
		t.Errorf("plot %s: exit %d %q %q", want, r.code, r.stdout, r.stderr)
	}
}

// Cheap refusals come before the data set is loaded: with the data
// missing, the refusal is still the folder's, not the data's; graph
// prints an MNIST model's shapes without any MNIST files.
func TestCheapRefusalsBeforeData(t *testing.T) {
	dir := setup(t)
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "done", "--set", "train.epochs=1"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	os.Remove(filepath.Join(dir, "blobs.npz"))
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "done")
	wantUserError(t, r, "done already holds a run")
	r = pctrain(t, dir, "train", "-q", "--resume", "done")
	wantUserError(t, r, "already finished")
	os.WriteFile(filepath.Join(dir, "afile"), []byte("x"), 0o644)
	r = pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "afile/run")
	wantUserError(t, r, "train.out_dir", "afile/run")
	r = pctrain(t, dir, "graph", "-c", "tiny.yaml", "--set", "data.name=mnist", "--set", "data.dir=no-such-folder", "--set", "model.sizes=[784,32,10]")
	if r.code != 0 || !strings.Contains(r.stdout, "parameters") {
		t.Errorf("graph of an MNIST config without MNIST files: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
