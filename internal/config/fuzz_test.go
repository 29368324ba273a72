package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: any file content gives a valid config or a one-line error.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"../../configs/mnist-pc.yaml", "../../configs/mnist-bp.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b), "pc.steps=4")
		}
	}
	f.Add("optim:\n  lr: [1, 2]\n", "model.sizes=[1]")
	f.Add("model: 3\n", "seed=-1")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body, set string) {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(Sources{File: p, Sets: []string{set}})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load returned an invalid config: %v", err)
		}
	})
}
