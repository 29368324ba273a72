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
	var out, x string
	cmd := &cobra.Command{
		Use:   "plot RUN_DIR... [-o FILE.png] | plot --x KEY SWEEP_DIR... [-o FILE.png]",
		Short: "Plot loss, accuracy, energy per vertex and samples/s of one or more runs",
		Long: `Draw four panels from the runs' metrics.jsonl — loss and accuracy per epoch (solid:
train, dashed: test), the energy of each vertex at the last epoch (log scale; PC methods), and
samples/s per epoch — with every run overlaid in its own colour, e.g. a pc run beside its bp
twin. Runs whose telemetry.jsonl holds alignment angles (feedback rules, or any rule with
train.telemetry_bp_cosine) add two panels over the steps: per weight, the angle between the
feedback tensor B and W, and between the rule's gradient and BP's. The image goes to -o, or
RUN_DIR/plot.png for one run and plot.png for several.

With --x KEY the arguments are sweep folders (pctrain sweep --out) and the plot is final test
accuracy and seconds per epoch against the swept numeric KEY, one line per folder and setting
of the other swept keys (mean over seeds); the same numbers are printed as a Markdown table.
The image goes to -o, or curve.png.` + exitStatusHelp,
		Example: `  pctrain plot runs/mnist-pc
  pctrain plot runs/mnist-pc runs/mnist-bp -o pc-vs-bp.png
  pctrain plot --x model.depth runs/depth runs/depth-mupc -o depth.png`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("plot needs at least one run directory")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if x != "" {
				return runCurvePlot(args, x, out, cmd.OutOrStdout())
			}
			return runPlot(args, out, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "PNG file to write")
	cmd.Flags().StringVar(&x, "x", "", "plot sweep folders against this swept key (e.g. model.depth)")
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
	return writePNG(out, func(w io.Writer) error { return report.Plot(w, runs) }, stdout)
}

// runCurvePlot is plot --x: sweep folders against one swept key.
func runCurvePlot(dirs []string, x, out string, stdout io.Writer) error {
	curves, err := report.ReadCurves(dirs, x)
	if err != nil {
		return usageError{err}
	}
	if out == "" {
		out = "curve.png"
	}
	if err := checkOutFile("-o", out); err != nil {
		return err
	}
	if err := report.WriteCurveTable(stdout, curves, x); err != nil {
		return err
	}
	return writePNG(out, func(w io.Writer) error { return report.PlotCurves(w, curves, x) }, stdout)
}

// writePNG writes the image draw makes to out atomically.
func writePNG(out string, draw func(io.Writer) error, stdout io.Writer) error {
	if err := model.WriteFileAtomic(out, draw); err != nil {
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
