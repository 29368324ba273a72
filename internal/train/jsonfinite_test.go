package train

import (
	"encoding/json"
	"math"
	"testing"
)

// A metrics record with NaN or Inf in it is still one valid JSON line,
// with null where the number is not finite and every other field as
// json.Marshal writes it; a finite record is exactly json.Marshal's.
func TestMarshalLineNonFinite(t *testing.T) {
	v := 0.5
	m := EpochMetrics{Epoch: 3, TestLoss: math.NaN(), TestAcc: 0.25, ValLoss: &v, Energy: math.Inf(1),
		EnergyPerLevel: []float64{1, math.NaN()}}
	var got map[string]any
	if err := json.Unmarshal(marshalLine(m), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, marshalLine(m))
	}
	if got["test_loss"] != nil || got["energy"] != nil || got["test_acc"] != 0.25 || got["epoch"] != 3.0 || got["val_loss"] != 0.5 {
		t.Errorf("decoded %v", got)
	}
	if l, ok := got["energy_per_level"].([]any); !ok || len(l) != 2 || l[0] != 1.0 || l[1] != nil {
		t.Errorf("energy_per_level %v", got["energy_per_level"])
	}
	if _, ok := got["val_acc"]; ok {
		t.Error("omitempty field written")
	}
	m.TestLoss, m.Energy, m.EnergyPerLevel = 1, 2, []float64{1, 2}
	want, _ := json.Marshal(m)
	if string(marshalLine(m)) != string(want) {
		t.Errorf("finite record: %s, want %s", marshalLine(m), want)
	}
}
