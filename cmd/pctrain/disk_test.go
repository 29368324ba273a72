package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A full disk is a clear exit-2 error naming the run directory, and it
// leaves no half-written checkpoint. Needs root to mount a 64 KiB tmpfs.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a filesystem")
	}
	dir := setup(t)
	mnt := filepath.Join(dir, "full")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root): %v %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	// 20·512 + 512·3 weights in float32, with Adam's two moments, need
	// about 140 KiB per checkpoint: more than the disk holds.
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "model.sizes=[20,512,3]", "--out", filepath.Join(mnt, "run"))
	if r.code != 2 || !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, "train.out_dir") {
		t.Fatalf("exit %d, stderr %q: want exit 2 naming train.out_dir and the full disk", r.code, r.stderr)
	}
	left, _ := filepath.Glob(filepath.Join(mnt, "run", "checkpoints", "*"))
	if len(left) != 0 {
		t.Errorf("files left in checkpoints/: %v", left)
	}
}

// A read-only output directory (a read-only mount: root ignores file
// modes) is an exit-2 error naming it.
func TestReadOnlyOutDir(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a filesystem")
	}
	dir := setup(t)
	mnt := filepath.Join(dir, "ro")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a read-only tmpfs (needs root): %v %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", filepath.Join(mnt, "run"))
	if r.code != 2 || !strings.Contains(r.stderr, "train.out_dir") || !strings.Contains(r.stderr, "read-only file system") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
