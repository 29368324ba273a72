package main

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A signal inside a long inference stops the run within a second (exit
// 130, the checkpoint of the last completed batch), for pc and ipc; a
// second signal right after the first exits 130 at once.
func TestSignalInsideInference(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := setup(t)
	for _, c := range []struct {
		method string
		second bool
	}{{"pc", false}, {"ipc", false}, {"pc", true}} {
		cmd := pctrainProcess(dir, "train", "-c", "tiny.yaml", "--set", "method="+c.method, "--set", "pc.steps=1000000000",
			"--set", "pc.x_lr=0.0001", "--out", "long-"+c.method, "--force")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(stderr.String(), "run directory") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // inside the first batch's inference
		begin := time.Now()
		cmd.Process.Signal(syscall.SIGINT)
		if c.second {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Fatalf("%s: exit %v, want 130; stderr %s", c.method, err, stderr.String())
		}
		if d := time.Since(begin); d > time.Second {
			t.Errorf("%s: took %v to stop", c.method, d)
		}
		if !c.second && !strings.Contains(stderr.String(), "--resume long-"+c.method) {
			t.Errorf("%s: stderr does not say how to resume: %s", c.method, stderr.String())
		}
	}
}
