package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Tensor is one named array of a safetensors file, in float32 or float64.
type Tensor struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
}

// Len is the number of values.
func (t Tensor) Len() int { return len(t.F32) + len(t.F64) }

// Float64s returns the values widened to float64.
func (t Tensor) Float64s() []float64 {
	if t.F64 != nil {
		return t.F64
	}
	out := make([]float64, len(t.F32))
	for i, v := range t.F32 {
		out[i] = float64(v)
	}
	return out
}

type stEntry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// maxHeader bounds the JSON header a reader accepts (100 MB, as the
// reference implementation does).
const maxHeader = 100 << 20

// EncodeSafetensors writes tensors and string metadata in the safetensors
// format: an 8-byte little-endian header length, a JSON header, then the
// raw little-endian data of each tensor in order.
func EncodeSafetensors(w io.Writer, tensors []Tensor, meta map[string]string) error {
	header := map[string]any{}
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	off := 0
	for _, t := range tensors {
		dt, width := "F64", 8
		if t.F64 == nil {
			dt, width = "F32", 4
		}
		n := 1
		for _, s := range t.Shape {
			n *= s
		}
		if n != t.Len() {
			return fmt.Errorf("safetensors: %s: shape %v holds %d values, have %d", t.Name, t.Shape, n, t.Len())
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = stEntry{DType: dt, Shape: shape, Offsets: [2]int{off, off + n*width}}
		off += n * width
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces to an 8-byte boundary, as the reference
	// writer does.
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	buf := make([]byte, 8, 8+len(hj)+off)
	binary.LittleEndian.PutUint64(buf, uint64(len(hj)))
	buf = append(buf, hj...)
	for _, t := range tensors {
		for _, v := range t.F32 {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		for _, v := range t.F64 {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
	}
	_, err = w.Write(buf)
	return err
}

// DecodeSafetensors parses a safetensors file's bytes. It accepts F32 and
// F64 tensors and checks that offsets are in range, contiguous and
// consistent with the shapes.
func DecodeSafetensors(b []byte) (map[string]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("truncated safetensors file (%d bytes)", len(b))
	}
	hl := binary.LittleEndian.Uint64(b)
	if hl > maxHeader || hl > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("safetensors header length %d exceeds the file (%d bytes): truncated or not a safetensors file", hl, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+hl], &raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors header is not valid JSON: %v", err)
	}
	data := b[8+hl:]
	meta := map[string]string{}
	tensors := map[string]Tensor{}
	type span struct{ lo, hi int }
	var spans []span
	for name, r := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(r, &meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, nil, fmt.Errorf("safetensors tensor %q: %v", name, err)
		}
		width := map[string]int{"F32": 4, "F64": 8}[e.DType]
		if width == 0 {
			return nil, nil, fmt.Errorf("safetensors tensor %q: dtype %q not supported (F32, F64)", name, e.DType)
		}
		n := 1
		for _, s := range e.Shape {
			if s < 0 || (s > 0 && n > math.MaxInt32/s) {
				return nil, nil, fmt.Errorf("safetensors tensor %q: bad shape %v", name, e.Shape)
			}
			n *= s
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > len(data) || hi-lo != n*width {
			return nil, nil, fmt.Errorf("safetensors tensor %q: offsets [%d, %d] do not fit shape %v in %d data bytes (truncated file?)", name, lo, hi, e.Shape, len(data))
		}
		spans = append(spans, span{lo, hi})
		t := Tensor{Name: name, Shape: e.Shape}
		seg := data[lo:hi]
		if width == 4 {
			t.F32 = make([]float32, n)
			for i := range t.F32 {
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(seg[4*i:]))
			}
		} else {
			t.F64 = make([]float64, n)
			for i := range t.F64 {
				t.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(seg[8*i:]))
			}
		}
		tensors[name] = t
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	end := 0
	for _, s := range spans {
		if s.lo != end {
			return nil, nil, fmt.Errorf("safetensors data has gaps or overlapping tensors")
		}
		end = s.hi
	}
	if end != len(data) {
		return nil, nil, fmt.Errorf("safetensors file has %d bytes after its last tensor", len(data)-end)
	}
	return tensors, meta, nil
}

// ReadSafetensors reads a safetensors file; errors name the file.
func ReadSafetensors(path string) (map[string]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	t, m, err := DecodeSafetensors(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, m, nil
}

// WriteFileAtomic writes a file through a temporary file in the same
// folder that is fsynced and renamed over path, then fsyncs the folder: a
// crash at any moment leaves either the old file or the new one. The file
// is created with mode 0666 less the umask (0644 under the usual 022),
// like any file a program writes: os.CreateTemp's 0600 would make
// results unreadable to the user's group.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := createTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := write(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// createTemp creates a new file prefix+random in dir with mode 0666 (less
// the umask), opened for writing.
func createTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if os.IsExist(err) && try < 100 {
			continue
		}
		return f, err
	}
}
