// Command pctrain trains predictive-coding networks and their backprop
// twins from a YAML config. See `pctrain --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/tensor"
	"github.com/pctrain/pctrain/internal/train"
)

// version is set with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes (also listed in every command's help).
const (
	exitOK          = 0
	exitInternal    = 1
	exitUsage       = 2
	exitDiverged    = 3
	exitInterrupted = 130
)

// usageError marks a mistake in flags or arguments.
type usageError struct{ error }

func main() {
	// Ask OpenBLAS for the kernel the CPU can run when its own detection
	// fell back to a generic one (internal/tensor/coretype.go); if the
	// restart fails, run on with the detected kernel.
	if env, ok := tensor.KernelReexec(); ok {
		if exe, err := os.Executable(); err == nil {
			syscall.Exec(exe, os.Args, env)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The first SIGINT/SIGTERM ends the context: a run stops within its
	// current inference step, checkpoints the last completed batch and
	// exits 130. A second one exits at once, writing nothing (checkpoints
	// are written to a temporary file and renamed, so none is left torn).
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cancel()
		<-sig
		fmt.Fprintln(os.Stderr, "pctrain: second interrupt: exiting at once, without a checkpoint")
		os.Exit(exitInterrupted)
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sig)
	cancel()
	os.Exit(code)
}

// run executes one command line and returns its exit code; errors are
// printed once, on one line, to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	train.Version = version
	root, g := newRoot(stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if g.stopProfile != nil {
		g.stopProfile()
	}
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if code != exitInterrupted {
		fmt.Fprintf(stderr, "pctrain: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	}
	return code
}

func exitCode(err error) int {
	var ue *train.UserError
	var ce *config.Error
	var de *train.DivergedError
	var us usageError
	switch {
	case errors.Is(err, train.ErrInterrupted):
		return exitInterrupted
	case errors.As(err, &de):
		return exitDiverged
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &us):
		return exitUsage
	case strings.HasPrefix(err.Error(), "unknown command"), strings.HasPrefix(err.Error(), "unknown flag"),
		strings.HasPrefix(err.Error(), "unknown shorthand flag"):
		return exitUsage
	}
	return exitInternal
}
