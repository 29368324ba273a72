package main

import (
	"os"
	"path/filepath"
	"testing"
)

// plot -o through a file, onto a folder or into a missing folder is bad
// input naming -o (exit 2), and writes nothing.
func TestPlotOutputPath(t *testing.T) {
	dir := setup(t)
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "r"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "afile"), []byte("keep"), 0o644)
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	before := snapshot(t, dir)
	for _, c := range []struct{ out, want string }{
		{"afile/p.png", "afile is a file"},
		{"adir", "adir is a folder"},
		{"missing/p.png", "missing does not exist"},
		{"afile/sub/p.png", "afile/sub/p.png"},
	} {
		t.Run(c.out, func(t *testing.T) {
			wantUserError(t, pctrain(t, dir, "plot", "r", "-o", c.out), "-o "+c.out, c.want)
			sameTree(t, dir, before)
		})
	}
	if r := pctrain(t, dir, "plot", "r", "-o", "adir/p.png"); r.code != 0 {
		t.Errorf("plot into a folder's file: exit %d %s", r.code, r.stderr)
	}
}
