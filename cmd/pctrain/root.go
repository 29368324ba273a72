package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
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
	// cpuprofile is --cpuprofile's file; stopProfile ends the profile.
	cpuprofile  string
	stopProfile func()
}

// startProfile begins a CPU profile into g.cpuprofile, if set; the file is
// new (an existing one is bad input, left untouched).
func (g *globals) startProfile() error {
	if g.cpuprofile == "" {
		return nil
	}
	f, err := os.OpenFile(g.cpuprofile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return usageError{fmt.Errorf("--cpuprofile: %v", err)}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		os.Remove(g.cpuprofile)
		return usageError{fmt.Errorf("--cpuprofile: %v", err)}
	}
	g.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	return nil
}

func newRootCommand(stderr io.Writer) *cobra.Command {
	root, _ := newRoot(stderr)
	return root
}

// newRoot is the command tree and the options every command shares.
func newRoot(stderr io.Writer) (*cobra.Command, *globals) {
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
  pctrain eval --checkpoint runs/mnist-pc/checkpoints/best.safetensors   # validation-selected
` + exitStatusHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "no progress output on stderr (errors, and how to resume an interrupted run, are still printed)")
	root.PersistentFlags().StringVar(&g.cpuprofile, "cpuprofile", "", "write a Go CPU profile of the command to this new file (read it with go tool pprof)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return g.startProfile() }
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{flagError(err)} })
	defer registerCompletions(root)
	root.AddCommand(newTrainCommand(g), newEvalCommand(g), newCompareCommand(g), newGraphCommand(g), newPlotCommand(), newSweepCommand(g), newDataCommand(g), newGenerateCommand(g), newCompleteCommand(g), newVersionCommand(), newRulesCommand())
	return root, g
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, numeric backend and thread count",
		Long: `Print pctrain's version, the Go toolchain, the GEMM backend in use (OpenBLAS with its kernel and
why that one: detected by the library, chosen by pctrain when the library fell back to a generic kernel
on a CPU with AVX2 or AVX-512, or set by OPENBLAS_CORETYPE; or gonum's pure Go), the element-wise kernels (C vectorised for the instruction set the CPU
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
