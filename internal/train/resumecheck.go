package train

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pctrain/pctrain/internal/config"
)

// checkResumeConfig refuses to resume a run whose config.yaml (cfg) says
// something else than the config the run was trained with, stored in its
// checkpoint: continuing would mix two experiments in one run directory.
func checkResumeConfig(dir string, cfg *config.Config, ck *loadedCheckpoint) error {
	stored, err := ck.config()
	if err != nil {
		return err
	}
	key, now, was := configDiff(cfg, stored)
	if key == "" {
		return nil
	}
	file := filepath.Join(dir, "config.yaml")
	return userErr("--resume %s: %s was edited after the run started: %s is %s there but %s in %s; undo the edit to resume, or start a new run with --config %s --out ANOTHER_DIR",
		dir, file, key, now, was, ck.Path, file)
}

// configDiff returns the first key (in sorted order) whose value differs
// between a and b, with both values as YAML; "" when they agree.
func configDiff(a, b *config.Config) (key, va, vb string) {
	fa, fb := flatConfig(a), flatConfig(b)
	var keys []string
	for k := range fa {
		keys = append(keys, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !reflect.DeepEqual(fa[k], fb[k]) {
			return k, yamlValue(fa[k]), yamlValue(fb[k])
		}
	}
	return "", "", ""
}

// flatConfig maps every dotted key of c to its value; lists (model.sizes,
// model.layers, model.vertices) are single values.
func flatConfig(c *config.Config) map[string]any {
	var m map[string]any
	if err := yaml.Unmarshal(c.YAML(), &m); err != nil {
		panic(fmt.Sprintf("train: config does not round-trip through YAML: %v", err))
	}
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			out[prefix+k] = v
		}
	}
	walk("", m)
	return out
}

// yamlValue renders v on one line, as a user would write it in YAML.
func yamlValue(v any) string {
	if v == nil {
		return "unset"
	}
	var sb strings.Builder
	enc := yaml.NewEncoder(&sb)
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	setFlow(&n)
	enc.Encode(&n)
	enc.Close()
	s := strings.TrimSpace(sb.String())
	if s == "" || s == `""` {
		return `""`
	}
	return s
}

func setFlow(n *yaml.Node) {
	n.Style |= yaml.FlowStyle
	for _, c := range n.Content {
		setFlow(c)
	}
}
