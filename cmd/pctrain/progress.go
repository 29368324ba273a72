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
// is a terminal, one line per epoch always, nothing with --quiet.
type reporter struct {
	w       io.Writer
	quiet   bool
	tty     bool
	bar     *progressbar.ProgressBar
	epoch   int
	epochs  int
	start   time.Time
	samples int
	loss    float64
	batches int
}

func newReporter(g *globals) *reporter {
	tty := false
	if f, ok := g.stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &reporter{w: g.stderr, quiet: g.quiet, tty: tty}
}

func (r *reporter) Logf(format string, args ...any) {
	if !r.quiet {
		r.clearBar()
		fmt.Fprintf(r.w, "pctrain: "+format+"\n", args...)
	}
}

func (r *reporter) EpochStart(epoch, epochs, batches, startBatch int) {
	r.epoch, r.epochs = epoch, epochs
	r.start, r.samples, r.loss, r.batches = time.Now(), 0, 0, 0
	if r.quiet || !r.tty {
		return
	}
	r.bar = progressbar.NewOptions(batches,
		progressbar.OptionSetWriter(r.w),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, epochs)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	_ = r.bar.Set(startBatch)
}

func (r *reporter) Batch(batch int, loss float64, samples int) {
	r.samples += samples
	r.loss += loss
	r.batches++
	if r.bar == nil {
		return
	}
	if r.batches%10 == 1 {
		sps := float64(r.samples) / time.Since(r.start).Seconds()
		r.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f %6.0f samples/s", r.epoch, r.epochs, r.loss/float64(r.batches), sps))
	}
	_ = r.bar.Set(batch)
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
	val := ""
	if m.ValAcc != nil {
		val = fmt.Sprintf("  val %.2f%%", 100**m.ValAcc)
	}
	energy := ""
	if m.Method != "bp" {
		energy = fmt.Sprintf("  energy %.4f", m.Energy)
	}
	fmt.Fprintf(r.w, "epoch %d/%d  loss %.4f  train %.2f%%  test %.2f%%%s%s  %.1f s  %.0f samples/s\n",
		m.Epoch, r.epochs, m.TrainLoss, 100*m.TrainAcc, 100*m.TestAcc, val, energy, m.Seconds, m.SamplesPerSec)
}

// fetchProgress wraps a download in a progress bar (terminal only).
func (r *reporter) fetchProgress(rd io.Reader, name string, total int64) io.Reader {
	if r.quiet || !r.tty {
		return rd
	}
	bar := progressbar.DefaultBytes(total, "downloading "+name)
	return io.TeeReader(rd, bar)
}
