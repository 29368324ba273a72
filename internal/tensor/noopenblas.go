//go:build !(openblas && cgo)

package tensor

// KernelReexec is false without OpenBLAS: no library kernel to choose.
func KernelReexec() ([]string, bool) { return nil, false }
