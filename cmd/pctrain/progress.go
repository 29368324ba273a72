package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/pctrain/pctrain/internal/train"
)

// reporter shows progress on stderr: a progress bar per epoch when stderr
// is a terminal, otherwise a plain line every train.log_every_s seconds;
// one line per epoch always; with --quiet only notices (how to resume).
type reporter struct {
	w     io.Writer
	quiet bool
	tty   bool
	// now is the clock (a test seam).
	now     func() time.Time
	bar     *progressbar.ProgressBar
	plan    train.EpochPlan
	start   time.Time
	samples int
	loss    float64
	batches int
	// lastLine is when the last plain progress line (or epoch line) was
	// written.
	lastLine time.Time
}

func newReporter(g *globals) *reporter {
	tty := false
	if f, ok := g.stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &reporter{w: g.stderr, quiet: g.quiet, tty: tty, now: time.Now}
}

func (r *reporter) Logf(format string, args ...any) {
	if !r.quiet {
		r.Noticef(format, args...)
	}
}

func (r *reporter) Noticef(format string, args ...any) {
	r.clearBar()
	fmt.Fprintf(r.w, "pctrain: "+format+"\n", args...)
}

// where names the position in the run: the epoch of train.epochs, or
// the step of train.max_steps when that ends the run first.
func (r *reporter) where(step int) string {
	if r.plan.MaxSteps > 0 {
		return fmt.Sprintf("step %d/%d", step, r.plan.MaxSteps)
	}
	return fmt.Sprintf("epoch %d/%d", r.plan.Epoch, r.plan.Epochs)
}

func (r *reporter) EpochStart(p train.EpochPlan) {
	r.plan = p
	r.start, r.samples, r.loss, r.batches = r.now(), 0, 0, 0
	if r.lastLine.IsZero() {
		r.lastLine = r.start
	}
	if r.quiet || !r.tty {
		return
	}
	r.bar = progressbar.NewOptions(p.Batches,
		progressbar.OptionSetWriter(r.w),
		progressbar.OptionSetDescription(r.where(p.Step)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	_ = r.bar.Set(p.StartBatch)
}

func (r *reporter) Batch(batch int, loss float64, samples int) {
	r.samples += samples
	r.loss += loss
	r.batches++
	step := r.plan.Step + batch - r.plan.StartBatch
	if r.bar == nil {
		if !r.quiet && !r.tty && r.plan.LogEvery > 0 {
			if now := r.now(); now.Sub(r.lastLine).Seconds() >= r.plan.LogEvery {
				r.lastLine = now
				r.progressLine(batch, step, now)
			}
		}
		return
	}
	if r.batches%10 == 1 {
		sps := float64(r.samples) / r.now().Sub(r.start).Seconds()
		r.bar.Describe(fmt.Sprintf("%s loss %.4f %6.0f samples/s", r.where(step), r.loss/float64(r.batches), sps))
	}
	_ = r.bar.Set(batch)
}

// progressLine is the plain line a log gets: position, mean loss so far
// this epoch, speed, and the time left at this epoch's speed (evaluation
// not counted).
func (r *reporter) progressLine(batch, step int, now time.Time) {
	secs := now.Sub(r.start).Seconds()
	sps, eta := 0.0, "?"
	if secs > 0 {
		sps = float64(r.samples) / secs
		left := float64(r.plan.TotalSteps-step) * secs / float64(r.batches)
		eta = (time.Duration(left) * time.Second).Round(time.Second).String()
	}
	pos := fmt.Sprintf("epoch %d/%d batch %d/%d", r.plan.Epoch, r.plan.Epochs, batch, r.plan.Batches)
	if r.plan.MaxSteps > 0 {
		pos = fmt.Sprintf("step %d/%d (epoch %d, batch %d/%d)", step, r.plan.MaxSteps, r.plan.Epoch, batch, r.plan.Batches)
	}
	fmt.Fprintf(r.w, "%s  loss %.4f  %.0f samples/s  ETA %s\n", pos, r.loss/float64(r.batches), sps, eta)
}

func (r *reporter) clearBar() {
	if r.bar != nil {
		_ = r.bar.Clear()
	}
}

func (r *reporter) EpochEnd(m train.EpochMetrics) {
	if r.bar != nil {
		_ = r.bar.Finish()
		_ = r.bar.Clear()
		r.bar = nil
	}
	if r.quiet {
		return
	}
	r.lastLine = r.now()
	val := ""
	if m.ValAcc != nil {
		val = fmt.Sprintf("  val %.2f%%", 100**m.ValAcc)
	}
	energy := ""
	if m.Method != "bp" {
		energy = fmt.Sprintf("  energy %.4f", m.Energy)
	}
	pos := fmt.Sprintf("epoch %d/%d", m.Epoch, r.plan.Epochs)
	if r.plan.MaxSteps > 0 {
		pos = fmt.Sprintf("epoch %d, step %d/%d", m.Epoch, m.Step, r.plan.MaxSteps)
	}
	fmt.Fprintf(r.w, "%s  loss %.4f  train %.2f%%  test %.2f%%%s%s  %.1f s  %.0f samples/s\n",
		pos, m.TrainLoss, 100*m.TrainAcc, 100*m.TestAcc, val, energy, m.Seconds, m.SamplesPerSec)
}

// fetchProgress wraps a download in a progress bar (terminal only).
func (r *reporter) fetchProgress(rd io.Reader, name string, total int64) io.Reader {
	if r.quiet || !r.tty {
		return rd
	}
	bar := progressbar.DefaultBytes(total, "downloading "+name)
	return io.TeeReader(rd, bar)
}
