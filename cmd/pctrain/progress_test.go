package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/train"
)

// fakeClock advances by step at every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

// When stderr is not a terminal, a plain line every train.log_every_s
// seconds gives epoch, batch, loss, samples/s and ETA; 0 turns them off.
func TestProgressLinesWithoutTerminal(t *testing.T) {
	run := func(every float64, p train.EpochPlan) string {
		var buf bytes.Buffer
		clk := &fakeClock{t: time.Unix(0, 0), step: 5 * time.Second}
		r := &reporter{w: &buf, now: clk.now}
		p.LogEvery = every
		r.EpochStart(p)
		for b := p.StartBatch + 1; b <= p.StartBatch+12; b++ {
			r.Batch(b, 0.5, 100)
		}
		return buf.String()
	}
	// One reading per batch, 5 s apart: a line every 30 s is one every 6
	// batches. 100 samples per 5 s is 20 samples/s; after 6 batches (30 s)
	// 94 of the 100 steps are left: 94 × 5 s = 7m50s.
	out := run(30, train.EpochPlan{Epoch: 1, Epochs: 4, Batches: 25, TotalSteps: 100})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines in 12 batches of 5 s with log_every_s 30, want 2:\n%s", len(lines), out)
	}
	for _, w := range []string{"epoch 1/4", "batch 6/25", "loss 0.5000", "20 samples/s", "ETA 7m50s"} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("line %q lacks %q", lines[0], w)
		}
	}
	if out := run(0, train.EpochPlan{Epoch: 1, Epochs: 4, Batches: 25, TotalSteps: 100}); out != "" {
		t.Errorf("log_every_s 0 printed %q", out)
	}
	// train.max_steps ends the run inside epoch 1: count steps, not epochs.
	out = run(30, train.EpochPlan{Epoch: 1, Epochs: 25, Batches: 25, TotalSteps: 20, MaxSteps: 20})
	if strings.Contains(out, "epoch 1/25") || !strings.Contains(out, "step 6/20") {
		t.Errorf("max_steps 20: %q should count steps of 20, not epoch 1/25", out)
	}
}

// With train.max_steps ending the run inside epoch 1, nothing says
// "epoch 1/25" or "1 epochs".
func TestMaxStepsProgressAndSummary(t *testing.T) {
	dir := setup(t)
	r := pctrain(t, dir, "train", "-c", "tiny.yaml", "--out", "short", "--set", "train.epochs=25", "--set", "train.max_steps=4")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	all := r.stdout + r.stderr
	if strings.Contains(all, "epoch 1/25") || strings.Contains(all, "1 epochs") {
		t.Errorf("output shows epochs of a run max_steps ended in epoch 1:\n%s", all)
	}
	if !strings.Contains(r.stderr, "step 4/4") || !strings.Contains(r.stdout, "4 steps (train.max_steps 4) in epoch 1") {
		t.Errorf("stderr %q / stdout %q should count steps of train.max_steps", r.stderr, r.stdout)
	}
	r = pctrain(t, dir, "train", "-c", "tiny.yaml", "-q", "--out", "one", "--set", "train.epochs=1")
	if r.code != 0 || !strings.Contains(r.stdout, "1 epoch (9 steps)") {
		t.Errorf("one epoch: stdout %q", r.stdout)
	}
}

// interrupter is the CLI's reporter that stops the run after n batches,
// as SIGINT would.
type interrupter struct {
	*reporter
	n      int
	cancel context.CancelFunc
}

func (i *interrupter) Batch(b int, loss float64, s int) {
	i.reporter.Batch(b, loss, s)
	if i.n--; i.n == 0 {
		i.cancel()
	}
}

// The interrupt notice, which says how to resume, survives --quiet.
func TestInterruptNoticeWhenQuiet(t *testing.T) {
	dir := setup(t)
	old, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(old)
	cfg, err := config.Load(config.Sources{File: filepath.Join(dir, "tiny.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Train.OutDir = "stopped"
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep := &interrupter{reporter: newReporter(&globals{quiet: true, stderr: &buf}), n: 3, cancel: cancel}
	if _, err := train.Train(ctx, cfg, train.RunOptions{Reporter: rep}); err != train.ErrInterrupted {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if out := buf.String(); !strings.Contains(out, "pctrain train --resume stopped") || strings.Count(out, "\n") != 1 {
		t.Errorf("--quiet: stderr %q, want just the notice of how to resume", out)
	}
}
