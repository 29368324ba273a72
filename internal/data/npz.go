package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Array is a decoded .npy array: its shape and values in one of the slices.
type Array struct {
	Shape []int
	U8    []uint8
	F32   []float32
	F64   []float64
	Int   []int64 // every integer dtype other than uint8
}

func (a Array) len() int { return len(a.U8) + len(a.F32) + len(a.F64) + len(a.Int) }

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// ReadNPY decodes one .npy stream (format versions 1–3, C order, little-
// endian or byte types).
func ReadNPY(r io.Reader) (Array, error) {
	var magic [8]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil || string(magic[:6]) != "\x93NUMPY" {
		return Array{}, fmt.Errorf("not a .npy array (bad magic)")
	}
	var hlen int
	switch magic[6] {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return Array{}, fmt.Errorf("truncated .npy header")
		}
		hlen = int(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return Array{}, fmt.Errorf("truncated .npy header")
		}
		if n > 1<<20 {
			return Array{}, fmt.Errorf(".npy header of %d bytes", n)
		}
		hlen = int(n)
	default:
		return Array{}, fmt.Errorf("unsupported .npy version %d", magic[6])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return Array{}, fmt.Errorf("truncated .npy header")
	}
	h := string(hdr)
	dm, fm, sm := npyDescr.FindStringSubmatch(h), npyFortran.FindStringSubmatch(h), npyShape.FindStringSubmatch(h)
	if dm == nil || fm == nil || sm == nil {
		return Array{}, fmt.Errorf("malformed .npy header %q", strings.TrimSpace(h))
	}
	if fm[1] == "True" {
		return Array{}, fmt.Errorf("Fortran-ordered arrays are not supported (save with np.ascontiguousarray)")
	}
	a := Array{}
	n := 1
	for _, f := range strings.Split(sm[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 || d > 1<<31 {
			return Array{}, fmt.Errorf("malformed .npy shape (%s)", sm[1])
		}
		a.Shape = append(a.Shape, d)
		n *= d
		if n > 1<<31 {
			return Array{}, fmt.Errorf(".npy array too large %v", a.Shape)
		}
	}
	descr := dm[1]
	width := map[string]int{"|u1": 1, "<u1": 1, "|i1": 1, "<i1": 1, "<i2": 2, "<u2": 2, "<i4": 4, "<u4": 4, "<i8": 8, "<u8": 8, "<f4": 4, "<f8": 8}[descr]
	if width == 0 {
		return Array{}, fmt.Errorf("unsupported .npy dtype %q (use uint8, int, float32 or float64, little-endian)", descr)
	}
	raw, err := readExactly(r, n*width)
	if err != nil {
		return Array{}, fmt.Errorf("truncated .npy data: %v", err)
	}
	le := binary.LittleEndian
	switch descr {
	case "|u1", "<u1":
		a.U8 = raw
	case "<f4":
		a.F32 = make([]float32, n)
		for i := range a.F32 {
			a.F32[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case "<f8":
		a.F64 = make([]float64, n)
		for i := range a.F64 {
			a.F64[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	default:
		a.Int = make([]int64, n)
		for i := range a.Int {
			switch descr {
			case "|i1", "<i1":
				a.Int[i] = int64(int8(raw[i]))
			case "<i2":
				a.Int[i] = int64(int16(le.Uint16(raw[2*i:])))
			case "<u2":
				a.Int[i] = int64(le.Uint16(raw[2*i:]))
			case "<i4":
				a.Int[i] = int64(int32(le.Uint32(raw[4*i:])))
			case "<u4":
				a.Int[i] = int64(le.Uint32(raw[4*i:]))
			case "<i8", "<u8":
				a.Int[i] = int64(le.Uint64(raw[8*i:]))
			}
		}
	}
	return a, nil
}

// ReadNPZ reads every array of an .npz file (np.savez or
// np.savez_compressed), keyed by name without ".npy".
func ReadNPZ(path string) (map[string]Array, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: not a valid .npz (zip) file: %v", path, err)
	}
	defer zr.Close()
	out := map[string]Array{}
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, f.Name, err)
		}
		a, err := ReadNPY(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, f.Name, err)
		}
		out[name] = a
	}
	return out, nil
}

// finite reports the first NaN or Inf of a float array.
func finite(a Array) error {
	for i, v := range a.F32 {
		if v != v || math.IsInf(float64(v), 0) {
			return fmt.Errorf("element %d is %v; the data must be finite", i, v)
		}
	}
	for i, v := range a.F64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("element %d is %v; the data must be finite", i, v)
		}
	}
	return nil
}

