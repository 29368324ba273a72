package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/report"
)

func newPlotCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "plot RUN_DIR... [-o FILE.png]",
		Short: "Plot loss, accuracy, energy per vertex and samples/s of one or more runs",
		Long: `Draw four panels from the runs' metrics.jsonl — loss and accuracy per epoch (solid:
train, dashed: test), the energy of each vertex at the last epoch (log scale; PC methods), and
samples/s per epoch — with every run overlaid in its own colour, e.g. a pc run beside its bp
twin. Runs whose telemetry.jsonl holds alignment angles (feedback rules, or any rule with
train.telemetry_bp_cosine) add two panels over the steps: per weight, the angle between the
feedback tensor B and W, and between the rule's gradient and BP's. The image goes to -o, or
RUN_DIR/plot.png for one run and plot.png for several.` + exitStatusHelp,
		Example: `  pctrain plot runs/mnist-pc
  pctrain plot runs/mnist-pc runs/mnist-bp -o pc-vs-bp.png`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("plot needs at least one run directory")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runPlot(args, out, cmd.OutOrStdout()) },
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "PNG file to write")
	return cmd
}

func runPlot(dirs []string, out string, stdout io.Writer) error {
	var runs []report.Run
	for _, d := range dirs {
		r, err := report.ReadRun(d)
		if err != nil {
			return usageError{err}
		}
		runs = append(runs, r)
	}
	if out == "" {
		out = "plot.png"
		if len(dirs) == 1 {
			out = filepath.Join(dirs[0], "plot.png")
		}
	}
	if err := checkOutFile("-o", out); err != nil {
		return err
	}
	if err := model.WriteFileAtomic(out, func(w io.Writer) error { return report.Plot(w, runs) }); err != nil {
		var pe *fs.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			return usageError{fmt.Errorf("-o %s: %v", out, pe.Err)}
		case errors.As(err, &le):
			return usageError{fmt.Errorf("-o %s: %v", out, le.Err)}
		}
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", out)
	return nil
}

// checkOutFile checks that path (given with flag) names a file that can be
// created: not a folder, in a folder that exists.
func checkOutFile(flag, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usageError{fmt.Errorf("%s %s is a folder: give the file to write, e.g. %s", flag, path, filepath.Join(path, "plot.png"))}
	}
	parent := filepath.Dir(path)
	st, err := os.Stat(parent)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageError{fmt.Errorf("%s %s: the folder %s does not exist", flag, path, parent)}
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return usageError{fmt.Errorf("%s %s: %v", flag, path, err)}
	case !st.IsDir():
		return usageError{fmt.Errorf("%s %s: %s is a file, not a folder", flag, path, parent)}
	}
	return nil
}
