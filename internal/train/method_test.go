package train

import (
	"path/filepath"
	"testing"

	"github.com/pctrain/pctrain/internal/config"
)

// Every shipped config builds its model for its dataset's sample shape
// (without loading the data), so a config cannot describe an impossible
// network.
func TestShippedConfigsBuild(t *testing.T) {
	files, _ := filepath.Glob("../../configs/*.yaml")
	shapes := map[string][]int{"mnist": {1, 28, 28}, "fashion-mnist": {1, 28, 28}, "cifar10": {3, 32, 32}}
	for _, f := range files {
		cfg, err := config.Load(config.Sources{File: f})
		if err != nil {
			t.Fatal(err)
		}
		shape, ok := shapes[cfg.Data.Name]
		if !ok {
			continue
		}
		g, err := BuildModel[float32](cfg, shape, 10)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if g.NumParams() == 0 {
			t.Errorf("%s: no parameters", f)
		}
	}
}
