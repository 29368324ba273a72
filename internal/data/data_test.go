package data

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
		if train.at(i) != v {
			t.Fatalf("x[%d] = %g, want %g", i, train.at(i), v)
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
		{"fractional float label", map[string][]byte{"x_train": x, "y_train": EncodeNPY([]int{2}, []float32{0, 1.5}), "x_test": x, "y_test": y}, "y_train[1] = 1.5 is not a class index"},
		{"NaN float label", map[string][]byte{"x_train": x, "y_train": EncodeNPY([]int{2}, []float64{0, math.NaN()}), "x_test": x, "y_test": y}, "y_train[1] = NaN"},
		{"NaN in x_test", map[string][]byte{"x_train": x, "y_train": y, "x_test": EncodeNPY([]int{2, 3}, []float32{1, 2, 3, 4, float32(math.Inf(1)), 6}), "y_test": y}, "x_test: element 4 is +Inf"},
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

// cifarFile encodes n CIFAR-10 records whose pixels encode their index.
func cifarFile(n int, label func(i int) byte) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, label(i))
		for j := 0; j < 3072; j++ {
			b = append(b, byte(i+j))
		}
	}
	return b
}

func writeCIFARDir(t *testing.T, dir string) {
	t.Helper()
	for k, f := range append(append([]string(nil), cifarTrainFiles...), cifarTestFile) {
		if err := os.WriteFile(filepath.Join(dir, f), cifarFile(3, func(i int) byte { return byte((i + k) % 10) }), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCIFARLoader(t *testing.T) {
	dir := t.TempDir()
	writeCIFARDir(t, dir)
	train, test, err := LoadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N() != 15 || test.N() != 3 || train.Size() != 3072 || train.Shape[0] != 3 {
		t.Fatalf("train %d, test %d, shape %v", train.N(), test.N(), train.Shape)
	}
	// Record 1 of data_batch_2: label (1+1)%10, first red pixel byte(1+0),
	// first green pixel (plane 1) byte(1+1024).
	if train.Labels[4] != 2 || train.U8[4*3072] != 1 || train.U8[4*3072+1024] != byte((1+1024)%256) {
		t.Fatalf("record decoded wrongly: label %d, pixels %d %d", train.Labels[4], train.U8[4*3072], train.U8[4*3072+1024])
	}
	// Truncated file and bad label are errors that name the file.
	os.WriteFile(filepath.Join(dir, "data_batch_3.bin"), cifarFile(2, func(int) byte { return 1 })[:5000], 0o644)
	if _, _, err := LoadCIFAR10(dir); err == nil || !strings.Contains(err.Error(), "data_batch_3.bin") {
		t.Errorf("truncated: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "data_batch_3.bin"), cifarFile(2, func(int) byte { return 10 }), 0o644)
	if _, _, err := LoadCIFAR10(dir); err == nil || !strings.Contains(err.Error(), "label 10") {
		t.Errorf("bad label: %v", err)
	}
}

// The CIFAR-10 fetch downloads the archive (here from a loopback server),
// checks its SHA-256, extracts the six binary files and removes it.
func TestFetchCIFARArchive(t *testing.T) {
	src := t.TempDir()
	writeCIFARDir(t, src)
	var buf bytes.Buffer
	gzw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gzw)
	for _, f := range append(append([]string{"batches.meta.txt"}, cifarTrainFiles...), cifarTestFile) {
		b, _ := os.ReadFile(filepath.Join(src, f))
		if f == "batches.meta.txt" {
			b = []byte("airplane\n")
		}
		tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/" + f, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	gzw.Close()
	archive := buf.Bytes()
	sum := sha256.Sum256(archive)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cifar-10-binary.tar.gz" {
			http.NotFound(w, r)
			return
		}
		w.Write(archive)
	}))
	defer srv.Close()
	orig := sources["cifar10"]
	defer func() { sources["cifar10"] = orig }()
	s := orig
	s.Archive = &remoteFile{Name: "cifar-10-binary.tar.gz", Sum: "sha256:" + hex.EncodeToString(sum[:])}
	s.Mirrors = []string{srv.URL + "/"}
	sources["cifar10"] = s
	dest := filepath.Join(t.TempDir(), "cifar10")
	if err := (&Fetcher{}).Fetch("cifar10", dest); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCIFAR10(dest); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dest, "cifar-10-binary.tar.gz")); err == nil {
		t.Error("archive left behind")
	}
	// A corrupted download fails the checksum and leaves nothing.
	s.Archive = &remoteFile{Name: "cifar-10-binary.tar.gz", Sum: "sha256:" + strings.Repeat("0", 64)}
	sources["cifar10"] = s
	dest2 := filepath.Join(t.TempDir(), "c2")
	if err := (&Fetcher{}).Fetch("cifar10", dest2); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("bad checksum: %v", err)
	}
	if left, _ := os.ReadDir(dest2); len(left) > 0 {
		t.Fatalf("files left after a failed fetch: %v", left)
	}
}

