// Command pctrain trains predictive-coding networks and their backprop
// twins from a YAML config. See `pctrain --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pctrain/pctrain/internal/config"
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
	train.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := newRootCommand()
	err := root.ExecuteContext(ctx)
	stop()
	os.Exit(report(err))
}

// report prints err once, on one line, and returns the exit code.
func report(err error) int {
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if code != exitInterrupted {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(os.Stderr, "pctrain: %s\n", msg)
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
