package config

import (
	"strings"
	"testing"
)

// Every error names the source the bad value came from (the file, the
// --set flag, the bound flag or the environment variable), says what was
// expected in words (no Go type names or strconv messages), and is one
// line; ints are never truncated.
func TestErrorsNameTheSource(t *testing.T) {
	cases := []struct {
		name, file string
		sets, env  []string
		flags      []Flag
		want       []string
		not        []string
	}{
		{"float int in file", "pc:\n  steps: 1.5\n", nil, nil, nil, []string{"c.yaml: pc.steps: expected an integer, got 1.5"}, nil},
		{"float int via --set", "", []string{"pc.steps=1.5"}, nil, nil, []string{"--set pc.steps=1.5: pc.steps: expected an integer, got 1.5"}, []string{"config:"}},
		{"float int via env", "", nil, []string{"PCTRAIN_PC_STEPS=2.7"}, nil, []string{"environment PCTRAIN_PC_STEPS=2.7: pc.steps: expected an integer, got 2.7"}, nil},
		{"float in sizes", "model:\n  sizes: [8, 2.5, 3]\n", nil, nil, nil, []string{"c.yaml: model.sizes: entry 1: expected an integer, got 2.5"}, nil},
		{"string int via --set names the flag", "method: bp\n", []string{"pc.steps=abc"}, nil, nil, []string{`--set pc.steps=abc: pc.steps: expected an integer, got "abc"`}, []string{"c.yaml", "strconv", "ParseInt"}},
		{"list for a number", "optim:\n  lr: [1, 2]\n", nil, nil, nil, []string{"c.yaml: optim.lr: expected a number, got a list"}, []string{"interface"}},
		{"string for a bool", "data:\n  shuffle: maybe\n", nil, nil, nil, []string{`data.shuffle: expected true or false, got "maybe"`}, nil},
		{"negative seed", "seed: -1\n", nil, nil, nil, []string{"seed: expected a non-negative integer, got -1"}, nil},
		{"scalar for a section", "pc: 3\n", nil, nil, nil, []string{"c.yaml: pc: expected a mapping"}, []string{"unknown key"}},
		{"list as the file", "- a\n- b\n", nil, nil, nil, []string{"c.yaml: the file must be a mapping"}, []string{"interface"}},
		{"range error names --set", "method: bp\n", []string{"optim.lr=-1"}, nil, nil, []string{"--set optim.lr=-1: optim.lr: must be > 0"}, []string{"min_lr", "c.yaml"}},
		{"range error names env", "", nil, []string{"PCTRAIN_TRAIN_EPOCHS=0"}, nil, []string{"environment PCTRAIN_TRAIN_EPOCHS=0: train.epochs: must be ≥ 1"}, nil},
		{"range error names the file", "train:\n  epochs: 0\n", nil, nil, nil, []string{"c.yaml: train.epochs: must be ≥ 1"}, nil},
		{"threads flag", "", nil, nil, []Flag{{"--threads -5", "train.threads", "-5"}}, []string{"--threads -5: train.threads: must be in [0, 1024]"}, []string{"--set"}},
		{"negative steps: one problem", "pc:\n  steps: -1\n", nil, nil, nil, []string{"pc.steps: must be ≥ 0 (got -1)"}, []string{"≥ 1", ";"}},
		{"misspelt --set key", "", []string{"pc.stpes=3"}, nil, nil, []string{"--set pc.stpes: no such config key", `did you mean "pc.steps"`}, nil},
		{"misspelt env var", "", nil, []string{"PCTRAIN_PC_STPES=3"}, nil, []string{"environment PCTRAIN_PC_STPES: no such config key", `did you mean "PCTRAIN_PC_STEPS"`}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := Sources{Sets: c.sets, Env: c.env, Flags: c.flags}
			if c.file != "" {
				src.File = writeFile(t, c.file)
			}
			cfg, err := Load(src)
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(msg, w) {
					t.Errorf("error %q should not contain %q", msg, w)
				}
			}
		})
	}
}

// An integral float (1e3) is an integer; the value is kept exactly.
func TestIntegralFloatIsAnInt(t *testing.T) {
	c, err := Load(Sources{Sets: []string{"data.batch_size=1e3", "pc.steps=4.0"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Data.BatchSize != 1000 || c.PC.Steps != 4 {
		t.Fatalf("batch_size %d, steps %d", c.Data.BatchSize, c.PC.Steps)
	}
}
