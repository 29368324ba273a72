package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/rule"
)

// Every model type and every rule round-trips: a trained run's checkpoint
// evaluates, seeds a new run through model.init_from with exactly its
// weights, and the run resumes. (Graph, rnn, lstm and resmlp checkpoints
// were once refused: their tensor names have no "layers." prefix.)
func TestRoundTripEveryModelAndRule(t *testing.T) {
	dir := setup(t)
	for name, sets := range cliModels {
		for _, method := range rule.Names() {
			if method == "dfa" && name != "mlp" {
				continue // dfa runs on chain models only
			}
			args := func(extra ...string) []string {
				a := []string{"-q", "--set", "method=" + method, "--set", "pc.steps=3"}
				for _, s := range sets {
					a = append(a, "--set", s)
				}
				return append(a, extra...)
			}
			run := name + "-" + method
			if r := pctrain(t, dir, append([]string{"train", "-c", "tiny.yaml"}, args("--set", "train.epochs=2", "--out", run)...)...); r.code != 0 {
				t.Fatalf("%s: train exit %d: %s", run, r.code, r.stderr)
			}
			ck := filepath.Join(run, "checkpoints", "last.safetensors")
			if r := pctrain(t, dir, "eval", "--checkpoint", ck, "--json"); r.code != 0 {
				t.Fatalf("%s: eval exit %d: %s", run, r.code, r.stderr)
			}
			// init_from: the new run's first checkpoint after zero steps
			// is not written, so compare the starting weights through a
			// run of one step with lr ~0.
			seeded := run + "-init"
			if r := pctrain(t, dir, append([]string{"train", "-c", "tiny.yaml"}, args("--set", "model.init_from="+ck, "--set", "train.epochs=1",
				"--set", "train.max_steps=1", "--set", "optim.lr=1e-300", "--set", "optim.name=sgd", "--out", seeded)...)...); r.code != 0 {
				t.Fatalf("%s: init_from exit %d: %s", run, r.code, r.stderr)
			}
			a, _, err := model.ReadSafetensors(filepath.Join(dir, ck))
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := model.ReadSafetensors(filepath.Join(dir, seeded, "checkpoints", "last.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			for tn, ta := range a {
				if strings.HasPrefix(tn, "optim.") || (method == "brsf" && strings.HasPrefix(tn, "feedback.")) {
					continue // brsf draws the next batch's M after every batch
				}
				tb, ok := b[tn]
				if !ok {
					t.Fatalf("%s: %s missing after init_from", run, tn)
				}
				fa, fb := ta.Float64s(), tb.Float64s()
				for i := range fa {
					if fa[i] != fb[i] {
						t.Fatalf("%s: init_from changed %s[%d]: %v → %v", run, tn, i, fa[i], fb[i])
					}
				}
			}
			// Resume: a finished run refuses; one with more epochs to go
			// (edit nothing but continue the interrupted state) is covered
			// by the in-process resume tests; here the checkpoint must load.
			if r := pctrain(t, dir, "train", "--resume", run, "-q"); r.code != 2 {
				t.Errorf("%s: resume of a finished run: exit %d (want 2): %s", run, r.code, r.stderr)
			}
		}
	}
}

// dfa on a model that is not a chain is a config error naming model.type
// (exit 2), before any training; a feedback tensor of the wrong shape in
// model.init_from is bad input naming the file and the tensor (exit 2).
func TestFeedbackRuleInputErrors(t *testing.T) {
	dir := setup(t)
	for _, name := range []string{"rnn", "graph"} {
		args := []string{"train", "-c", "tiny.yaml", "-q", "--set", "method=dfa", "--out", "dfa-" + name}
		for _, s := range cliModels[name] {
			args = append(args, "--set", s)
		}
		if r := pctrain(t, dir, args...); r.code != 2 || !strings.Contains(r.stderr, "model.type") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("dfa on %s: exit %d, stderr %q; want 2 and one line naming model.type", name, r.code, r.stderr)
		}
	}
	mlp := append([]string{"--set", cliModels["mlp"][0]}, "-q", "--set", "train.epochs=1")
	if r := pctrain(t, dir, append([]string{"train", "-c", "tiny.yaml", "--set", "method=fa", "--out", "fa"}, mlp...)...); r.code != 0 {
		t.Fatalf("fa: exit %d: %s", r.code, r.stderr)
	}
	ck := filepath.Join("fa", "checkpoints", "last.safetensors")
	// The fa checkpoint's feedback.layers.1.weight is [12, 12]; dfa's
	// tensor of that name is [3, 12].
	r := pctrain(t, dir, append([]string{"train", "-c", "tiny.yaml", "--set", "method=dfa", "--set", "model.init_from=" + ck, "--out", "dfa"}, mlp...)...)
	if r.code != 2 || !strings.Contains(r.stderr, ck) || !strings.Contains(r.stderr, "feedback.layers") {
		t.Errorf("dfa from fa's tensors: exit %d, stderr %q; want 2 naming the file and the tensor", r.code, r.stderr)
	}
}
