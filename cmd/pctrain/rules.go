package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pctrain/pctrain/internal/rule"
	"github.com/spf13/cobra"
)

// ruleLines is the registry as help text: one line per rule.
func ruleLines() string {
	var b strings.Builder
	for _, r := range rule.All() {
		fmt.Fprintf(&b, "  %-8s %s\n", r.Name, r.Summary)
	}
	return b.String()
}

func newRulesCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "rules [--json]",
		Aliases: []string{"methods"},
		Short:   "List the learning rules: what each does, its cost, exactness and config keys",
		Long: `List every learning rule pctrain can train with (the config's method key, and the
arguments of pctrain compare): its name, what it does, its time per batch relative to BP,
whether and how its updates equal BP's, and the config keys it reads.` + exitStatusHelp,
		Example: `  pctrain rules
  pctrain rules --json | jq '.[].name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRules(cmd.OutOrStdout(), asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the table as JSON")
	return cmd
}

func runRules(w io.Writer, asJSON bool) error {
	type row struct {
		Name    string   `json:"name"`
		Summary string   `json:"summary"`
		Cost    string   `json:"cost_vs_bp"`
		Exact   string   `json:"exactness"`
		Keys    []string `json:"keys"`
	}
	var rows []row
	for _, r := range rule.All() {
		rows = append(rows, row{r.Name, r.Summary, r.Cost, r.Exact, r.Keys})
	}
	if asJSON {
		raw, _ := json.MarshalIndent(rows, "", "  ")
		_, err := fmt.Fprintf(w, "%s\n", raw)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tCOST vs BP\tEXACTNESS\tKEYS")
	for _, r := range rows {
		keys := strings.Join(r.Keys, " ")
		if keys == "" {
			keys = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Cost, r.Exact, keys)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "%s: %s\n", r.Name, r.Summary)
	}
	return nil
}
