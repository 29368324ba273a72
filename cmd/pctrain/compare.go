package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/train"
)

type compareOptions struct {
	cfg   configFlags
	steps int
	json  bool
	out   string
	force bool
}

func newCompareCommand(g *globals) *cobra.Command {
	o := &compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare [METHOD[:KEY=VALUE,...]...] --config FILE [--steps N] [--json] [--out DIR]",
		Short: "Train several methods from the same initial weights and batches, side by side",
		Long: `Train each METHOD (default: pc bp) from the same initial weights on the same batch sequence
and report, for each:

  - gradient agreement with BP at the method's own current weights over the first --steps
    batches, per parameter: max |Δ|, relative error (max|Δ| / max|g_bp|) and cosine;
    zil and fa-zil in float64 say "exact" when every relative error is ≤ 1e-12
  - loss and accuracy per epoch, seconds per epoch and the time ratio to BP
  - the largest difference between its final weights and BP's

BP always runs as the reference. compare.json, compare.csv and compare.png (the curves) go to
--out (default
runs/compare-<config name>).

A METHOD may carry config overrides of its own after a colon, to compare variants of one
rule: pc:pc.nudging=centred,pc.beta=0.05 (keys as for --set).

Methods (any registered rule; ` + "`pctrain rules`" + ` shows more):
` + ruleLines() + exitStatusHelp,
		Example: `  pctrain compare pc bp --config configs/mnist-pc.yaml --set train.epochs=1
  pctrain compare zil fa-zil bp --config configs/mnist-mlp-exact.yaml --steps 50
  pctrain compare zil bp --config configs/mnist-pc.yaml --set dtype=float64 --json
  pctrain compare pc pc:pc.nudging=positive pc:pc.nudging=centred ipc --config configs/mnist-pc.yaml --set train.epochs=1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd.Context(), g, o, args, cmd.OutOrStdout())
		},
	}
	o.cfg.register(cmd)
	cmd.Flags().IntVar(&o.steps, "steps", 20, "number of first batches on which gradients are compared with BP's")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "folder for compare.json, compare.csv and compare.png")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite an earlier compare in the --out folder")
	return cmd
}

func runCompare(ctx context.Context, g *globals, o *compareOptions, methods []string, stdout io.Writer) error {
	if len(methods) == 0 {
		methods = []string{"pc", "bp"}
	}
	for _, m := range methods {
		name, _, _ := strings.Cut(m, ":")
		if _, err := rule.Lookup(name); err != nil {
			return usageError{fmt.Errorf("compare %s: %v", m, err)}
		}
	}
	if o.cfg.file == "" {
		return usageError{fmt.Errorf("compare needs --config FILE")}
	}
	if o.steps < 0 {
		return usageError{fmt.Errorf("--steps must be ≥ 0 (got %d)", o.steps)}
	}
	cfg, err := o.cfg.load()
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = filepath.Join("runs", "compare-"+train.ConfigName(o.cfg.file))
	}
	if !o.force {
		for _, f := range compareFiles {
			if _, err := os.Stat(filepath.Join(out, f)); err == nil {
				return usageError{fmt.Errorf("--out %s already holds a compare (%s): use --force to overwrite it, or another --out", out, f)}
			}
		}
	}
	rep := newReporter(g)
	r, err := train.Compare(ctx, cfg, train.CompareOptions{Methods: methods, Steps: o.steps, OutDir: out, Reporter: rep,
		Fetch: train.FetchOptions{Progress: rep.fetchProgress}})
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	r.WriteTable(stdout)
	written := []string{filepath.Join(out, "compare.json"), filepath.Join(out, "compare.csv")}
	for _, m := range r.Methods {
		if len(m.Epochs) > 0 { // the curves need an epoch
			written = append(written, filepath.Join(out, "compare.png"))
			break
		}
	}
	fmt.Fprintf(stdout, "\nwritten: %s\n", strings.Join(written, ", "))
	return nil
}

// compareFiles are the files compare writes.
var compareFiles = []string{"compare.json", "compare.csv", "compare.png"}
