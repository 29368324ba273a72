package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/tensor"
)

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func writeIDXDir(t *testing.T, dir string, compress bool, nTrain, nTest int, labelMax uint8) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	write := func(name string, dims []int, data []uint8) {
		b := EncodeIDX(dims, data)
		if compress {
			b, name = gz(b), name+".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range []int{nTrain, nTest} {
		img := make([]uint8, n*4*3)
		for j := range img {
			img[j] = uint8(rng.IntN(256))
		}
		lab := make([]uint8, n)
		for j := range lab {
			lab[j] = uint8(j) % (labelMax + 1)
		}
		prefix := []string{"train", "t10k"}[i]
		write(prefix+"-images-idx3-ubyte", []int{n, 4, 3}, img)
		write(prefix+"-labels-idx1-ubyte", []int{n}, lab)
	}
}

func TestIDXRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		dir := t.TempDir()
		writeIDXDir(t, dir, compress, 7, 5, 9)
		train, test, err := LoadIDXDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if train.N() != 7 || test.N() != 5 || train.Size() != 12 || train.Shape[0] != 1 || train.Shape[1] != 4 {
			t.Fatalf("train %d×%v, test %d", train.N(), train.Shape, test.N())
		}
		if train.Labels[3] != 3 || train.Classes != 10 {
			t.Fatalf("labels %v", train.Labels)
		}
	}
}

