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
	dir := setup(t)
	mnt := mountTmpfs(t, dir, "size=64k")
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
	dir := setup(t)
	mnt := mountTmpfs(t, dir, "ro,size=64k")
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", filepath.Join(mnt, "run"))
	if r.code != 2 || !strings.Contains(r.stderr, "train.out_dir") || !strings.Contains(r.stderr, "read-only file system") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// mountTmpfs mounts a tmpfs with the given options under dir for the test,
// skipping it where mounting is not allowed (not root).
func mountTmpfs(t *testing.T, dir, opts string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts a filesystem")
	}
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%s; needs root): %v %s", opts, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt
}
