package train

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/report"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// CompareOptions configure a side-by-side run of several methods.
type CompareOptions struct {
	// Methods are rule names, each optionally with config overrides of
	// its own: "pc:pc.nudging=centred,pc.beta=0.05" (see ParseVariant).
	Methods []string
	// Steps is the number of first batches on which each method's gradient
	// is compared with BP's gradient at the same weights.
	Steps int
	// OutDir receives compare.json and compare.csv.
	OutDir   string
	Reporter Reporter
	Fetch    FetchOptions
}

// LayerAgreement compares one parameter's gradient with BP's, worst case
// over the compared batches.
type LayerAgreement struct {
	Param      string  `json:"param"`
	MaxAbsDiff float64 `json:"max_abs_diff"`
	// RelErr is max|g − g_bp| / max|g_bp|.
	RelErr float64 `json:"rel_err"`
	// Cosine is the smallest cosine similarity between g and g_bp.
	Cosine float64 `json:"cosine"`
	// Angle is the largest angle between g and g_bp, in degrees
	// (arccos of Cosine), as BioTorch reports alignment.
	Angle float64 `json:"angle_deg"`
}

// MethodReport is one method's part of a comparison.
type MethodReport struct {
	Method    string           `json:"method"`
	Agreement []LayerAgreement `json:"gradient_agreement,omitempty"`
	// Verdict summarises the agreement: "exact" (float64, every relative
	// error ≤ 1e-12), "equal within float32 rounding" (≤ 1e-5), or
	// "differs from BP".
	Verdict         string         `json:"verdict,omitempty"`
	Epochs          []EpochMetrics `json:"epochs"`
	SecondsPerEpoch float64        `json:"seconds_per_epoch"`
	TimeRatioToBP   float64        `json:"time_ratio_to_bp"`
	// FinalWeightsMaxDiff is max|w − w_bp| over all parameters at the end.
	FinalWeightsMaxDiff float64 `json:"final_weights_max_abs_diff_to_bp"`
}

// CompareReport is compare.json.
type CompareReport struct {
	DType   string         `json:"dtype"`
	Seed    uint64         `json:"seed"`
	Steps   int            `json:"gradient_steps"`
	Backend string         `json:"backend"`
	Methods []MethodReport `json:"methods"`
}

// Compare trains each method from the same initial weights on the same
// batch sequence and reports how each relates to BP. BP is run as the
// reference even when not asked for.
func Compare(ctx context.Context, cfg *config.Config, opts CompareOptions) (*CompareReport, error) {
	if cfg.DType == "float64" {
		return compareT[float64](ctx, cfg, opts)
	}
	return compareT[float32](ctx, cfg, opts)
}

func compareT[T tensor.Float](ctx context.Context, cfg *config.Config, opts CompareOptions) (*CompareReport, error) {
	rep := opts.Reporter
	if rep == nil {
		rep = nopReporter{}
	}
	if opts.Fetch.Logf == nil {
		opts.Fetch.Logf = rep.Logf
	}
	methods := slices.Clone(opts.Methods)
	if !slices.Contains(methods, "bp") {
		methods = append(methods, "bp")
	}
	configs := map[string]*config.Config{}
	for _, name := range methods {
		mc, err := ParseVariant(cfg, name)
		if err != nil {
			return nil, err
		}
		configs[name] = mc
	}
	d, err := LoadData(cfg, opts.Fetch)
	if err != nil {
		return nil, err
	}
	report := &CompareReport{DType: cfg.DType, Seed: cfg.Seed, Steps: opts.Steps, Backend: tensor.Describe()}
	final := map[string][][]T{}
	for _, name := range methods {
		mc := *configs[name]
		t, err := NewTrainer[T](&mc, d)
		if err != nil {
			return nil, err
		}
		mr := MethodReport{Method: name}
		var agreement *[]LayerAgreement
		if name != "bp" {
			t.Hooks.AfterGrad, agreement = agreementHook(t, opts.Steps)
		}
		t.Hooks.EpochStart = func(epoch, start, batches int) { rep.EpochStart(t.plan(epoch, start, batches)) }
		t.Hooks.Batch = func(_, batch int, r relax.Result, n int) { rep.Batch(batch, r.Loss/float64(n), n) }
		t.Hooks.Epoch = func(m EpochMetrics, _ *Trainer[T]) error {
			mr.Epochs = append(mr.Epochs, m)
			rep.EpochEnd(m)
			return nil
		}
		rep.Logf("running %s", name)
		if w := ExactnessWarning(&mc, mc.Method); w != "" {
			rep.Logf("%s", w)
		}
		if err := t.Run(ctx); err != nil {
			return nil, err
		}
		if agreement != nil {
			mr.Agreement = *agreement
		}
		for _, m := range mr.Epochs {
			mr.SecondsPerEpoch += m.Seconds / float64(len(mr.Epochs))
		}
		mr.Verdict = verdict(mr.Agreement, cfg.DType)
		var ws [][]T
		for _, p := range t.G.Params() {
			ws = append(ws, slices.Clone(p.Value.Data))
		}
		final[name] = ws
		report.Methods = append(report.Methods, mr)
	}
	var bpSecs float64
	for _, m := range report.Methods {
		if m.Method == "bp" {
			bpSecs = m.SecondsPerEpoch
		}
	}
	for i := range report.Methods {
		m := &report.Methods[i]
		if bpSecs > 0 {
			m.TimeRatioToBP = m.SecondsPerEpoch / bpSecs
		}
		for j, w := range final[m.Method] {
			m.FinalWeightsMaxDiff = math.Max(m.FinalWeightsMaxDiff, tensor.MaxAbsDiff(w, final["bp"][j]))
		}
	}
	if opts.OutDir != "" {
		if err := writeCompare(opts.OutDir, report); err != nil {
			return nil, err
		}
	}
	return report, nil
}

