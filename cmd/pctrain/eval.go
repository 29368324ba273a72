package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/train"
)

type evalOptions struct {
	cfg        configFlags
	checkpoint string
	split      string
	json       bool
}

func newEvalCommand(g *globals) *cobra.Command {
	o := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval --checkpoint FILE [--config FILE] [--split test|val|train] [--json]",
		Short: "Evaluate a checkpoint: accuracy, loss, per-class accuracy, confusion matrix",
		Long: `Evaluate a checkpoint on a data split (test by default). The model and data come from the
config stored in the checkpoint; --config (with --set) replaces it, e.g. to point at data
elsewhere or to read a checkpoint written by another tool with pctrain's tensor names.
Accuracies are fractions in [0, 1] in --json output.` + exitStatusHelp,
		Example: `  pctrain eval --checkpoint runs/mnist-pc/checkpoints/best.safetensors
  pctrain eval --checkpoint runs/mnist-pc/checkpoints/last.safetensors --split train --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEval(g, o, cmd.OutOrStdout()) },
	}
	o.cfg.register(cmd)
	cmd.Flags().StringVar(&o.checkpoint, "checkpoint", "", "safetensors checkpoint to evaluate (required)")
	cmd.Flags().StringVar(&o.split, "split", "test", "data split: test, val or train")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runEval(g *globals, o *evalOptions, stdout io.Writer) error {
	if o.checkpoint == "" {
		return usageError{fmt.Errorf("eval needs --checkpoint FILE")}
	}
	if o.split != "test" && o.split != "val" && o.split != "train" {
		return usageError{fmt.Errorf("--split %q: want test, val or train", o.split)}
	}
	var cfg *config.Config
	if o.cfg.file != "" || len(o.cfg.sets) > 0 {
		var err error
		if cfg, err = o.cfg.load(); err != nil {
			return err
		}
	}
	rep := newReporter(g)
	r, err := train.Eval(train.EvalOptions{Checkpoint: o.checkpoint, Config: cfg, Split: o.split,
		Fetch: train.FetchOptions{Logf: rep.Logf, Progress: rep.fetchProgress}})
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "%s split: %d samples, accuracy %.2f%%, mean loss %.4f\n", r.Split, r.Samples, 100*r.Accuracy, r.Loss)
	fmt.Fprintln(stdout, "per-class accuracy:")
	for k, a := range r.PerClass {
		fmt.Fprintf(stdout, "  class %d: %6.2f%% of %d\n", k, 100*a, r.Support[k])
	}
	fmt.Fprintln(stdout, "confusion matrix (rows: true class, columns: predicted):")
	for _, row := range r.Confusion {
		for _, n := range row {
			fmt.Fprintf(stdout, " %5d", n)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
