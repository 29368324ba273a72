package tensor

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// Backend is the BLAS implementation every GEMM goes through. The default
// is gonum's pure-Go implementation, which builds anywhere; other backends
// register themselves with SetBackend.
type Backend struct {
	Name string
	F32  blas.Float32Level3
	F64  blas.Float64Level3
}

var backend = Backend{Name: "gonum (pure Go)", F32: gonum.Implementation{}, F64: gonum.Implementation{}}

// SetBackend replaces the GEMM backend. Call it before any computation.
func SetBackend(b Backend) { backend = b }

// BackendName names the GEMM backend in use.
func BackendName() string { return backend.Name }

// Describe names the GEMM backend and the element-wise kernels, as runs
// record them.
func Describe() string { return backend.Name + "; element-wise " + KernelsName() }

// Gemm computes c = alpha·op(a)·op(b) + beta·c, where op(x) is x or xᵀ as
// transA and transB say. c must already have the right shape.
func Gemm[T Float](transA, transB bool, alpha T, a, b *Mat[T], beta T, c *Mat[T]) {
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if transB {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("tensor: Gemm shapes: op(a) %d×%d, op(b) %d×%d, c %d×%d", m, k, kb, n, c.Rows, c.Cols))
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if beta == 0 {
			c.Zero()
		} else {
			Scale(beta, c.Data)
		}
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	if cd, ok := F32(c.Data); ok {
		ad, _ := F32(a.Data)
		bd, _ := F32(b.Data)
		backend.F32.Sgemm(ta, tb, m, n, k, float32(alpha), ad, max(a.Cols, 1), bd, max(b.Cols, 1), float32(beta), cd, max(c.Cols, 1))
		return
	}
	cd, _ := F64(c.Data)
	ad, _ := F64(a.Data)
	bd, _ := F64(b.Data)
	backend.F64.Dgemm(ta, tb, m, n, k, float64(alpha), ad, max(a.Cols, 1), bd, max(b.Cols, 1), float64(beta), cd, max(c.Cols, 1))
}

var (
	_ blas.Float32Level3 = blas32.Implementation()
	_ blas.Float64Level3 = blas64.Implementation()
)
