package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Offline (every download refused: the proxy is a closed port), `pctrain
// data fetch cifar10` and a train run that needs CIFAR-10 fail with exit 2
// and one line that says how to fetch offline, without pointing at the
// command that just failed and without leaving an empty datasets folder
// (which a later run would take for the dataset).
func TestFetchOfflineLeavesNothing(t *testing.T) {
	dir := setup(t)
	before := snapshot(t, dir)
	for _, args := range [][]string{
		{"data", "fetch", "cifar10"},
		{"train", "-c", "tiny.yaml", "-q", "--set", "data.name=cifar10", "--set", "model.sizes=[3072,8,10]"},
	} {
		cmd := pctrainProcess(dir, args...)
		cmd.Env = append(cmd.Env, "HTTPS_PROXY=http://127.0.0.1:1", "HTTP_PROXY=http://127.0.0.1:1", "NO_PROXY=", "no_proxy=")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 {
			t.Fatalf("%v: %v, want exit 2; stderr %s", args, err, stderr.String())
		}
		msg := strings.TrimSuffix(stderr.String(), "\n")
		if strings.Contains(msg, "\n") {
			t.Errorf("%v: stderr has several lines: %q", args, msg)
		}
		if strings.Contains(msg, "pctrain data fetch") {
			t.Errorf("%v: %q hints to rerun the fetch that failed", args, msg)
		}
		for _, w := range []string{"cifar-10-binary.tar.gz", filepath.Join("datasets", "cifar10"), "offline"} {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %q lacks %q", args, msg, w)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "datasets")); err == nil {
			t.Errorf("%v left a datasets folder", args)
		}
		sameTree(t, dir, before)
	}
}
