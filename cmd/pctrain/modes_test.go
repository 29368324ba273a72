package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Files a run, a plot, a compare and a sweep write are readable by others
// as the umask allows (0666 and 0777 less the umask: 0644 and 0755 under
// 022, 0640 and 0750 under 027), like every file a program makes.
func TestOutputModesFollowUmask(t *testing.T) {
	for _, c := range []struct {
		umask      int
		file, fold os.FileMode
	}{{0o022, 0o644, 0o755}, {0o027, 0o640, 0o750}} {
		t.Run(c.file.String(), func(t *testing.T) {
			old := syscall.Umask(c.umask)
			defer syscall.Umask(old)
			dir := setup(t)
			os.Mkdir(filepath.Join(dir, "out"), 0o777)
			steps := []string{
				"train -c tiny.yaml -q --set method=pc --set train.checkpoint_every=1 --set train.telemetry_every=5 --out out/run",
				"plot out/run",
				"compare zil bp -c tiny.yaml -q --set train.epochs=1 --steps 1 --out out/cmp",
				"sweep -c tiny.yaml -q --set train.epochs=1 --grid method=bp,zil --out out/sweep",
			}
			for _, s := range steps {
				if r := pctrain(t, dir, strings.Fields(s)...); r.code != 0 {
					t.Fatalf("%s: exit %d %s", s, r.code, r.stderr)
				}
			}
			n := 0
			filepath.Walk(filepath.Join(dir, "out"), func(p string, st os.FileInfo, err error) error {
				if err != nil {
					t.Fatal(err)
				}
				want := c.file
				if st.IsDir() {
					want = c.fold
				}
				if st.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
				}
				n++
				return nil
			})
			if n < 20 {
				t.Errorf("only %d files and folders checked", n)
			}
		})
	}
}
