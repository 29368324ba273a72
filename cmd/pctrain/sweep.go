package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/pctrain/pctrain/internal/train"
)

type sweepOptions struct {
	cfg     configFlags
	grids   []string
	seeds   int
	out     string
	shard   string
	shards  int
	collect string
}

func newSweepCommand(g *globals) *cobra.Command {
	o := &sweepOptions{}
	cmd := &cobra.Command{
		Use:   "sweep --config FILE --grid KEY=V1,V2... [--seeds N] [--out DIR] [--shard i/n]",
		Short: "Train every combination of settings over several seeds and rank them",
		Long: `Run every combination of the --grid values (each read as YAML, like --set) for --seeds seeds
(the config's seed, seed+1, …), one run directory each under --out, then write
leaderboard.csv and leaderboard.md: per combination, mean ± std over seeds of the best
validation accuracy (the rank, when every run has a validation split), the final test accuracy, the validation-selected test accuracy (with data.val_split > 0, the default) and the
test-selected test accuracy (the best epoch by test accuracy), kept apart and labelled because
the last is optimistic.

Finished runs are skipped and interrupted ones resumed, so a sweep can be rerun until done.
On a cluster, --shard i/n runs every n-th run starting at i (0-based); it is also read from
SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or from JOB_COMPLETION_INDEX with --shards n
(Kubernetes indexed jobs). Put the shards' run directories in one folder and run
pctrain sweep --collect DIR to write the merged leaderboard.` + exitStatusHelp,
		Example: `  pctrain sweep --config configs/mnist-pc.yaml --grid 'pc.steps=4,8,16' --grid 'pc.x_lr=0.01,0.03' --seeds 3
  pctrain sweep --config configs/mnist-pc.yaml --grid 'pc.steps=4,8' --seeds 2 --shard 0/2 --out sweep
  pctrain sweep --collect sweep`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSweep(cmd.Context(), g, o, cmd.OutOrStdout())
		},
	}
	o.cfg.register(cmd)
	cmd.Flags().StringArrayVar(&o.grids, "grid", nil, "a swept key and its values, KEY=V1,V2,… (repeatable; commas inside [] or {} stay in the value)")
	cmd.Flags().IntVar(&o.seeds, "seeds", 1, "seeds per combination")
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "sweep folder (default runs/sweep-<config name>)")
	cmd.Flags().StringVar(&o.shard, "shard", "", "run only shard i of n (i/n, 0-based)")
	cmd.Flags().IntVar(&o.shards, "shards", 0, "number of shards when the index comes from JOB_COMPLETION_INDEX")
	cmd.Flags().StringVar(&o.collect, "collect", "", "only merge the finished runs in this folder into a leaderboard")
	return cmd
}

// shardFromEnv resolves the shard from flags and cluster job-array variables.
func (o *sweepOptions) shardFromEnv() (train.Shard, error) {
	if o.shard != "" {
		return train.ParseShard(o.shard)
	}
	if id, n := os.Getenv("SLURM_ARRAY_TASK_ID"), os.Getenv("SLURM_ARRAY_TASK_COUNT"); id != "" && n != "" {
		return train.ParseShard(id + "/" + n)
	}
	if id := os.Getenv("JOB_COMPLETION_INDEX"); id != "" {
		if o.shards < 1 {
			return train.Shard{}, fmt.Errorf("JOB_COMPLETION_INDEX is set: pass --shards N, the number of completions")
		}
		return train.ParseShard(id + "/" + strconv.Itoa(o.shards))
	}
	return train.Shard{Index: 0, Count: 1}, nil
}

func runSweep(ctx context.Context, g *globals, o *sweepOptions, stdout io.Writer) error {
	rep := newReporter(g)
	var lb *train.Leaderboard
	var err error
	dir := o.collect
	if o.collect != "" {
		if lb, err = train.Collect(o.collect); err != nil {
			return err
		}
	} else {
		if o.cfg.file == "" || len(o.grids) == 0 {
			return usageError{fmt.Errorf("sweep needs --config FILE and at least one --grid KEY=V1,V2 (or --collect DIR)")}
		}
		if o.seeds < 1 {
			return usageError{fmt.Errorf("--seeds must be ≥ 1 (got %d)", o.seeds)}
		}
		shard, err := o.shardFromEnv()
		if err != nil {
			return usageError{err}
		}
		var axes []train.GridAxis
		for _, gr := range o.grids {
			a, err := train.ParseGrid(gr)
			if err != nil {
				return usageError{err}
			}
			axes = append(axes, a)
		}
		dir = o.out
		if dir == "" {
			dir = filepath.Join("runs", "sweep-"+train.ConfigName(o.cfg.file))
		}
		lb, err = train.Sweep(ctx, train.SweepOptions{File: o.cfg.file, BaseSets: o.cfg.sets, Env: os.Environ(), Axes: axes,
			Seeds: o.seeds, OutDir: dir, Shard: shard, Reporter: rep, Fetch: train.FetchOptions{Progress: rep.fetchProgress}})
		if err != nil {
			return err
		}
	}
	lb.WriteMarkdown(stdout)
	fmt.Fprintf(stdout, "\nwritten: %s, %s\n", filepath.Join(dir, "leaderboard.csv"), filepath.Join(dir, "leaderboard.md"))
	return nil
}
