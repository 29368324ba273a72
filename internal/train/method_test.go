package train

import (
	"path/filepath"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
)

// newRuleFor builds cfg's rule on a tiny stand-in graph: its name and
// settings are accepted by the registry.
func newRuleFor(cfg *config.Config) (any, error) {
	c := *cfg
	c.Model = config.Default().Model
	c.Model.Sizes = []int{4, 3, 2}
	c.Train.Threads = 1
	g, err := BuildModel[float32](&c, []int{4}, 2)
	if err != nil {
		return nil, err
	}
	loss, _ := model.NewLoss[float32](c.Loss)
	_, r, err := newRule(&c, g, []int{4}, 2, loss)
	return r, err
}

// Every shipped config builds its model for its dataset's sample shape
// (without loading the data), so a config cannot describe an impossible
// network.
func TestShippedConfigsBuild(t *testing.T) {
	files, _ := filepath.Glob("../../configs/*.yaml")
	shapes := map[string][]int{"mnist": {1, 28, 28}, "fashion-mnist": {1, 28, 28}, "cifar10": {3, 32, 32}}
	for _, f := range files {
		cfg, err := LoadConfig(config.Sources{File: f})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newRuleFor(cfg); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		shape, ok := shapes[cfg.Data.Name]
		if !ok {
			continue
		}
		g, err := buildFor[float32](cfg, &Data{Shape: shape, Classes: 10})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if g.NumParams() == 0 {
			t.Errorf("%s: no parameters", f)
		}
	}
}
