package train

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
)

var timingFields = regexp.MustCompile(`"(seconds|samples_per_sec)":[^,}]*`)

// checkResumeIdentical trains cfg twice under dir: once straight through,
// once interrupted when the run reaches global batch `at` and resumed
// with --resume. Both must end with the same tensors (weights, optimizer
// state, rule buffers), bit for bit, and the same metrics apart from
// timing.
func checkResumeIdentical(t *testing.T, cfg config.Config, dir, name string, at int) {
	t.Helper()
	full, part := filepath.Join(dir, name+"-full"), filepath.Join(dir, name+"-part")
	c1 := cfg
	c1.Train.OutDir = full
	if _, err := Train(context.Background(), &c1, RunOptions{}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c2 := cfg
	c2.Train.OutDir = part
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Train(ctx, &c2, RunOptions{Reporter: &cancelAt{at: at, cancel: cancel}}); err != ErrInterrupted {
		t.Fatalf("%s: interrupted leg: err = %v, want ErrInterrupted", name, err)
	}
	rc, err := ResumeConfig(part)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), rc, RunOptions{Resume: part}); err != nil {
		t.Fatalf("%s: resume: %v", name, err)
	}
	a := readWeights(t, filepath.Join(full, "checkpoints", "last.safetensors"))
	b := readWeights(t, filepath.Join(part, "checkpoints", "last.safetensors"))
	if len(a) != len(b) {
		t.Fatalf("%s: %d tensors uninterrupted, %d resumed", name, len(a), len(b))
	}
	for tn, ta := range a {
		tb, ok := b[tn]
		if !ok {
			t.Fatalf("%s: %s missing after resume", name, tn)
		}
		if !slices.Equal(ta.Float64s(), tb.Float64s()) {
			t.Errorf("%s: %s differs after resume", name, tn)
		}
	}
	ma, _ := os.ReadFile(filepath.Join(full, "metrics.jsonl"))
	mb, _ := os.ReadFile(filepath.Join(part, "metrics.jsonl"))
	if len(ma) == 0 || !bytes.Equal(timingFields.ReplaceAll(ma, nil), timingFields.ReplaceAll(mb, nil)) {
		t.Errorf("%s: metrics differ after resume:\n%s\n%s", name, ma, mb)
	}
}
