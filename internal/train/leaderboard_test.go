package train

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The leaderboard ranks combinations by their best validation accuracy
// when every run has a validation split, whatever the test set says; and
// by final test accuracy when no run has one.
func TestLeaderboardRanksByValidation(t *testing.T) {
	write := func(dir, combo string, seed int, val []float64, test []float64) {
		run := filepath.Join(dir, fmt.Sprintf("%s-%d", combo, seed))
		if err := os.MkdirAll(run, 0o755); err != nil {
			t.Fatal(err)
		}
		var metrics string
		for i := range test {
			if val != nil {
				metrics += fmt.Sprintf(`{"epoch":%d,"test_acc":%v,"val_acc":%v}`+"\n", i+1, test[i], val[i])
			} else {
				metrics += fmt.Sprintf(`{"epoch":%d,"test_acc":%v}`+"\n", i+1, test[i])
			}
		}
		files := map[string]string{
			"metrics.jsonl": metrics,
			"summary.json":  fmt.Sprintf(`{"final_test_acc":%v}`, test[len(test)-1]),
			"sweep.json":    fmt.Sprintf(`{"combo":%q,"seed":%d}`, combo, seed),
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(run, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	// a: best on the test set, worst on validation; c: the reverse.
	write(dir, "a", 1, []float64{0.90, 0.91}, []float64{0.97, 0.99})
	write(dir, "a", 2, []float64{0.92, 0.90}, []float64{0.97, 0.99})
	write(dir, "b", 1, []float64{0.93, 0.92}, []float64{0.95, 0.95})
	write(dir, "c", 1, []float64{0.94, 0.96}, []float64{0.80, 0.81})
	lb, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range lb.Rows {
		order = append(order, r.Combo)
	}
	if fmt.Sprint(order) != "[c b a]" {
		t.Errorf("ranked %v, want [c b a] (by best validation accuracy)", order)
	}
	if r := lb.Rows[2]; r.Val.N != 2 || r.Val.Mean != 0.915 {
		t.Errorf("a: best val acc %+v, want mean of 0.91 and 0.92 over 2 seeds", r.Val)
	}
	noval := t.TempDir()
	write(noval, "a", 1, nil, []float64{0.97, 0.99})
	write(noval, "c", 1, nil, []float64{0.80, 0.81})
	if lb, err = Collect(noval); err != nil {
		t.Fatal(err)
	}
	if lb.Rows[0].Combo != "a" || lb.Rows[0].Val.N != 0 {
		t.Errorf("without validation: first %+v, want a by final test accuracy, no val figure", lb.Rows[0])
	}
}
