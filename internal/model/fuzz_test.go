package model

import (
	"bytes"
	"testing"
)

func FuzzSafetensors(f *testing.F) {
	var b bytes.Buffer
	EncodeSafetensors(&b, []Tensor{
		{Name: "layers.0.weight", Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}},
		{Name: "layers.0.bias", Shape: []int{2}, F64: []float64{5, 6}},
	}, map[string]string{"format": "pctrain-checkpoint"})
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, raw []byte) {
		ts, _, err := DecodeSafetensors(raw)
		if err != nil {
			return
		}
		for name, tt := range ts {
			n := 1
			for _, d := range tt.Shape {
				n *= d
			}
			if n != tt.Len() {
				t.Fatalf("%s: shape %v but %d values", name, tt.Shape, tt.Len())
			}
		}
	})
}