// Augmentation: with no padding, flipping twice by hand gives the input
// back; a crop moves pixels by at most pad and fills with the given value;
// every pixel of the result comes from the image or the fill.
func TestAugment(t *testing.T) {
	const c, h, w = 2, 3, 4
	x := tensor.New[float64](1, c*h*w)
	for i := range x.Data {
		x.Data[i] = float64(i + 1)
	}
	orig := x.Clone()
	rng := rand.New(rand.NewPCG(1, 1))
	// Flip only: the result is the original or its mirror image.
	for trial := 0; trial < 10; trial++ {
		y := orig.Clone()
		Augment(y, []int{c, h, w}, rng, 0, true, nil, nil)
		mirrored := true
		same := true
		for ch := 0; ch < c; ch++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					v := y.Data[(ch*h+i)*w+j]
					same = same && v == orig.Data[(ch*h+i)*w+j]
					mirrored = mirrored && v == orig.Data[(ch*h+i)*w+w-1-j]
				}
			}
		}
		if !same && !mirrored {
			t.Fatalf("flip produced %v", y.Data)
		}
	}
	// Crop with pad 1 and fill −9: every output pixel is the fill or a
	// pixel of the same channel within one step of its position.
	for trial := 0; trial < 20; trial++ {
		y := orig.Clone()
		Augment(y, []int{c, h, w}, rng, 1, false, []float64{-9, -8}, nil)
		for ch := 0; ch < c; ch++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					v := y.Data[(ch*h+i)*w+j]
					if v == float64(-9+ch) {
						continue
					}
					k := int(v) - 1 - ch*h*w
					si, sj := k/w, k%w
					if k < 0 || k >= h*w || si-i > 1 || i-si > 1 || sj-j > 1 || j-sj > 1 {
						t.Fatalf("pixel (%d,%d,%d) = %g does not come from a neighbour", ch, i, j, v)
					}
				}
			}
		}
	}
	_ = x
}

// Batch of uint8 images (through the per-channel table, and for 5
// channels without it) equals the definition (raw·Scale − Mean[c]) / Std[c]
// rounded to float32, element by element.
func TestBatchUint8MatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, ch := range []int{1, 3, 5} {
		d := &Dataset{Shape: []int{ch, 3, 2}, Classes: 4}
		for i := 0; i < 7; i++ {
			d.Labels = append(d.Labels, int32(rng.IntN(4)))
			for j := 0; j < ch*6; j++ {
				d.U8 = append(d.U8, uint8(rng.IntN(256)))
			}
		}
		nm := Standardize(All(d), 1.0/255)
		ids := []int{6, 0, 3, 3}
		var x tensor.Mat[float32]
		labels := make([]int, len(ids))
		Batch(&x, labels, d, ids, nm)
		for r, id := range ids {
			if labels[r] != int(d.Labels[id]) {
				t.Fatalf("%d channels: label %d is %d, want %d", ch, r, labels[r], d.Labels[id])
			}
			for j := 0; j < ch*6; j++ {
				c := j / 6
				want := float32((float64(d.U8[id*ch*6+j])*nm.Scale - nm.Mean[c]) / nm.Std[c])
				if got := x.At(r, j); got != want {
					t.Fatalf("%d channels: x[%d,%d] = %g, want %g", ch, r, j, got, want)
				}
			}
		}
	}
}

// Fetched and extracted files are 0666 less the umask, as any other file a
// user's command writes (not os.CreateTemp's 0600); a failed fetch leaves
// none of the folders it created.
func TestFetchedFilesFollowUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f.gz"), []byte("hello"), 0o600)
	const good = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	sources["test"] = source{Files: []remoteFile{{Name: "f.gz", Sum: good}}, LocalDirs: []string{src}}
	defer delete(sources, "test")
	dst := filepath.Join(t.TempDir(), "out")
	if err := (&Fetcher{}).Fetch("test", dst); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dst, "f.gz")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("fetched file: %v, mode %v, want 0644", err, st.Mode().Perm())
	}
	// Extraction from a CIFAR-style archive.
	var buf bytes.Buffer
	gzw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gzw)
	tw.WriteHeader(&tar.Header{Name: "d/a.bin", Mode: 0o600, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("a"))
	tw.Close()
	gzw.Close()
	arch := filepath.Join(t.TempDir(), "a.tar.gz")
	os.WriteFile(arch, buf.Bytes(), 0o644)
	ext := t.TempDir()
	if err := extractMembers(arch, ext, []string{"a.bin"}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(ext, "a.bin")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("extracted file: %v, mode %v, want 0644", err, st.Mode().Perm())
	}
	// Nothing to fetch from: the folders Fetch made are gone, a folder
	// that was there stays.
	sources["test"] = source{Archive: &remoteFile{Name: "x.tar.gz", Sum: good}, Members: []string{"x.bin"}}
	root := t.TempDir()
	if err := (&Fetcher{}).Fetch("test", filepath.Join(root, "datasets", "x")); err == nil {
		t.Fatal("fetch without a source succeeded")
	}
	if left, _ := os.ReadDir(root); len(left) > 0 {
		t.Errorf("a failed fetch left %v", left)
	}
	if err := (&Fetcher{}).Fetch("test", root); err == nil {
		t.Fatal("fetch without a source succeeded")
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("a failed fetch removed a folder it did not create: %v", err)
	}
}

// A data set that a Debian package provides says so when no source
// worked (offline, package not installed), and one without a package
// does not pretend to.
func TestFetchFailureNamesThePackage(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "out")
	missing := filepath.Join(t.TempDir(), "not-installed")
	for _, c := range []struct {
		pkg  string
		want bool
	}{{"dataset-test", true}, {"", false}} {
		sources["test"] = source{Files: []remoteFile{{Name: "f.gz", Sum: "sha256:00"}}, LocalDirs: []string{missing},
			LocalPackage: c.pkg, Mirrors: []string{"http://127.0.0.1:1/"}}
		err := (&Fetcher{}).Fetch("test", dst)
		if err == nil {
			t.Fatal("fetch with no source succeeded")
		}
		got := strings.Contains(err.Error(), "apt-get install dataset-test") && strings.Contains(err.Error(), missing)
		if got != c.want {
			t.Errorf("package %q: %v", c.pkg, err)
		}
	}
	delete(sources, "test")
}
