package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pctrain/pctrain/internal/tensor"
)

const exitStatusHelp = `
EXIT STATUS
  0    success
  1    internal error (a bug: please report it)
  2    bad input: config, flags, data files, checkpoint or output directory
  3    training diverged (NaN/Inf); the last good checkpoint, if one was written, is kept
  130  interrupted (SIGINT/SIGTERM); a checkpoint was written, continue with --resume`

// globals are the options shared by every command.
type globals struct {
	quiet  bool
	stderr io.Writer
}

func newRootCommand(stderr io.Writer) *cobra.Command {
	g := &globals{stderr: stderr}
	root := &cobra.Command{
		Use:   "pctrain",
		Short: "Train predictive-coding networks and their backprop twins",
		Long: `pctrain trains predictive-coding (PC) networks and backprop (BP) networks from one YAML
config and writes metrics, checkpoints and a summary.

Methods (the config's method key; ` + "`pctrain rules`" + ` shows each one's cost, exactness and keys):
` + ruleLines() + `

Start with:
  pctrain train --config configs/mnist-pc.yaml
  pctrain eval --checkpoint runs/mnist-pc/checkpoints/best.safetensors
` + exitStatusHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "no progress output on stderr (errors are still printed)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{flagError(err)} })
	defer registerCompletions(root)
	root.AddCommand(newTrainCommand(g), newEvalCommand(g), newCompareCommand(g), newGraphCommand(g), newPlotCommand(), newSweepCommand(g), newDataCommand(g), newVersionCommand(), newRulesCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, numeric backend and thread count",
		Long: `Print pctrain's version, the Go toolchain, the GEMM backend in use (OpenBLAS with the kernel it
detected, or gonum's pure Go), the element-wise kernels (C vectorised for the instruction set the CPU
offers, or Go loops in a build without cgo) and the number of cores a run splits its batches over by
default.`,
		Example: `  pctrain version`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "pctrain %s\n%s %s/%s\nbackend: %s\nelement-wise: %s\nthreads: %d\n",
				version, runtime.Version(), runtime.GOOS, runtime.GOARCH, tensor.BackendName(), tensor.KernelsName(), runtime.GOMAXPROCS(0))
			return nil
		},
	}
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments (got %q); see %s --help", cmd.CommandPath(), args[0], cmd.CommandPath())}
	}
	return nil
}

// flagError rewords pflag's errors for a bad flag value or a missing one
// in the user's terms: the flag, the value and what it takes, without Go's
// strconv messages.
func flagError(err error) error {
	var iv *pflag.InvalidValueError
	if errors.As(err, &iv) {
		f := iv.GetFlag()
		want := "a valid value"
		switch f.Value.Type() {
		case "int", "int8", "int16", "int32", "int64":
			want = "an integer"
		case "uint", "uint8", "uint16", "uint32", "uint64":
			want = "a non-negative integer"
		case "float32", "float64":
			want = "a number"
		case "bool":
			want = "true or false"
		case "duration":
			want = "a duration such as 90s or 5m"
		}
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			want += " in range"
		}
		return fmt.Errorf("--%s: expected %s, got %q", f.Name, want, iv.GetValue())
	}
	var vr *pflag.ValueRequiredError
	if errors.As(err, &vr) {
		f := vr.GetFlag()
		name := "--" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + "/--" + f.Name
		}
		return fmt.Errorf("%s needs a value: %s", name, f.Usage)
	}
	return err
}