func TestIDXErrors(t *testing.T) {
	good := EncodeIDX([]int{2, 2, 2}, []uint8{1, 2, 3, 4, 5, 6, 7, 8})
	cases := map[string][]byte{
		"truncated data":   good[:len(good)-1],
		"truncated header": good[:6],
		"wrong magic":      append([]byte{0, 0, 9, 3}, good[4:]...),
		"trailing data":    append(append([]byte(nil), good...), 0),
		"corrupt gzip":     gz(good)[:20],
		"zero dimension":   EncodeIDX([]int{0, 2}, nil),
		"empty":            {},
	}
	for name, b := range cases {
		_, _, err := parseIDX(bufio.NewReader(bytes.NewReader(b)))
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Labels beyond the 10 classes are rejected with the file named.
	dir := t.TempDir()
	writeIDXDir(t, dir, false, 20, 5, 11)
	if _, _, err := LoadIDXDir(dir); err == nil || !strings.Contains(err.Error(), "train-labels") || !strings.Contains(err.Error(), "label 10") {
		t.Errorf("out-of-range label: err = %v", err)
	}
	// A missing file names the directory and the file.
	os.Remove(filepath.Join(dir, "t10k-images-idx3-ubyte"))
	if _, _, err := LoadIDXDir(dir); err == nil || !strings.Contains(err.Error(), "t10k-images") {
		t.Errorf("missing file: err = %v", err)
	}
}

func writeNPZ(t *testing.T, arrays map[string][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "d.npz")
	f, _ := os.Create(p)
	defer f.Close()
	var order []string
	for k := range arrays {
		order = append(order, k)
	}
	if err := WriteNPZ(f, arrays, order); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNPZRoundTrip(t *testing.T) {
	xs := []float64{0.5, -1, 2, 3.25, 4, 5}
	p := writeNPZ(t, map[string][]byte{
		"x_train": EncodeNPY([]int{3, 2}, xs), "y_train": EncodeNPY([]int{3}, []int64{0, 2, 1}),
		"x_test": EncodeNPY([]int{1, 2}, []float64{7, 8}), "y_test": EncodeNPY([]int{1}, []int64{1}),
	})
	train, test, err := LoadNPZ(p)
	if err != nil {
		t.Fatal(err)
	}
	if train.N() != 3 || train.Size() != 2 || train.Classes != 3 || test.Classes != 3 {
		t.Fatalf("train %d×%d, %d classes", train.N(), train.Size(), train.Classes)
	}
	for i, v := range xs {
		if train.value(i/2, i%2) != v {
			t.Fatalf("x[%d] = %g, want %g", i, train.value(i/2, i%2), v)
		}
	}
	// float32 and uint8 inputs decode too.
	a, err := ReadNPY(bytes.NewReader(EncodeNPY([]int{2, 2}, []float32{1, 2, 3, 4})))
	if err != nil || a.F32[3] != 4 || len(a.Shape) != 2 {
		t.Fatalf("float32: %v %v", a, err)
	}
	a, err = ReadNPY(bytes.NewReader(EncodeNPY([]int{3}, []uint8{7, 8, 9})))
	if err != nil || a.U8[2] != 9 {
		t.Fatalf("uint8: %v %v", a, err)
	}
}

func TestNPZErrors(t *testing.T) {
	x := EncodeNPY([]int{2, 2}, []float32{1, 2, 3, 4})
	y := EncodeNPY([]int{2}, []int64{0, 1})
	cases := []struct {
		name   string
		arrays map[string][]byte
		want   string
	}{
		{"missing array", map[string][]byte{"x_train": x, "y_train": y, "x_test": x}, `"y_test"`},
		{"label count", map[string][]byte{"x_train": x, "y_train": EncodeNPY([]int{3}, []int64{0, 1, 1}), "x_test": x, "y_test": y}, "y_train"},
		{"negative label", map[string][]byte{"x_train": x, "y_train": EncodeNPY([]int{2}, []int64{0, -1}), "x_test": x, "y_test": y}, "y_train[1]"},
		{"float labels", map[string][]byte{"x_train": x, "y_train": EncodeNPY([]int{2}, []float32{0, 1}), "x_test": x, "y_test": y}, "integer labels"},
		{"truncated array", map[string][]byte{"x_train": x[:len(x)-3], "y_train": y, "x_test": x, "y_test": y}, "truncated"},
		{"bad magic", map[string][]byte{"x_train": append([]byte("XNUMPY"), x[6:]...), "y_train": y, "x_test": x, "y_test": y}, "magic"},
		{"shape mismatch", map[string][]byte{"x_train": x, "y_train": y, "x_test": EncodeNPY([]int{1, 3}, []float32{1, 2, 3}), "y_test": EncodeNPY([]int{1}, []int64{0})}, "shape"},
	}
	for _, c := range cases {
		_, _, err := LoadNPZ(writeNPZ(t, c.arrays))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "d.npz") {
			t.Errorf("%s: err = %v, want it to name d.npz and %q", c.name, err, c.want)
		}
	}
	p := filepath.Join(t.TempDir(), "not.npz")
	os.WriteFile(p, []byte("hello"), 0o644)
	if _, _, err := LoadNPZ(p); err == nil || !strings.Contains(err.Error(), "not.npz") {
		t.Errorf("not a zip: %v", err)
	}
}

func TestSplitAndStandardize(t *testing.T) {
	d := &Dataset{Shape: []int{2}, F64: []float64{0, 10, 2, 10, 4, 10, 6, 10, 8, 10}, Labels: []int32{0, 1, 0, 1, 0}, Classes: 2}
	tr, val := SplitVal(All(d), 0.4, rand.New(rand.NewPCG(1, 2)))
	if tr.Len() != 3 || val.Len() != 2 {
		t.Fatalf("split %d/%d, want 3/2", tr.Len(), val.Len())
	}
	seen := map[int]bool{}
	for _, i := range append(append([]int(nil), tr.Idx...), val.Idx...) {
		seen[i] = true
	}
	if len(seen) != 5 {
		t.Fatalf("split lost or repeated samples: %v %v", tr.Idx, val.Idx)
	}
	// One channel (vector data): statistics over all 10 values of All(d):
	// mean 7, E[x²] = (0+4+16+36+64+500)/10 = 62, var 62 − 49 = 13.
	nm := Standardize(All(d), 1)
	if math.Abs(nm.Mean[0]-7) > 1e-12 || math.Abs(nm.Std[0]-math.Sqrt(13)) > 1e-12 {
		t.Fatalf("mean %v std %v", nm.Mean, nm.Std)
	}
	// Standardised data has mean 0 and variance 1.
	var x batchMat
	labels := make([]int, 5)
	Batch(&x.Mat, labels, d, []int{0, 1, 2, 3, 4}, nm)
	var s, sq float64
	for _, v := range x.Data {
		s += v
		sq += v * v
	}
	if math.Abs(s/10) > 1e-12 || math.Abs(sq/10-1) > 1e-12 {
		t.Fatalf("standardised mean %g, E[x²] %g", s/10, sq/10)
	}
	if labels[1] != 1 {
		t.Fatalf("labels %v", labels)
	}
}

func TestOrderIsSeeded(t *testing.T) {
	v := All(&Dataset{Shape: []int{1}, F64: make([]float64, 50), Labels: make([]int32, 50), Classes: 1})
	a := Order(v, rand.New(rand.NewPCG(5, 1005)))
	b := Order(v, rand.New(rand.NewPCG(5, 1005)))
	c := Order(v, rand.New(rand.NewPCG(5, 1006)))
	same := func(x, y []int) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) || same(a, c) {
		t.Fatal("epoch orders must repeat for one seed and stream and differ across streams")
	}
	if n := Order(v, nil); !same(n, v.Idx) {
		t.Fatal("unshuffled order changed")
	}
}

// Fetch copies from a local folder only files whose checksum matches, and
// never leaves a partial file.
func TestFetchVerifiesChecksums(t *testing.T) {
	src := t.TempDir()
	body := []byte("hello")
	os.WriteFile(filepath.Join(src, "f.gz"), body, 0o644)
	// sha256("hello")
	const good = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	dst := filepath.Join(t.TempDir(), "out")
	sources["test"] = source{Files: []remoteFile{{Name: "f.gz", Sum: good}}, LocalDirs: []string{src}}
	defer delete(sources, "test")
	if err := (&Fetcher{}).Fetch("test", dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f.gz")); string(b) != "hello" {
		t.Fatalf("copied %q", b)
	}
	sources["test"] = source{Files: []remoteFile{{Name: "g.gz", Sum: good}}, LocalDirs: []string{src}}
	os.WriteFile(filepath.Join(src, "g.gz"), []byte("tampered"), 0o644)
	err := (&Fetcher{}).Fetch("test", dst)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("tampered file: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "g.gz")); err == nil {
		t.Fatal("a file that failed its checksum was left behind")
	}
	if err := (&Fetcher{}).Fetch("nope", dst); err == nil || !strings.Contains(err.Error(), "mnist") {
		t.Fatalf("unknown dataset: %v", err)
	}
}

type batchMat struct{ tensor.Mat[float64] }
