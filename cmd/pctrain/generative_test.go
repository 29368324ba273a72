package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/pctrain/pctrain/internal/data"
)

// A generative network (label in, sample out) trained by pc, ipc or bp on
// well-separated blobs is recognised by inference: with the sample
// clamped at the output and the label vertex free, the arg-max of the
// inferred label is the class (the closest class template explains the
// sample). A rule that trained the swapped direction, or an eval that
// read the output instead of the inferred input, fails this.
func TestGenerativeTrainEvalGenerateComplete(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, filepath.Join(dir, "blobs.npz"), 300, 90)
	cfg := `seed: 1
loss: mse
data: {name: npz, path: blobs.npz, batch_size: 30, direction: generative}
model: {sizes: [3, 16, 20], activation: tanh}
pc: {steps: 10, x_lr: 0.1, x_momentum: 0.5}
optim: {name: adam, lr: 0.01}
train: {epochs: 5}
eval: {steps: 100, x_lr: 0.05, x_momentum: 0.5}
`
	if err := os.WriteFile(filepath.Join(dir, "gen.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"pc", "ipc", "bp"} {
		out := "run-" + method
		if r := pctrain(t, dir, "train", "--config", "gen.yaml", "--set", "method="+method, "--out", out, "-q"); r.code != 0 {
			t.Fatalf("%s: train exit %d: %s", method, r.code, r.stderr)
		}
		ck := filepath.Join(out, "checkpoints", "last.safetensors")
		r := pctrain(t, dir, "eval", "--checkpoint", ck, "--json")
		if r.code != 0 {
			t.Fatalf("%s: eval exit %d: %s", method, r.code, r.stderr)
		}
		var ev struct {
			Samples  int     `json:"samples"`
			Accuracy float64 `json:"accuracy"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Samples != 90 || ev.Accuracy < 0.95 {
			t.Errorf("%s: classification by inference %.3f on %d samples, want ≥ 0.95 on 90", method, ev.Accuracy, ev.Samples)
		}
		// By energy: the class whose clamped one-hot explains the sample
		// with the lowest F.
		r = pctrain(t, dir, "eval", "--checkpoint", ck, "--json", "--set", "eval.classify=energy")
		if r.code != 0 {
			t.Fatalf("%s: eval by energy exit %d: %s", method, r.code, r.stderr)
		}
		if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Samples != 90 || ev.Accuracy < 0.95 {
			t.Errorf("%s: classification by energy %.3f on %d samples, want ≥ 0.95 on 90", method, ev.Accuracy, ev.Samples)
		}
	}
	ck := filepath.Join("run-pc", "checkpoints", "last.safetensors")
	if r := pctrain(t, dir, "generate", "--checkpoint", ck, "--labels", "0-2", "--per-label", "2", "-o", "g.png", "--npz", "g.npz"); r.code != 0 {
		t.Fatalf("generate exit %d: %s", r.code, r.stderr)
	}
	f, err := os.Open(filepath.Join(dir, "g.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("g.png: %v", err)
	}
	f.Close()
	arrs, err := data.ReadNPZ(filepath.Join(dir, "g.npz"))
	if err != nil {
		t.Fatal(err)
	}
	imgs, labels := arrs["images"], arrs["labels"]
	if len(imgs.Shape) != 2 || imgs.Shape[0] != 6 || imgs.Shape[1] != 20 || len(labels.Shape) != 1 || labels.Shape[0] != 6 {
		t.Fatalf("npz shapes images %v labels %v, want [6 20] and [6]", imgs.Shape, labels.Shape)
	}
	for i, v := range imgs.F32 {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("images[%d] = %g, outside [0, 1]", i, v)
		}
	}
	for i, want := range []float64{0, 0, 1, 1, 2, 2} {
		if float64(labels.Int[i]) != want {
			t.Errorf("labels[%d] = %d, want %g", i, labels.Int[i], want)
		}
	}
	r := pctrain(t, dir, "complete", "--checkpoint", ck, "--mask", "random:0.5", "--n", "5", "-o", "c.png", "--json")
	if r.code != 0 {
		t.Fatalf("complete exit %d: %s", r.code, r.stderr)
	}
	var c struct {
		N           *int     `json:"n"`
		MaskedMSE   *float64 `json:"masked_mse"`
		MeanFillMSE *float64 `json:"mean_fill_mse"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatal(err)
	}
	if c.N == nil || *c.N != 5 || c.MaskedMSE == nil || c.MeanFillMSE == nil || !(*c.MaskedMSE >= 0) || !(*c.MeanFillMSE >= 0) {
		t.Errorf("complete --json: %s", r.stdout)
	}
	// Bad arguments: exit 2, one line naming the flag.
	for _, bad := range []struct {
		args []string
		flag string
	}{
		{[]string{"complete", "--checkpoint", ck, "--mask", "top-half", "-o", "x.png"}, "--mask"},
		{[]string{"complete", "--checkpoint", ck, "--mask", "random:1.5"}, "--mask"},
		{[]string{"complete", "--checkpoint", ck, "--mask", "bottom-half", "--n", "0"}, "--n"},
		{[]string{"complete", "--mask", "bottom-half"}, "--checkpoint"},
		{[]string{"generate", "--checkpoint", ck, "--labels", "x", "-o", "x.png"}, "--labels"},
		{[]string{"generate", "--checkpoint", ck, "--labels", "0-7", "-o", "x.png"}, "--labels"},
		{[]string{"generate", "--checkpoint", ck, "--per-label", "0", "-o", "x.png"}, "--per-label"},
		{[]string{"generate", "--checkpoint", ck}, "-o"},
	} {
		wantUserError(t, pctrain(t, dir, bad.args...), bad.flag)
	}
}
