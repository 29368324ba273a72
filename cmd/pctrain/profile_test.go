package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// --cpuprofile writes a CPU profile (gzip-compressed protocol buffers, as
// pprof writes them) of a training run; an
// existing file is bad input and is left as it was.
func TestCPUProfile(t *testing.T) {
	dir := setup(t)
	if r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "r", "--cpuprofile", "cpu.prof"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	f, err := os.Open(filepath.Join(dir, "cpu.prof"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("cpu.prof: %v", err)
	}
	if raw, err := io.ReadAll(z); err != nil || len(raw) == 0 {
		t.Errorf("cpu.prof: %d bytes, %v", len(raw), err)
	}
	before := snapshot(t, dir)
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "r2", "--cpuprofile", "cpu.prof")
	wantUserError(t, r, "--cpuprofile", "cpu.prof")
	sameTree(t, dir, before)
}
