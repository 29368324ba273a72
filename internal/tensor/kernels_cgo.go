//go:build cgo && !purego

package tensor

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
#include "kernels.h"
*/
import "C"

import "unsafe"

// A cgo build replaces the Go element-wise kernels with C ones (see
// kernels.go); the purego build tag keeps the Go loops.
func init() {
	name := C.GoString(C.pc_kernels_select())
	k32 = kernels32{
		name: name,
		act: map[string]func(y, d, x []float32){
			"tanh":       func(y, d, x []float32) { C.pc_tanh_fd(fp(y[:len(x)]), fp(d[:len(x)]), fp(x), n(x)) },
			"gelu":       func(y, d, x []float32) { C.pc_gelu_fd(fp(y[:len(x)]), fp(d[:len(x)]), fp(x), n(x)) },
			"sigmoid":    func(y, d, x []float32) { C.pc_sigmoid_fd(fp(y[:len(x)]), fp(d[:len(x)]), fp(x), n(x)) },
			"relu":       func(y, d, x []float32) { C.pc_relu_fd(fp(y[:len(x)]), fp(d[:len(x)]), fp(x), n(x)) },
			"leaky-relu": func(y, d, x []float32) { C.pc_leaky_fd(fp(y[:len(x)]), fp(d[:len(x)]), fp(x), n(x)) },
			"linear":     goLinearFD,
		},
		add: func(dst, a, b []float32) { C.pc_add(fp(dst[:len(a)]), fp(a), fp(b[:len(a)]), n(a)) },
		sub: func(dst, a, b []float32) { C.pc_sub(fp(dst[:len(a)]), fp(a), fp(b[:len(a)]), n(a)) },
		mul: func(dst, a, b []float32) { C.pc_mul(fp(dst[:len(a)]), fp(a), fp(b[:len(a)]), n(a)) },
		axpy: func(alpha float32, x, y []float32) {
			C.pc_axpy(C.float(alpha), fp(x[:len(y)]), fp(y), n(y))
		},
		scale: func(dst []float32, s float32, x []float32) {
			C.pc_scale(fp(dst[:len(x)]), C.float(s), fp(x), n(x))
		},
		valueStep: func(x, vel, eps, pull []float32, lr, m float32) {
			C.pc_value_step(fp(x), fp(vel[:len(x)]), fp(eps[:len(x)]), fp(pull[:len(x)]), C.float(lr), C.float(m), n(x))
		},
		valueStepAdd: func(x, vel, eps, g []float32, lr, m float32) {
			C.pc_value_step_add(fp(x), fp(vel[:len(x)]), fp(eps[:len(x)]), fp(g[:len(x)]), C.float(lr), C.float(m), n(x))
		},
		sumSq: func(x []float32) float64 { return float64(C.pc_sumsq(fp(x), n(x))) },
		addRow: func(m []float32, cols int, v []float32) {
			C.pc_add_row(fp(m), C.long(len(m)/cols), C.long(cols), fp(v[:cols]))
		},
		adam: func(p, g, m, v []float32, h AdamConsts32) {
			c := C.struct_pc_adam{step: C.float(h.Step), inv_sqrt_bc2: C.float(h.InvSqrtBC2), decay: C.float(h.Decay),
				l2: C.float(h.L2), b1: C.float(h.B1), b2: C.float(h.B2), c1: C.float(h.C1), c2: C.float(h.C2), eps: C.float(h.Eps)}
			C.pc_adam(fp(p), fp(g[:len(p)]), fp(m[:len(p)]), fp(v[:len(p)]), n(p), c) // by value: a pointer would move c to the heap
		},
	}
}

// fp passes a slice's first element to C (nil for an empty slice: the C
// loops then run zero times). Slicing to the length the kernel uses first
// keeps Go's bounds checks in front of C.
func fp(s []float32) *C.float { return (*C.float)(unsafe.Pointer(unsafe.SliceData(s))) }

func n(s []float32) C.long { return C.long(len(s)) }
