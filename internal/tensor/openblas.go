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
	"strings"

	"gonum.org/v1/netlib/blas/netlib"
)

// With the openblas build tag every GEMM goes to OpenBLAS (through gonum's
// netlib binding). OpenBLAS runs single-threaded: on the small GEMMs of a
// training step its threads cost more than they give (PERF-NOTES.md), and
// pctrain parallelises coarsely itself.
func init() {
	C.openblas_set_num_threads(1)
	cfg := strings.TrimSpace(C.GoString(C.openblas_get_config()))
	core := C.GoString(C.openblas_get_corename())
	SetBackend(Backend{Name: "OpenBLAS (" + cfg + "; kernel " + core + ")", F32: netlib.Implementation{}, F64: netlib.Implementation{}})
}
