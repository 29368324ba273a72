package train

import (
	"context"
	"strings"
	"testing"
)

// compare runs rule variants given as NAME:key=value,…: positive nudging
// with β = 1 is IL, so it ends with BP-agreement and final weights
// identical to pc's; a bad override names the argument and the key.
func TestCompareVariants(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyRuleConfig(t, dir, "pc", "none")
	r, err := Compare(context.Background(), &cfg, CompareOptions{Methods: []string{"pc", "pc:pc.nudging=positive,pc.beta=1", "pc:pc.nudging=centred"}, Steps: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Methods) != 4 || r.Methods[1].Method != "pc:pc.nudging=positive,pc.beta=1" || r.Methods[3].Method != "bp" {
		t.Fatalf("methods %v", r.Methods)
	}
	a, b, c := r.Methods[0], r.Methods[1], r.Methods[2]
	if a.FinalWeightsMaxDiff != b.FinalWeightsMaxDiff || a.FinalWeightsMaxDiff == 0 {
		t.Errorf("β = 1 nudging ends %g from BP, pc %g", b.FinalWeightsMaxDiff, a.FinalWeightsMaxDiff)
	}
	for i := range a.Agreement {
		if a.Agreement[i] != b.Agreement[i] {
			t.Errorf("agreement differs: %+v vs %+v", a.Agreement[i], b.Agreement[i])
		}
	}
	if c.FinalWeightsMaxDiff == a.FinalWeightsMaxDiff {
		t.Error("centred nudging ran as plain pc")
	}
	if c.Epochs[0].InferenceSteps != 2*cfg.PC.Steps {
		t.Errorf("centred: %d inference steps per batch, want 2·T = %d", c.Epochs[0].InferenceSteps, 2*cfg.PC.Steps)
	}
	for _, bad := range []struct{ arg, want string }{
		{"pc:pc.nudge=centred", `compare pc:pc.nudge=centred: pc.nudge: no such config key`},
		{"pcx", `compare pcx: unknown method "pcx"`},
		{"pc:pc.nudging=centred,pc.beta=0", "pc.beta"},
	} {
		_, err := Compare(context.Background(), &cfg, CompareOptions{Methods: []string{bad.arg}, Steps: 1})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want %q", bad.arg, err, bad.want)
		}
	}
}