// ParseVariant reads a compare argument, a rule name optionally followed
// by config overrides of its own — "pc", "pc:pc.nudging=centred,pc.beta=0.05"
// — into the config it trains with.
func ParseVariant(cfg *config.Config, arg string) (*config.Config, error) {
	name, rest, _ := strings.Cut(arg, ":")
	if _, err := rule.Lookup(name); err != nil {
		return nil, userErr("compare %s: %v", arg, err)
	}
	sets := []string{"method=" + name}
	if rest != "" {
		sets = append(sets, strings.Split(rest, ",")...)
	}
	mc, err := cfg.With(sets, "compare "+arg)
	if err != nil {
		return nil, err
	}
	if err := rule.Check(mc, "compare "+arg); err != nil {
		return nil, err
	}
	return mc, nil
}

// agreementHook returns an AfterGrad hook that, on the first steps batches,
// computes BP's gradient at the method's current weights and compares it
// with the method's gradient (which it restores before the optimizer step).
func agreementHook[T tensor.Float](t *Trainer[T], steps int) (func(int, *tensor.Mat[T], []int), *[]LayerAgreement) {
	params := t.G.Params()
	agree := make([]LayerAgreement, len(params))
	for i, p := range params {
		agree[i] = LayerAgreement{Param: p.Name, Cosine: 1}
	}
	out := &agree
	bp := newBPRef(t.G, t.Loss)
	saved := make([][]T, len(params))
	return func(step int, x *tensor.Mat[T], labels []int) {
		if step >= steps {
			return
		}
		for i, p := range params {
			saved[i] = append(saved[i][:0], p.Grad.Data...)
		}
		bp.grad(x, labels)
		for i, p := range params {
			a := &agree[i]
			g, ref := saved[i], p.Grad.Data
			diff := tensor.MaxAbsDiff(g, ref)
			a.MaxAbsDiff = math.Max(a.MaxAbsDiff, diff)
			var refMax, dot, ng, nr float64
			for j := range ref {
				refMax = math.Max(refMax, math.Abs(float64(ref[j])))
				dot += float64(g[j]) * float64(ref[j])
				ng += float64(g[j]) * float64(g[j])
				nr += float64(ref[j]) * float64(ref[j])
			}
			if refMax > 0 {
				a.RelErr = math.Max(a.RelErr, diff/refMax)
			} else if diff > 0 {
				a.RelErr = math.Inf(1)
			}
			cos := 1.0
			if ng > 0 && nr > 0 {
				cos = dot / math.Sqrt(ng*nr)
			} else if ng != nr {
				cos = 0
			}
			a.Cosine = math.Min(a.Cosine, cos)
			a.Angle = angle(a.Cosine)
			copy(p.Grad.Data, g)
		}
	}, out
}

func verdict(a []LayerAgreement, dtype string) string {
	if len(a) == 0 {
		return ""
	}
	worst := 0.0
	for _, l := range a {
		worst = math.Max(worst, l.RelErr)
	}
	switch {
	case dtype == "float64" && worst <= 1e-12:
		return "exact"
	case worst <= 1e-5:
		return "equal within float32 rounding"
	}
	return "differs from BP"
}

