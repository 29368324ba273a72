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
	npz        string
	json       bool
}

func newEvalCommand(g *globals) *cobra.Command {
	o := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval --checkpoint FILE [--config FILE] [--split test|val|train | --npz FILE] [--json]",
		Short: "Evaluate a checkpoint: accuracy, loss, per-class accuracy, confusion matrix",
		Long: `Evaluate a checkpoint on a data split (test by default). The model and data come from the
config stored in the checkpoint; --set changes keys of it (e.g. --set data.dir=… for data
elsewhere), and --config (with --set) replaces it, e.g. to read a checkpoint written by another
tool with pctrain's tensor names.
Accuracies are fractions in [0, 1] in --json output.

best.safetensors is the epoch of highest validation accuracy (data.val_split, 0.1 by default);
a run with data.val_split: 0 writes none, and its result is last.safetensors. The output says
which epoch a checkpoint holds and how it was chosen ("selected_by" in --json); a best
checkpoint an older pctrain chose by test accuracy is marked test-selected.` + exitStatusHelp,
		Example: `  pctrain eval --checkpoint runs/mnist-pc/checkpoints/best.safetensors   # validation-selected
  pctrain eval --checkpoint runs/mnist-pc/checkpoints/last.safetensors --split train --json
  pctrain eval --checkpoint runs/mnist-pc/checkpoints/last.safetensors --set data.dir=/data/mnist
  pctrain eval --checkpoint runs/mnist-bp/checkpoints/last.safetensors --npz generated.npz   # judge generated images`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEval(g, o, cmd.OutOrStdout()) },
	}
	o.cfg.register(cmd)
	cmd.Flags().StringVar(&o.checkpoint, "checkpoint", "", "safetensors checkpoint to evaluate (required)")
	cmd.Flags().StringVar(&o.split, "split", "test", "data split: test, val or train")
	cmd.Flags().StringVar(&o.npz, "npz", "", "evaluate the images and labels of this .npz (pctrain generate --npz) instead of a split")
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
	// Without --config, --set overrides the checkpoint's own config.
	var cfg *config.Config
	var sets []string
	if o.cfg.file != "" {
		var err error
		if cfg, err = o.cfg.load(); err != nil {
			return err
		}
	} else {
		sets = o.cfg.sets
	}
	rep := newReporter(g)
	r, err := train.Eval(train.EvalOptions{Checkpoint: o.checkpoint, Config: cfg, Sets: sets, Split: o.split, NPZ: o.npz,
		Fetch: train.FetchOptions{Logf: rep.Logf, Progress: rep.fetchProgress}})
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	switch r.SelectedBy {
	case "val_acc":
		fmt.Fprintf(stdout, "checkpoint %s: epoch %d, validation-selected (highest validation accuracy)\n", o.checkpoint, r.Epoch)
	case "test_acc":
		fmt.Fprintf(stdout, "checkpoint %s: epoch %d, test-selected (chosen by test accuracy: its test accuracy is optimistic; evaluate last.safetensors or train with data.val_split > 0)\n", o.checkpoint, r.Epoch)
	default:
		if r.Epoch > 0 {
			fmt.Fprintf(stdout, "checkpoint %s: after epoch %d\n", o.checkpoint, r.Epoch)
		}
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
