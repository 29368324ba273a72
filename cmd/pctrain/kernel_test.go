package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/pctrain/pctrain/internal/tensor"
)

// When OpenBLAS falls back to a generic kernel on a CPU with AVX2 or
// AVX-512, pctrain restarts itself with OPENBLAS_CORETYPE set and the
// library then runs the fast kernel; a kernel the user set is kept. The
// fallback is simulated (this CPU is recognised), the restart and the
// library's answer after it are real.
func TestKernelChoice(t *testing.T) {
	if !strings.Contains(tensor.BackendName(), "DYNAMIC_ARCH") {
		t.Skip("needs OpenBLAS built with DYNAMIC_ARCH")
	}
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("needs a CPU with AVX2")
	}
	version := func(env ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "version")
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, "OPENBLAS_CORETYPE=") && !strings.HasPrefix(e, "PCTRAIN_") {
				cmd.Env = append(cmd.Env, e)
			}
		}
		cmd.Env = append(cmd.Env, append(env, "GO_TEST_PCTRAIN_MAIN=1")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("version: %v: %s", err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "backend:") {
				return l
			}
		}
		t.Fatalf("no backend line in %s", out)
		return ""
	}
	got := version("PCTRAIN_TEST_OPENBLAS_DETECTED=Prescott")
	if strings.Contains(got, "kernel Prescott") || !strings.Contains(got, "chosen by pctrain: OpenBLAS detected Prescott") {
		t.Errorf("after a generic fallback: %s", got)
	}
	want := "kernel Haswell"
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512CD {
		want = "kernel SkylakeX"
	}
	if !strings.Contains(got, want) {
		t.Errorf("after a generic fallback: %s, want %s", got, want)
	}
	got = version("OPENBLAS_CORETYPE=Prescott")
	if !strings.Contains(got, "kernel Prescott, OPENBLAS_CORETYPE=Prescott set in the environment") {
		t.Errorf("the user's kernel: %s", got)
	}
}
