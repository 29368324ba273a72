package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/rule"
)

func complete(t *testing.T, args ...string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), append([]string{"__complete"}, args...), &out, &errb); code != 0 {
		t.Fatalf("%v: exit %d %s", args, code, errb.String())
	}
	var got []string
	for _, l := range strings.Split(out.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return got
}

// Completion is dynamic: rule names come from the registry, data sets
// from the fetch list, config keys from the config, split values from
// eval's.
func TestDynamicCompletion(t *testing.T) {
	has := func(got []string, want ...string) {
		t.Helper()
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("completions %v lack %q", got, w)
			}
		}
	}
	has(complete(t, "compare", ""), rule.Names()...)
	has(complete(t, "data", "fetch", ""), data.FetchNames()...)
	has(complete(t, "eval", "--split", ""), "test", "val", "train")
	has(complete(t, "train", "--set", "pc.nud"), "pc.nudging=")
	has(complete(t, "train", "--set", "optim."), "optim.lr=", "optim.schedule=")
	var methods []string
	for _, n := range rule.Names() {
		methods = append(methods, "method="+n)
	}
	has(complete(t, "train", "--set", "method="), methods...)
	has(complete(t, "sweep", "--grid", "pc.nudging="), "pc.nudging=centred")
	if got := complete(t, "train", "--set", "zzz"); len(got) != 0 {
		t.Errorf("completions of an unknown prefix: %v", got)
	}
}
