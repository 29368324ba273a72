package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pctrain/pctrain/internal/model"
)

// kill -9 at any moment never leaves a corrupt last.safetensors: the run
// is killed repeatedly while it checkpoints every epoch, resumed each time,
// and after every kill the checkpoint must decode completely and the
// metrics must hold one line per completed epoch.
func TestKillNineNeverCorruptsCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := setup(t)
	rng := rand.New(rand.NewPCG(9, 9))
	last := filepath.Join(dir, "k", "checkpoints", "last.safetensors")
	kills := 0
	for i := 0; i < 25; i++ {
		args := []string{"train", "--resume", "k", "-q"}
		if i == 0 {
			args = []string{"train", "-c", "tiny.yaml", "--set", "train.epochs=1000000", "--out", "k", "-q"}
		}
		cmd := pctrainProcess(dir, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(last); err == nil {
					break
				}
			}
		}
		time.Sleep(time.Duration(20+rng.IntN(150)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		kills++
		ts, meta, err := model.ReadSafetensors(last)
		if err != nil {
			t.Fatalf("after kill %d: %v", kills, err)
		}
		if len(ts) == 0 || meta["format"] != "pctrain-checkpoint" {
			t.Fatalf("after kill %d: checkpoint has %d tensors, metadata %v", kills, len(ts), meta)
		}
	}
	// A final resume, interrupted cleanly, leaves metrics without gaps or
	// repeats: epochs 1, 2, … in order.
	cmd := pctrainProcess(dir, "train", "--resume", "k", "-q")
	cmd.Start()
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	raw, _ := os.ReadFile(filepath.Join(dir, "k", "metrics.jsonl"))
	for i, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if want := `{"epoch":` + strconv.Itoa(i+1) + `,`; !strings.HasPrefix(l, want) {
			t.Fatalf("metrics line %d is %q, want epoch %d", i+1, l[:min(len(l), 40)], i+1)
		}
	}
}
