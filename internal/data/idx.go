package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ReadIDX reads an IDX file of unsigned bytes (raw or gzip-compressed) and
// returns its dimensions and data. Errors name the file.
func ReadIDX(path string) ([]int, []uint8, error) { return readIDXKind(path, 0) }

// idxKinds names the IDX files by their number of dimensions.
var idxKinds = map[int]string{1: "labels", 3: "images"}

// readIDXKind is ReadIDX for a file that must have want dimensions (0:
// any): a file of another kind is reported by its magic number, before
// its dimensions are read as if they were another kind's.
func readIDXKind(path string, want int) ([]int, []uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	dims, buf, err := parseIDXKind(bufio.NewReader(f), want)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return dims, buf, nil
}

// parseIDX decodes an IDX stream, gunzipping it if it starts with the gzip
// magic number.
func parseIDX(br *bufio.Reader) ([]int, []uint8, error) { return parseIDXKind(br, 0) }

func parseIDXKind(br *bufio.Reader, want int) ([]int, []uint8, error) {
	var r io.Reader = br
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt gzip: %v", err)
		}
		defer gz.Close()
		r = gz
	}
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("truncated IDX header")
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	expected := ""
	if want > 0 {
		expected = fmt.Sprintf(", expected %s (0x%08x)", idxKinds[want], 0x800|want)
	}
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 {
		return nil, nil, fmt.Errorf("not an IDX file of unsigned bytes: wrong magic 0x%08x%s", magic, expected)
	}
	nd := int(hdr[3])
	if want > 0 && nd != want {
		kind := idxKinds[nd]
		if kind == "" {
			kind = fmt.Sprintf("%d dimensions", nd)
		}
		return nil, nil, fmt.Errorf("wrong magic 0x%08x (%s)%s", magic, kind, expected)
	}
	if nd < 1 || nd > 4 {
		return nil, nil, fmt.Errorf("IDX file with %d dimensions", nd)
	}
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("truncated IDX header")
		}
		if d == 0 || d > 1<<24 {
			return nil, nil, fmt.Errorf("IDX dimension %d is %d", i, d)
		}
		dims[i] = int(d)
		total *= int(d)
		if total > 1<<31 {
			return nil, nil, fmt.Errorf("IDX file too large (%v)", dims[:i+1])
		}
	}
	buf, err := readExactly(r, total)
	if err != nil {
		return nil, nil, fmt.Errorf("truncated data: %v", err)
	}
	if n, _ := io.Copy(io.Discard, io.LimitReader(r, 1)); n > 0 {
		return nil, nil, fmt.Errorf("trailing data after %d bytes", total)
	}
	return dims, buf, nil
}

// idxFiles are the four files of MNIST and Fashion-MNIST.
var idxFiles = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// findIDX returns the path of base in dir, gzipped or raw.
func findIDX(dir, base string) (string, error) {
	for _, name := range []string{base + ".gz", base} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no %s(.gz)", dir, base)
}

// LoadIDXPair loads an image file and a label file into a Dataset of shape
// [1, H, W] with 10 classes.
func LoadIDXPair(images, labels string) (*Dataset, error) {
	idims, ibuf, err := readIDXKind(images, 3)
	if err != nil {
		return nil, err
	}
	ldims, lbuf, err := readIDXKind(labels, 1)
	if err != nil {
		return nil, err
	}
	if len(idims) != 3 {
		return nil, fmt.Errorf("%s: image file has %d dimensions, want 3", images, len(idims))
	}
	if len(ldims) != 1 {
		return nil, fmt.Errorf("%s: label file has %d dimensions, want 1", labels, len(ldims))
	}
	if idims[0] != ldims[0] {
		return nil, fmt.Errorf("%s: %d labels for %d images in %s", labels, ldims[0], idims[0], images)
	}
	d := &Dataset{Shape: []int{1, idims[1], idims[2]}, U8: ibuf, Labels: make([]int32, len(lbuf)), Classes: 10}
	for i, l := range lbuf {
		d.Labels[i] = int32(l)
	}
	return d, d.check(labels)
}

// LoadIDXDir loads the train and test splits of MNIST or Fashion-MNIST
// from dir.
func LoadIDXDir(dir string) (train, test *Dataset, err error) {
	var paths [4]string
	for i, base := range idxFiles {
		if paths[i], err = findIDX(dir, base); err != nil {
			return nil, nil, err
		}
	}
	if train, err = LoadIDXPair(paths[0], paths[1]); err != nil {
		return nil, nil, err
	}
	if test, err = LoadIDXPair(paths[2], paths[3]); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// EncodeIDX writes an IDX file of unsigned bytes (used by tests and tools).
func EncodeIDX(dims []int, data []uint8) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}
