// Package tensor is pctrain's numeric core: a dense row-major matrix over
// float32 or float64, GEMM through gonum's BLAS interface, and the
// element-wise kernels the layers need.
//
// Every activation tensor in pctrain is a matrix with one row per sample
// (B×n). Convolutional feature maps are rows holding C×H×W values in NCHW
// order, so the same type serves every layer.
package tensor

import (
	"fmt"
	"math"
	"unsafe"
)

// Float is the set of element types pctrain computes in.
type Float interface {
	~float32 | ~float64
}

// Mat is a dense row-major matrix. Data[i*Cols+j] is element (i, j).
// The zero value is an empty matrix that Resize sizes.
type Mat[T Float] struct {
	Rows, Cols int
	Data       []T
}

// New returns a zeroed r×c matrix.
func New[T Float](r, c int) *Mat[T] {
	return &Mat[T]{Rows: r, Cols: c, Data: make([]T, r*c)}
}

// FromSlice wraps data (not copied) as an r×c matrix.
func FromSlice[T Float](r, c int, data []T) *Mat[T] {
	if len(data) != r*c {
		panic(fmt.Sprintf("tensor: FromSlice: %d values for %d×%d", len(data), r, c))
	}
	return &Mat[T]{Rows: r, Cols: c, Data: data}
}

// Resize makes m an r×c matrix, reusing its storage when it is large
// enough. The contents are unspecified afterwards.
func (m *Mat[T]) Resize(r, c int) {
	n := r * c
	if cap(m.Data) < n {
		m.Data = make([]T, n)
	}
	m.Data = m.Data[:n]
	m.Rows, m.Cols = r, c
}

// Row returns row i as a slice sharing m's storage.
func (m *Mat[T]) Row(i int) []T { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// At returns element (i, j).
func (m *Mat[T]) At(i, j int) T { return m.Data[i*m.Cols+j] }

// Set sets element (i, j).
func (m *Mat[T]) Set(i, j int, v T) { m.Data[i*m.Cols+j] = v }

// Zero sets every element to 0.
func (m *Mat[T]) Zero() { clear(m.Data) }

// CopyFrom makes m an exact copy of src.
func (m *Mat[T]) CopyFrom(src *Mat[T]) {
	m.Resize(src.Rows, src.Cols)
	copy(m.Data, src.Data)
}

// Clone returns a deep copy of m.
func (m *Mat[T]) Clone() *Mat[T] {
	c := &Mat[T]{}
	c.CopyFrom(m)
	return c
}

// SameShape reports whether a and b have the same dimensions.
func SameShape[T Float](a, b *Mat[T]) bool { return a.Rows == b.Rows && a.Cols == b.Cols }

// Add sets dst = a + b element-wise (dst may alias a or b).
func Add[T Float](dst, a, b *Mat[T]) {
	dst.Resize(a.Rows, a.Cols)
	if d, ok := F32(dst.Data); ok {
		a32, _ := F32(a.Data)
		b32, _ := F32(b.Data)
		k32.add(d, a32, b32)
		return
	}
	goAdd(dst.Data, a.Data, b.Data)
}

// Sub sets dst = a − b element-wise (dst may alias a or b).
func Sub[T Float](dst, a, b *Mat[T]) {
	dst.Resize(a.Rows, a.Cols)
	if d, ok := F32(dst.Data); ok {
		a32, _ := F32(a.Data)
		b32, _ := F32(b.Data)
		k32.sub(d, a32, b32)
		return
	}
	goSub(dst.Data, a.Data, b.Data)
}

// Axpy sets y += alpha·x element-wise.
func Axpy[T Float](alpha T, x, y []T) {
	if y32, ok := F32(y); ok {
		x32, _ := F32(x)
		k32.axpy(float32(alpha), x32, y32)
		return
	}
	goAxpy(alpha, x, y)
}

// Scale multiplies every element of m by s.
func Scale[T Float](s T, m []T) { ScaleTo(m, s, m) }

// ScaleTo sets dst = s·x element-wise (dst may be x; it must be at least
// as long as x).
func ScaleTo[T Float](dst []T, s T, x []T) {
	if d, ok := F32(dst); ok {
		x32, _ := F32(x)
		k32.scale(d, float32(s), x32)
		return
	}
	goScale(dst, s, x)
}

// SumSq returns Σ v² in float64: element by element for float64, in 8
// interleaved partial sums for float32 (see goSumSq32).
func SumSq[T Float](v []T) float64 {
	if v32, ok := F32(v); ok {
		return k32.sumSq(v32)
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}

// MaxAbsDiff returns max |a_i − b_i| in float64.
func MaxAbsDiff[T Float](a, b []T) float64 {
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > m || math.IsNaN(d) {
			m = d
		}
	}
	return m
}

// AllFinite reports whether no element is NaN or ±Inf.
func AllFinite[T Float](v []T) bool {
	if v32, ok := F32(v); ok {
		// A float64 sum of float32 squares cannot overflow (each is below
		// 1.2e77), so it is finite exactly when every element is: one
		// vectorised pass.
		s := k32.sumSq(v32)
		return !math.IsNaN(s) && !math.IsInf(s, 0)
	}
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// AddRowVector adds the row vector v to every row of m.
func AddRowVector[T Float](m *Mat[T], v []T) {
	if m.Cols == 0 {
		return
	}
	data := m.Data[:m.Rows*m.Cols]
	if d, ok := F32(data); ok {
		v32, _ := F32(v)
		k32.addRow(d, m.Cols, v32[:m.Cols])
		return
	}
	goAddRow(data, m.Cols, v)
}

// SumRows adds alpha·Σ_i m[i,:] into dst (len m.Cols).
func SumRows[T Float](dst []T, alpha T, m *Mat[T]) {
	dst = dst[:m.Cols]
	for i := 0; i < m.Rows; i++ {
		r := m.Data[i*m.Cols : (i+1)*m.Cols]
		for j, v := range r {
			dst[j] += alpha * v
		}
	}
}

// ArgMax returns the index of the largest value of v (the first on ties).
func ArgMax[T Float](v []T) int {
	best := 0
	for i := 1; i < len(v); i++ {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// DType names T as it appears in configs and checkpoints.
func DType[T Float]() string {
	var z T
	if _, ok := any(z).(float32); ok {
		return "float32"
	}
	return "float64"
}

// F32 returns s as a []float32 sharing its memory when T is float32; F64
// likewise for float64. Unlike a conversion through any, they allocate
// nothing, which keeps training steps allocation-free.
func F32[T Float](s []T) ([]float32, bool) {
	var z T
	if _, ok := any(z).(float32); !ok {
		return nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s)), true
}

// F64 is F32 for float64.
func F64[T Float](s []T) ([]float64, bool) {
	var z T
	if _, ok := any(z).(float64); !ok {
		return nil, false
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s)), true
}
