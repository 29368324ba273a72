package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSafetensorsRoundTrip(t *testing.T) {
	in := []Tensor{
		{Name: "layers.0.weight", Shape: []int{2, 3}, F32: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "layers.0.bias", Shape: []int{2}, F64: []float64{-0.5, 1e-300}},
	}
	var b bytes.Buffer
	if err := EncodeSafetensors(&b, in, map[string]string{"format": "x"}); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	// The layout the format specifies: u64 header length, JSON header
	// (padded to 8 bytes), then the data, F32 first (written in order).
	hl := binary.LittleEndian.Uint64(raw)
	if (8+hl)%8 != 0 {
		t.Errorf("header not padded to 8 bytes: %d", hl)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+hl], &hdr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hdr["layers.0.weight"]), `"data_offsets":[0,24]`) || !strings.Contains(string(hdr["layers.0.bias"]), `"dtype":"F64"`) {
		t.Errorf("header %s", raw[8:8+hl])
	}
	ts, meta, err := DecodeSafetensors(raw)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "x" || ts["layers.0.weight"].F32[5] != 6 || ts["layers.0.bias"].F64[1] != 1e-300 {
		t.Fatalf("decoded %v %v", ts, meta)
	}
	// Every truncation is an error, never a panic.
	for n := 0; n < len(raw); n++ {
		if _, _, err := DecodeSafetensors(raw[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		}
	}
}

func TestSafetensorsRejectsBadHeaders(t *testing.T) {
	mk := func(h string, data int) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, uint64(len(h)))
		return append(append(b, h...), make([]byte, data)...)
	}
	cases := map[string][]byte{
		"bad json":     mk(`{"a":`, 0),
		"bad dtype":    mk(`{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, 1),
		"offset shape": mk(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4),
		"overlap":      mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4),
		"negative":     mk(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4),
		"trailing":     mk(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8),
		"huge header":  append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 0),
	}
	for name, b := range cases {
		if _, _, err := DecodeSafetensors(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// WriteFileAtomic leaves the old file in place when writing fails.
func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("old"), 0o644)
	boom := errors.New("disk full")
	if err := WriteFileAtomic(p, func(w io.Writer) error { w.Write([]byte("half")); return boom }); err != boom {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("file now %q", b)
	}
	if err := WriteFileAtomic(p, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("file now %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".f.tmp-*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
