//go:build openblas && cgo

package tensor

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
char* openblas_get_corename(void);
char* openblas_get_config(void);
*/
import "C"

import (
	"os"
	"strings"

	"golang.org/x/sys/cpu"
	"gonum.org/v1/netlib/blas/netlib"
)

// autoEnv marks a process that pctrain restarted with an OPENBLAS_CORETYPE
// of its choosing; its value is the kernel OpenBLAS had detected. It also
// keeps the restart from happening twice.
const autoEnv = "PCTRAIN_OPENBLAS_DETECTED"

// testDetectedEnv, for tests only, stands in for the kernel OpenBLAS
// detected, so the restart can be tested on a CPU the library recognises.
const testDetectedEnv = "PCTRAIN_TEST_OPENBLAS_DETECTED"

var reexecCore string // the kernel to restart with; "" for none

// KernelReexec says whether the process should start itself again so that
// OpenBLAS loads the kernel pctrain chose (see coretype.go), and with which
// environment. cmd/pctrain's main calls it first.
func KernelReexec() ([]string, bool) {
	if reexecCore == "" {
		return nil, false
	}
	detected := core()
	if d := os.Getenv(testDetectedEnv); d != "" {
		detected = d
	}
	return append(os.Environ(), "OPENBLAS_CORETYPE="+reexecCore, autoEnv+"="+detected), true
}

func core() string { return C.GoString(C.openblas_get_corename()) }

// With the openblas build tag every GEMM goes to OpenBLAS (through gonum's
// netlib binding). OpenBLAS runs single-threaded: on the small GEMMs of a
// training step its threads cost more than they give (PERF-NOTES.md), and
// pctrain parallelises coarsely itself.
func init() {
	C.openblas_set_num_threads(1)
	cfg := strings.TrimSpace(C.GoString(C.openblas_get_config()))
	detected, why := core(), ""
	if d := os.Getenv(testDetectedEnv); d != "" {
		detected = d
	}
	f := CPUFeatures{AVX2: cpu.X86.HasAVX2, FMA: cpu.X86.HasFMA, AVX512F: cpu.X86.HasAVX512F,
		AVX512BW: cpu.X86.HasAVX512BW, AVX512DQ: cpu.X86.HasAVX512DQ, AVX512VL: cpu.X86.HasAVX512VL,
		AVX512CD: cpu.X86.HasAVX512CD}
	if auto := os.Getenv(autoEnv); auto != "" {
		// Restarted: the library now runs the kernel asked for; say why
		// from what it had detected before.
		detected = core()
		_, why = ChooseCore(auto, "", true, f)
	} else {
		reexecCore, why = ChooseCore(detected, os.Getenv("OPENBLAS_CORETYPE"), strings.Contains(cfg, "DYNAMIC_ARCH"), f)
		if reexecCore != "" {
			// Stays true only if main does not restart the process.
			why = "detected by OpenBLAS although the CPU could run " + reexecCore + " (pctrain did not restart with it)"
		}
	}
	SetBackend(Backend{Name: "OpenBLAS (" + cfg + "; kernel " + detected + ", " + why + ")", F32: netlib.Implementation{}, F64: netlib.Implementation{}})
}
