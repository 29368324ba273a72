package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/pctrain/pctrain/internal/train"
)

func newGraphCommand(g *globals) *cobra.Command {
	o := &configFlags{}
	cmd := &cobra.Command{
		Use:   "graph --config FILE [--set key=value]...",
		Short: "Print the levelled computational graph a config builds",
		Long: `Print the model's computational graph after levelling: one line per vertex with its level
(distance to the output; Z-IL updates level t's parameters at inference step t), the shape of
its value, its inputs, what it computes, and its parameter count. Identity vertices that
pctrain inserted on skip edges are marked "(inserted)". The input shape and number of classes
of mnist, fashion-mnist and cifar10 are known, so nothing is loaded or fetched; an npz file is
read for them.` + exitStatusHelp,
		Example: `  pctrain graph --config configs/mnist-resmlp-pc.yaml
  pctrain graph --config configs/mnist-rnn.yaml --set model.steps=4`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGraph(g, o, cmd.OutOrStdout()) },
	}
	o.register(cmd)
	return cmd
}

func runGraph(g *globals, o *configFlags, stdout io.Writer) error {
	if o.file == "" {
		return usageError{fmt.Errorf("graph needs --config FILE")}
	}
	cfg, err := o.load()
	if err != nil {
		return err
	}
	rep := newReporter(g)
	shape, classes, err := train.DataShape(cfg, train.FetchOptions{Logf: rep.Logf, Progress: rep.fetchProgress})
	if err != nil {
		return err
	}
	desc, params, depth, err := train.DescribeModel(cfg, shape, classes)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, desc)
	fmt.Fprintf(stdout, "%d parameters; depth %d (Z-IL takes %d inference steps)\n", params, depth, depth)
	return nil
}
