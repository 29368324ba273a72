package train

import (
	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/rule"
)

// LoadConfig is config.Load followed by the learning rule's own checks
// (the method's name and the keys it reads), which only the rule
// registry knows.
func LoadConfig(src config.Sources) (*config.Config, error) {
	c, err := config.Load(src)
	if err != nil {
		return nil, err
	}
	if err := rule.Check(c, src.File); err != nil {
		return nil, err
	}
	return c, nil
}

// configFromYAML is config.FromYAML with the rule's checks.
func configFromYAML(raw []byte, where string) (*config.Config, error) {
	c, err := config.FromYAML(raw, where)
	if err != nil {
		return nil, err
	}
	if err := rule.Check(c, where); err != nil {
		return nil, err
	}
	return c, nil
}
