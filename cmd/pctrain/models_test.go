package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every model type trains through the CLI, and zil's run is the same
// computation as bp's from the same seed: identical metrics (timing aside),
// in float32 and float64. This checks the equivalence end to end —
// data, graph, levels, identity vertices, tied weights, optimizer.
func TestModelTypesZILMatchesBP(t *testing.T) {
	dir := setup(t)
	models := map[string][]string{
		"mlp":    {"model.sizes=[20,12,12,3]"},
		"resmlp": {"model.type=resmlp", "model.hidden=10", "model.blocks=2"},
		"rnn":    {"model.type=rnn", "model.hidden=8", "model.steps=4"},
		"lstm":   {"model.type=lstm", "model.hidden=6", "model.steps=4"},
		"graph": {"model.type=graph", `model.vertices=[{name: a, op: dense, in: ["input[0:10]"], out: 8},
			{name: b, op: dense, in: ["input[10:20]"], out: 8}, {name: c, op: mul, in: [a, b], act: tanh},
			{name: d, op: dense, in: [c], out: 8, act: gelu}, {name: e, op: dense, in: [d], out: 8, act: sigmoid, share: d},
			{name: out, op: dense, in: [e, c, a], out: 3, act: [tanh, linear, sigmoid]}]`},
	}
	timing := regexp.MustCompile(`"(seconds|samples_per_sec|method)":[^,}]*`)
	for name, sets := range models {
		for _, dtype := range []string{"float32", "float64"} {
			var got [2]string
			for i, method := range []string{"bp", "zil"} {
				args := []string{"train", "-c", "tiny.yaml", "-q", "--set", "method=" + method, "--set", "dtype=" + dtype,
					"--set", "train.epochs=2", "--out", name + dtype + method}
				for _, s := range sets {
					args = append(args, "--set", s)
				}
				r := pctrain(t, dir, args...)
				if r.code != 0 {
					t.Fatalf("%s %s %s: exit %d: %s", name, dtype, method, r.code, r.stderr)
				}
				raw, _ := os.ReadFile(filepath.Join(dir, name+dtype+method, "metrics.jsonl"))
				// Energy differs by definition (bp reports the loss,
				// zil adds its hidden errors); drop it too.
				s := timing.ReplaceAllString(string(raw), "")
				s = regexp.MustCompile(`"energy(_per_level)?":(\[[^\]]*\]|[^,}]*)`).ReplaceAllString(s, "")
				s = regexp.MustCompile(`"inference_steps":\d+`).ReplaceAllString(s, "")
				got[i] = s
			}
			if got[0] != got[1] || !strings.Contains(got[0], "test_acc") {
				t.Errorf("%s %s: zil and bp differ:\n%s\n%s", name, dtype, got[0], got[1])
			}
		}
	}
	// Graph errors name the vertex.
	bad := []struct{ set, want string }{
		{`model.vertices=[{name: a, op: dense, in: [nope], out: 3}]`, `vertex "a": unknown input "nope"`},
		{`model.vertices=[{name: a, op: add, in: [input, input]}, {name: b, op: dense, in: [a], out: 3, share: zz}]`, `vertex "b": share: no earlier vertex "zz"`},
		{`model.vertices=[{name: a, op: dense, in: [input], out: 5}, {name: b, op: add, in: [a, input]}]`, `vertex "b": add of inputs with shapes`},
		{`model.vertices=[{name: a, op: dense, in: [b], out: 3}, {name: b, op: dense, in: [a], out: 3}]`, `cycles cannot be written`},
		{`model.vertices=[{name: a, op: dense, in: [input], out: 3, colour: red}]`, `model.vertices[0] (a): colour: unknown field`},
	}
	for _, b := range bad {
		r := pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--set", "model.type=graph", "--set", b.set)
		if r.code != 2 || !strings.Contains(r.stderr, b.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", b.set, r.code, r.stderr, b.want)
		}
	}
	r := pctrain(t, dir, "graph", "-c", "tiny.yaml", "--set", "model.type=resmlp", "--set", "model.blocks=1")
	if r.code != 0 || !strings.Contains(r.stdout, "identity (inserted)") || !strings.Contains(r.stdout, "depth 4") {
		t.Errorf("pctrain graph: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
