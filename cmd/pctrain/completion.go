package main

import (
	"strings"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/optim"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/spf13/cobra"
)

// Dynamic shell completion (`pctrain completion bash|zsh|fish|powershell`):
// rule names from the registry, data set names, --split values, config
// keys for --set and --grid (and the values of the keys that take a
// name), config files, checkpoints and run directories.
func registerCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		flag := func(name string, f cobra.CompletionFunc) {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, f)
			}
		}
		flag("config", fileExt("yaml", "yml"))
		flag("checkpoint", fileExt("safetensors"))
		flag("set", completeSet)
		flag("grid", completeSet)
		flag("split", fixed("test", "val", "train"))
		flag("resume", dirs)
		flag("collect", dirs)
		switch c.Name() {
		case "compare":
			c.ValidArgsFunction = func(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
				return ruleNames(), cobra.ShellCompDirectiveNoFileComp
			}
		case "fetch":
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return data.FetchNames(), cobra.ShellCompDirectiveNoFileComp
			}
		case "plot":
			c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveFilterDirs
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func ruleNames() []string {
	var out []string
	for _, r := range rule.All() {
		out = append(out, r.Name+"\t"+r.Summary)
	}
	return out
}

func fixed(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

func fileExt(ext ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return ext, cobra.ShellCompDirectiveFilterFileExt
	}
}

func dirs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeSet completes KEY= from the config keys and, after the =, the
// values of keys that take one of a known list of names.
func completeSet(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	key, _, hasValue := strings.Cut(toComplete, "=")
	if !hasValue {
		var out []string
		for _, k := range config.Keys() {
			if strings.HasPrefix(k, toComplete) {
				out = append(out, k+"=")
			}
		}
		return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	}
	values := map[string][]string{
		"method":                 rule.Names(),
		"data.name":              {"mnist", "fashion-mnist", "cifar10", "npz"},
		"dtype":                  {"float32", "float64"},
		"loss":                   {"ce", "mse"},
		"pc.nudging":             config.NudgingModes,
		"zil.schedule":           {"sequential", "parallel"},
		"model.type":             {"mlp", "cnn", "vgg5", "graph", "rnn", "lstm", "resmlp", "skipmlp"},
		"model.parameterization": {"standard", "mupc"},
		"data.normalize":         {"auto", "none", "scale", "standard"},
		"optim.schedule":         optim.ScheduleNames(),
		"optim.name":             optim.Names(),
		"model.init":             model.InitNames(),
		"model.activation":       model.ActivationNames(),
	}[key]
	var out []string
	for _, v := range values {
		out = append(out, key+"="+v)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
