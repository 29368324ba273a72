package data

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The parsers must reject malformed input with an error, never a panic or
// an unbounded allocation.

func FuzzIDX(f *testing.F) {
	f.Add(EncodeIDX([]int{2, 2, 2}, []uint8{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add(EncodeIDX([]int{3}, []uint8{1, 2, 3}))
	f.Add(gz(EncodeIDX([]int{1, 2}, []uint8{9, 9})))
	f.Fuzz(func(t *testing.T, b []byte) {
		dims, data, err := parseIDX(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if n != len(data) {
			t.Fatalf("dims %v but %d values", dims, len(data))
		}
	})
}

func FuzzNPY(f *testing.F) {
	f.Add(EncodeNPY([]int{2, 2}, []float32{1, 2, 3, 4}))
	f.Add(EncodeNPY([]int{3}, []int64{0, 1, 2}))
	f.Add(EncodeNPY([]int{2, 1}, []float64{1, 2}))
	f.Add(EncodeNPY([]int{4}, []uint8{1, 2, 3, 4}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadNPY(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if n != a.len() {
			t.Fatalf("shape %v but %d values", a.Shape, a.len())
		}
	})
}

func FuzzNPZ(f *testing.F) {
	var good bytes.Buffer
	x := EncodeNPY([]int{2, 2}, []float32{1, 2, 3, 4})
	y := EncodeNPY([]int{2}, []int64{0, 1})
	WriteNPZ(&good, map[string][]byte{"x_train": x, "y_train": y, "x_test": x, "y_test": y}, []string{"x_train", "y_train", "x_test", "y_test"})
	f.Add(good.Bytes())
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.npz")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		train, test, err := LoadNPZ(p)
		if err != nil {
			return
		}
		if err := train.check("train"); err != nil {
			t.Fatalf("accepted an inconsistent dataset: %v", err)
		}
		if err := test.check("test"); err != nil {
			t.Fatalf("accepted an inconsistent dataset: %v", err)
		}
	})
}