func writeCompare(dir string, r *CompareReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return userErr("--out: %v", unwrapPathErr(err))
	}
	raw, _ := json.MarshalIndent(r, "", "  ")
	if err := model.WriteFileAtomic(filepath.Join(dir, "compare.json"), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	}); err != nil {
		return userErr("--out: %v", err)
	}
	var runs []report.Run
	for _, m := range r.Methods {
		run := report.Run{Name: m.Method}
		for _, e := range m.Epochs {
			run.Epochs = append(run.Epochs, report.Epoch{Epoch: e.Epoch, Method: e.Method, TrainLoss: e.TrainLoss, TestLoss: e.TestLoss,
				TrainAcc: e.TrainAcc, TestAcc: e.TestAcc, EnergyPerLevel: e.EnergyPerLevel, SamplesPerSec: e.SamplesPerSec})
		}
		if len(run.Epochs) > 0 {
			runs = append(runs, run)
		}
	}
	if len(runs) > 0 {
		if err := model.WriteFileAtomic(filepath.Join(dir, "compare.png"), func(w io.Writer) error { return report.Plot(w, runs) }); err != nil {
			return userErr("--out: %v", err)
		}
	}
	return model.WriteFileAtomic(filepath.Join(dir, "compare.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		cw.Write([]string{"method", "kind", "key", "epoch", "max_abs_diff", "rel_err", "cosine", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "time_ratio_to_bp", "final_weights_max_abs_diff_to_bp"})
		for _, m := range r.Methods {
			for _, a := range m.Agreement {
				cw.Write([]string{m.Method, "gradient", a.Param, "", f(a.MaxAbsDiff), f(a.RelErr), f(a.Cosine), "", "", "", "", "", "", ""})
			}
			for _, e := range m.Epochs {
				cw.Write([]string{m.Method, "epoch", "", strconv.Itoa(e.Epoch), "", "", "", f(e.TrainLoss), f(e.TrainAcc), f(e.TestLoss), f(e.TestAcc), f(e.Seconds), "", ""})
			}
			cw.Write([]string{m.Method, "summary", "", "", "", "", "", "", "", "", "", f(m.SecondsPerEpoch), f(m.TimeRatioToBP), f(m.FinalWeightsMaxDiff)})
		}
		cw.Flush()
		return cw.Error()
	})
}

// WriteTable prints a comparison for people.
func (r *CompareReport) WriteTable(w io.Writer) {
	batches := fmt.Sprintf("the first %d batches", r.Steps)
	if r.Steps == 1 {
		batches = "the first batch"
	}
	fmt.Fprintf(w, "gradient agreement with BP at the same weights, worst over %s (%s):\n", batches, r.DType)
	fmt.Fprintf(w, "  %-8s %-18s %12s %12s %10s %8s\n", "method", "parameter", "max|Δ|", "rel err", "cosine", "angle°")
	for _, m := range r.Methods {
		for _, a := range m.Agreement {
			fmt.Fprintf(w, "  %-8s %-18s %12.3g %12.3g %10.6f %8.3f\n", m.Method, a.Param, a.MaxAbsDiff, a.RelErr, a.Cosine, a.Angle)
		}
		if m.Verdict != "" {
			fmt.Fprintf(w, "  %-8s → %s\n", m.Method, m.Verdict)
		}
	}
	fmt.Fprintln(w, "\ntraining from the same initial weights and batches:")
	fmt.Fprintf(w, "  %-8s %5s %10s %9s %9s %9s\n", "method", "epoch", "train_loss", "train_acc", "test_acc", "seconds")
	for _, m := range r.Methods {
		for _, e := range m.Epochs {
			fmt.Fprintf(w, "  %-8s %5d %10.4f %8.2f%% %8.2f%% %9.2f\n", m.Method, e.Epoch, e.TrainLoss, 100*e.TrainAcc, 100*e.TestAcc, e.Seconds)
		}
	}
	fmt.Fprintf(w, "\n  %-8s %14s %10s %28s\n", "method", "s/epoch", "time/bp", "final weights max|Δ| vs bp")
	for _, m := range r.Methods {
		fmt.Fprintf(w, "  %-8s %14.2f %10.3f %28.3g\n", m.Method, m.SecondsPerEpoch, m.TimeRatioToBP, m.FinalWeightsMaxDiff)
	}
}
