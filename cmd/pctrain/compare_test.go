package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compare refuses to overwrite an earlier compare in its folder (as train
// refuses a run), overwrites it with --force, and lists every file it
// wrote, compare.png included.
func TestCompareDoesNotOverwrite(t *testing.T) {
	dir := setup(t)
	args := []string{"compare", "bp", "pc", "-c", "tiny.yaml", "-q", "--set", "train.epochs=1", "--steps", "2", "--out", "cmp"}
	r := pctrain(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	for _, f := range []string{"compare.json", "compare.csv", "compare.png"} {
		if _, err := os.Stat(filepath.Join(dir, "cmp", f)); err != nil {
			t.Errorf("compare wrote no %s", f)
		}
		if !strings.Contains(r.stdout, filepath.Join("cmp", f)) {
			t.Errorf("stdout does not list %s among what was written: %q", f, r.stdout[strings.LastIndex(r.stdout, "\n\n")+1:])
		}
	}
	before := snapshot(t, filepath.Join(dir, "cmp"))
	wantUserError(t, pctrain(t, dir, append(args, "--set", "seed=9")...), "--out cmp", "already holds a compare", "--force")
	sameTree(t, filepath.Join(dir, "cmp"), before)
	if r := pctrain(t, dir, append(args, "--set", "seed=9", "--force")...); r.code != 0 {
		t.Fatalf("--force: exit %d %s", r.code, r.stderr)
	}
	if snapshot(t, filepath.Join(dir, "cmp"))["compare.json"] == before["compare.json"] {
		t.Error("--force with another seed left compare.json as it was")
	}
}
