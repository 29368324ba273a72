package tensor

import "strings"

// OpenBLAS built with DYNAMIC_ARCH picks its GEMM kernel from the CPU's
// family and model when the library loads. A CPU newer than the library's
// table (OpenBLAS 0.3.21 on several cloud CPUs) falls back to the generic
// Prescott kernel, although the CPU has AVX2 or AVX-512: every GEMM then
// runs at a fraction of what the hardware does. The library reads
// OPENBLAS_CORETYPE in its load-time constructor, before any Go code runs,
// so pctrain asks for the right kernel by starting itself again with that
// variable set (cmd/pctrain's main; see KernelReexec). A value the user set
// is never changed.

// CPUFeatures are the instruction-set extensions that decide the kernel.
type CPUFeatures struct {
	AVX2, FMA                   bool
	AVX512F, AVX512BW, AVX512DQ bool
	AVX512VL, AVX512CD          bool
}

// coreRank orders the x86-64 kernels of OpenBLAS's DYNAMIC_ARCH build by
// the widest vector unit they use: 0 for SSE-only kernels (the generic
// fallbacks), 1 for AVX, 2 for AVX2+FMA, 3 for AVX-512. A name not listed
// (a newer library's kernel, another architecture) is left alone.
var coreRank = map[string]int{
	"prescott": 0, "core2": 0, "penryn": 0, "dunnington": 0, "nehalem": 0, "atom": 0,
	"katmai": 0, "coppermine": 0, "northwood": 0, "banias": 0, "opteron": 0,
	"opteron_sse3": 0, "barcelona": 0, "bobcat": 0,
	"sandybridge": 1, "bulldozer": 1, "piledriver": 1, "steamroller": 1, "excavator": 1,
	"haswell": 2, "zen": 2, "skylake": 2,
	"skylakex": 3, "cooperlake": 3, "sapphirerapids": 3,
}

// ChooseCore decides which kernel to ask OpenBLAS for. detected is the
// kernel the library chose by itself, userSet the OPENBLAS_CORETYPE the
// user set (empty if none) and dynamic whether the library was built with
// DYNAMIC_ARCH (otherwise it has one kernel and the variable does
// nothing). It returns the kernel to request ("" to keep the detected one)
// and why, in words for `pctrain version` and the run summary.
func ChooseCore(detected, userSet string, dynamic bool, f CPUFeatures) (want, why string) {
	switch {
	case userSet != "":
		return "", "OPENBLAS_CORETYPE=" + userSet + " set in the environment"
	case !dynamic:
		return "", "the library's only kernel (built without DYNAMIC_ARCH)"
	}
	best, bestRank := "", -1
	switch {
	case f.AVX512F && f.AVX512BW && f.AVX512DQ && f.AVX512VL && f.AVX512CD:
		best, bestRank = "SkylakeX", 3
	case f.AVX2 && f.FMA:
		best, bestRank = "Haswell", 2
	}
	rank, known := coreRank[strings.ToLower(detected)]
	if !known || bestRank <= rank {
		return "", "detected by OpenBLAS"
	}
	ext := "AVX2"
	if bestRank == 3 {
		ext = "AVX-512"
	}
	return best, "chosen by pctrain: OpenBLAS detected " + detected + " on a CPU with " + ext
}
