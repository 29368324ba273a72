//go:build cgo && !purego

package tensor

import (
	"strings"
	"testing"
)

// A cgo build uses the C kernels (and says which instruction set).
func TestCKernelsInUse(t *testing.T) {
	if !strings.HasPrefix(KernelsName(), "C (") {
		t.Fatalf("kernels %q, want the C kernels in a cgo build", KernelsName())
	}
}
