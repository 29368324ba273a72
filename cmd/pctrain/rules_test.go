package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/rule"
)

// `pctrain rules` prints every registered rule with its cost, exactness
// and keys, as a table and as JSON; help and compare's help list them.
func TestRulesCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"rules", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rows []struct {
		Name, Summary string
		Cost          string   `json:"cost_vs_bp"`
		Exact         string   `json:"exactness"`
		Keys          []string `json:"keys"`
	}
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(rule.Names()) {
		t.Fatalf("%d rows, %d rules", len(rows), len(rule.Names()))
	}
	for i, r := range rows {
		info, _ := rule.Lookup(rule.Names()[i])
		if r.Name != info.Name || r.Cost != info.Cost || r.Exact != info.Exact || strings.Join(r.Keys, ",") != strings.Join(info.Keys, ",") {
			t.Errorf("row %d = %+v, registry %+v", i, r, info)
		}
	}
	out.Reset()
	run(context.Background(), []string{"rules"}, &out, &errb)
	for _, h := range [][]string{{"rules"}, {"compare", "--help"}, {"--help"}} {
		var hb bytes.Buffer
		run(context.Background(), h, &hb, &errb)
		indent := "  "
		if h[0] == "rules" {
			indent = ""
		}
		for _, n := range rule.Names() {
			if !strings.Contains(hb.String(), "\n"+indent+n+" ") {
				t.Errorf("%v output lacks rule %s", h, n)
			}
		}
	}
	if !strings.Contains(out.String(), "pc.nudging") {
		t.Errorf("rules table lacks pc's keys:\n%s", out.String())
	}
}
