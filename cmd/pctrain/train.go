package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/train"
)

// configFlags are the flags every config-reading command shares.
type configFlags struct {
	file    string
	sets    []string
	threads int
	flags   *pflag.FlagSet
}

func (c *configFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&c.file, "config", "c", "", "YAML config file (keys: see configs/*.yaml and the README)")
	cmd.Flags().StringArrayVar(&c.sets, "set", nil, "override a config key, value read as YAML (repeatable), e.g. --set pc.steps=10 --set 'model.sizes=[784,256,10]'")
	cmd.Flags().IntVar(&c.threads, "threads", 0, "parts of each batch computed at once, one core each (sets train.threads; 0 = every core; unset: the config's train.threads)")
	c.flags = cmd.Flags()
}

func (c *configFlags) load() (*config.Config, error) {
	var flags []config.Flag
	if c.flags != nil && c.flags.Changed("threads") {
		flags = append(flags, config.Flag{Flag: fmt.Sprintf("--threads %d", c.threads), Key: "train.threads", Value: fmt.Sprint(c.threads)})
	}
	return train.LoadConfig(config.Sources{File: c.file, Sets: c.sets, Env: os.Environ(), Flags: flags})
}

type trainOptions struct {
	cfg    configFlags
	out    string
	force  bool
	resume string
}

func newTrainCommand(g *globals) *cobra.Command {
	o := &trainOptions{}
	cmd := &cobra.Command{
		Use:   "train --config FILE [--set key=value]... [--out DIR]",
		Short: "Train a network from a YAML config",
		Long: `Train a network as the config describes and write, in the run directory:

  config.yaml        the resolved config (defaults, file, PCTRAIN_* environment, --set)
  metrics.jsonl/csv  one record per epoch: losses, accuracies (fractions), energy, seconds, samples/s
  checkpoints/       last.safetensors every epoch; best.safetensors, the epoch of highest validation
                     accuracy (data.val_split, default 0.1; none with 0); epoch-N.safetensors if configured
  summary.json       final test accuracy, the validation-selected epoch, the test-selected one
                     (labelled: optimistic, never the result), steps, wall time, backend, seed

Settings come from built-in defaults, then the file, then PCTRAIN_KEY environment variables
(PCTRAIN_OPTIM_LR=0.001 sets optim.lr), then --set. A missing MNIST or Fashion-MNIST is fetched
into datasets/NAME first. SIGINT/SIGTERM write a checkpoint; --resume continues the run.` + exitStatusHelp,
		Example: `  pctrain train --config configs/mnist-pc.yaml
  pctrain train --config configs/mnist-pc.yaml --set pc.steps=10 --out runs/t10
  pctrain train --config configs/mnist-bp.yaml --set train.epochs=1 --quiet
  pctrain train --resume runs/t10`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTrain(cmd.Context(), g, o, cmd.OutOrStdout()) },
	}
	o.cfg.register(cmd)
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "run directory (overrides train.out_dir; default runs/<config name>, followed by each --set key=value)")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite an existing run directory")
	cmd.Flags().StringVar(&o.resume, "resume", "", "continue the interrupted run in this directory")
	return cmd
}

func runTrain(ctx context.Context, g *globals, o *trainOptions, stdout io.Writer) error {
	var cfg *config.Config
	var err error
	if o.resume != "" {
		if o.cfg.file != "" || len(o.cfg.sets) > 0 || o.out != "" {
			return usageError{fmt.Errorf("--resume continues a run with its own config; it takes no --config, --set or --out")}
		}
		if cfg, err = train.ResumeConfig(o.resume); err != nil {
			return err
		}
	} else {
		if o.cfg.file == "" {
			return usageError{fmt.Errorf("train needs --config FILE (or --resume DIR); e.g. pctrain train --config configs/mnist-pc.yaml")}
		}
		if cfg, err = o.cfg.load(); err != nil {
			return err
		}
		if o.out != "" {
			cfg.Train.OutDir = o.out
		}
	}
	rep := newReporter(g)
	s, err := train.Train(ctx, cfg, train.RunOptions{
		ConfigName: train.RunName(o.cfg.file, o.cfg.sets), Force: o.force, Resume: o.resume, Reporter: rep,
		Fetch: train.FetchOptions{Progress: rep.fetchProgress},
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, resultLine(s))
	return nil
}

// resultLine is what a finished run reports on stdout: the
// validation-selected epoch when there is a validation split, otherwise
// the final epoch; never an epoch chosen by test accuracy.
func resultLine(s *train.Summary) string {
	sel := "no validation split (data.val_split: 0): the final epoch is the result, checkpoints/last.safetensors"
	if s.BestTestAcc != nil {
		sel = fmt.Sprintf("validation-selected: %.2f%% at epoch %d, checkpoints/best.safetensors", 100**s.BestTestAcc, s.BestEpoch)
	}
	return fmt.Sprintf("final test accuracy %.2f%% (%s); %s, %.1f s; run directory %s",
		100*s.FinalTestAcc, sel, runLength(s), s.WallSeconds, s.OutDir)
}

// runLength says how long a run went: its epochs, or its steps when
// train.max_steps ended it first.
func runLength(s *train.Summary) string {
	if s.MaxSteps > 0 {
		return fmt.Sprintf("%s (train.max_steps %d) in epoch %d", plural(s.Steps, "step"), s.MaxSteps, s.Epochs)
	}
	return fmt.Sprintf("%s (%s)", plural(s.Epochs, "epoch"), plural(s.Steps, "step"))
}

// plural writes "1 epoch", "2 epochs".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
