package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as pctrain itself, so process-level
// behaviour (signals, exit codes) is tested on the real main.
func TestMain(m *testing.M) {
	if os.Getenv("GO_TEST_PCTRAIN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func pctrainProcess(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO_TEST_PCTRAIN_MAIN=1")
	return cmd
}

// SIGINT writes a checkpoint and exits 130; --resume then finishes the run.
func TestInterruptAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := setup(t)
	cmd := pctrainProcess(dir, "train", "-c", "tiny.yaml", "--set", "train.epochs=100000", "--out", "sig")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(dir, "sig", "checkpoints", "last.safetensors")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(last); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint after 30 s: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want 130; stderr %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "--resume sig") {
		t.Errorf("stderr does not say how to resume: %s", stderr.String())
	}
	// The interrupt checkpoint is a complete model: eval loads it. Resume
	// continues from it (bit-identity is tested in internal/train); this
	// run is far from done, so stop it again.
	ev := pctrain(t, dir, "eval", "--checkpoint", filepath.Join("sig", "checkpoints", "last.safetensors"), "--json")
	if ev.code != 0 {
		t.Fatalf("eval of the interrupt checkpoint: exit %d %s", ev.code, ev.stderr)
	}
	res := pctrainProcess(dir, "train", "--resume", "sig")
	var rerr bytes.Buffer
	res.Stderr = &rerr
	if err := res.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	res.Process.Signal(syscall.SIGTERM)
	err = res.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("resumed run: exit %v, want 130; stderr %s", err, rerr.String())
	}
	if !strings.Contains(rerr.String(), "resuming sig at epoch") {
		t.Errorf("resumed run did not say where it resumed: %s", rerr.String())
	}
}
