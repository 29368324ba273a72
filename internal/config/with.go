package config

import (
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// With returns a copy of c with key=value overrides applied (values read
// as YAML, as --set reads them) and validated; where names the overrides
// in errors (e.g. the compare argument they came from).
func (c Config) With(sets []string, where string) (*Config, error) {
	base, err := toMap(c)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	flatten("", base, keys)
	v := viper.New()
	if err := v.MergeConfigMap(base); err != nil {
		return nil, err
	}
	types := keyTypes()
	setBy := map[string]string{}
	for k, src := range c.sources {
		setBy[k] = src
	}
	for _, s := range sets {
		key, val, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, errorf("%s: %q: want key=value", where, s)
		}
		if !keys[key] {
			return nil, errorf("%s: %s: no such config key%s", where, key, suggest(key, keys))
		}
		parsed, err := parseValue(val)
		if err != nil {
			return nil, errorf("%s: %s: %v", where, key, err)
		}
		if msg := checkValue(types[key], parsed); msg != "" {
			return nil, errorf("%s: %s: %s", where, key, msg)
		}
		v.Set(key, parsed)
		setBy[key] = where
	}
	var out Config
	if err := v.UnmarshalExact(&out, func(dc *mapstructure.DecoderConfig) {
		dc.WeaklyTypedInput = false
		dc.ZeroFields = true
	}); err != nil {
		return nil, errorf("%s: %s", where, decodeMessage(err))
	}
	if err := out.Validate(); err != nil {
		return nil, errorf("%s: %v", where, err)
	}
	out.sources = setBy
	return &out, nil
}

// Keys lists every config key (dotted), sorted: what --set, PCTRAIN_*
// variables and a YAML file may name.
func Keys() []string {
	m, err := toMap(Default())
	if err != nil {
		return nil
	}
	keys := map[string]bool{}
	flatten("", m, keys)
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