// LoadNPZ loads x_train, y_train, x_test and y_test from an .npz file.
// x arrays are N×… (any per-sample shape, values used as given); y arrays
// hold integer labels 0..K−1 (any integer dtype, or floats with whole
// values), K being one more than the largest label. NaN or Inf anywhere is
// an error naming the array.
func LoadNPZ(path string) (train, test *Dataset, err error) {
	arrs, err := ReadNPZ(path)
	if err != nil {
		return nil, nil, err
	}
	get := func(xk, yk string) (*Dataset, error) {
		x, ok := arrs[xk]
		if !ok {
			return nil, fmt.Errorf("%s: no array %q (an .npz needs x_train, y_train, x_test, y_test)", path, xk)
		}
		y, ok := arrs[yk]
		if !ok {
			return nil, fmt.Errorf("%s: no array %q (an .npz needs x_train, y_train, x_test, y_test)", path, yk)
		}
		if len(x.Shape) < 1 || x.Shape[0] == 0 {
			return nil, fmt.Errorf("%s: %s has shape %v; want N×features with N > 0", path, xk, x.Shape)
		}
		if len(y.Shape) != 1 || y.Shape[0] != x.Shape[0] {
			return nil, fmt.Errorf("%s: %s has shape %v; want (%d,) to match %s", path, yk, y.Shape, x.Shape[0], xk)
		}
		if x.Int != nil {
			return nil, fmt.Errorf("%s: %s must be uint8, float32 or float64", path, xk)
		}
		if err := finite(x); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, xk, err)
		}
		shape := x.Shape[1:]
		if len(shape) == 0 {
			shape = []int{1}
		}
		d := &Dataset{Shape: shape, U8: x.U8, F32: x.F32, F64: x.F64, Labels: make([]int32, y.Shape[0])}
		for i := range d.Labels {
			var l float64
			switch {
			case y.U8 != nil:
				l = float64(y.U8[i])
			case y.Int != nil:
				l = float64(y.Int[i])
			case y.F32 != nil:
				l = float64(y.F32[i])
			default:
				l = y.F64[i]
			}
			if l != math.Trunc(l) || l < 0 || l > 1<<20 {
				// Covers NaN and ±Inf too, which compare false.
				return nil, fmt.Errorf("%s: %s[%d] = %v is not a class index (labels are integers 0..K−1)", path, yk, i, l)
			}
			d.Labels[i] = int32(l)
		}
		return d, nil
	}
	if train, err = get("x_train", "y_train"); err != nil {
		return nil, nil, err
	}
	if test, err = get("x_test", "y_test"); err != nil {
		return nil, nil, err
	}
	if train.Size() != test.Size() {
		return nil, nil, fmt.Errorf("%s: x_train samples have shape %v but x_test %v", path, train.Shape, test.Shape)
	}
	k := int32(0)
	for _, l := range append(append([]int32(nil), train.Labels...), test.Labels...) {
		k = max(k, l+1)
	}
	train.Classes, test.Classes = int(k), int(k)
	return train, test, nil
}

// EncodeNPY encodes a C-ordered array as .npy version 1. data is []uint8,
// []float32, []float64 or []int64.
func EncodeNPY(shape []int, data any) []byte {
	var descr string
	var body bytes.Buffer
	switch d := data.(type) {
	case []uint8:
		descr = "|u1"
		body.Write(d)
	case []float32:
		descr = "<f4"
		binary.Write(&body, binary.LittleEndian, d)
	case []float64:
		descr = "<f8"
		binary.Write(&body, binary.LittleEndian, d)
	case []int64:
		descr = "<i8"
		binary.Write(&body, binary.LittleEndian, d)
	default:
		panic(fmt.Sprintf("data: EncodeNPY: unsupported %T", data))
	}
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = strconv.Itoa(s)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	pad := 64 - (10+len(h)+1)%64
	h += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(body.Bytes())
	return b.Bytes()
}

// WriteNPZ writes arrays (name → .npy bytes) as an uncompressed .npz.
func WriteNPZ(w io.Writer, arrays map[string][]byte, order []string) error {
	zw := zip.NewWriter(w)
	for _, name := range order {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if _, err := f.Write(arrays[name]); err != nil {
			return err
		}
	}
	return zw.Close()
}

// readExactly reads n bytes, growing its buffer as data arrives, so a
// header that claims more data than the stream holds costs no more memory
// than the stream.
func readExactly(r io.Reader, n int) ([]byte, error) {
	// Capacity doubles from 1 MiB as data arrives, capped at n, so the last
	// growth allocates exactly n (bytes.Buffer would round up, and a
	// 47 MB MNIST file cost 96 MB at its peak).
	buf := make([]byte, 0, min(n, 1<<20))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, fmt.Errorf("%d of %d bytes", len(buf), n)
		}
	}
	return buf, nil
}
