package train

import (
	"strings"
	"testing"
)

// A run's default name is its config's, then each --set as -key=value,
// with characters unsafe in a folder name replaced and long names cut to
// a bounded length that stays distinct (a hash of the whole).
func TestRunName(t *testing.T) {
	cases := []struct {
		file string
		sets []string
		want string
	}{
		{"configs/mnist-pc.yaml", nil, "mnist-pc"},
		{"configs/mnist-pc.yaml", []string{"data.name=fashion-mnist"}, "mnist-pc-data.name=fashion-mnist"},
		{"c.yaml", []string{" pc.steps = 4", "model.sizes=[784, 256, 10]"}, "c-pc.steps=4-model.sizes=_784_256_10"},
		{"c.yaml", []string{"data.dir=/tmp/x"}, "c-data.dir=_tmp_x"},
	}
	for _, c := range cases {
		if got := RunName(c.file, c.sets); got != c.want {
			t.Errorf("RunName(%q, %q) = %q, want %q", c.file, c.sets, got, c.want)
		}
	}
	long := []string{"model.sizes=[" + strings.Repeat("128,", 40) + "10]"}
	a, b := RunName("c.yaml", long), RunName("c.yaml", append(long, "seed=2"))
	if len(a) > 100 || len(b) > 100 || a == b {
		t.Errorf("long names %q and %q: want ≤ 100 bytes and distinct", a, b)
	}
}
