package train

import (
	"fmt"
	"math"

	"github.com/pctrain/pctrain/internal/model"
	"github.com/pctrain/pctrain/internal/relax"
	"github.com/pctrain/pctrain/internal/rule"
	"github.com/pctrain/pctrain/internal/tensor"
)

// Telemetry is one line of telemetry.jsonl: the state of PC inference and
// of the parameters at one optimizer step, before the update.
type Telemetry struct {
	Epoch  int    `json:"epoch"`
	Step   int    `json:"step"`
	Method string `json:"method"`
	// EnergyTrajectory is the batch-mean F before inference and after each
	// inference step (pc only).
	EnergyTrajectory []float64 `json:"energy_trajectory,omitempty"`
	// EnergyPerLevel is each vertex's energy term at the end of inference
	// (input side first, the output's loss last).
	EnergyPerLevel []float64 `json:"energy_per_level,omitempty"`
	// ValueNorms is, per vertex (input side first), the mean over the
	// batch of ‖x_v‖ at the end of inference (PC methods).
	ValueNorms []float64 `json:"value_norms,omitempty"`
	// WeightNorms and GradNorms are Frobenius norms per parameter.
	WeightNorms map[string]float64 `json:"weight_norms"`
	GradNorms   map[string]float64 `json:"grad_norms"`
	// BPCosine is, per parameter, the cosine between this method's
	// gradient and BP's at the same weights (train.telemetry_bp_cosine).
	BPCosine map[string]float64 `json:"bp_cosine,omitempty"`
	// BPAngle is the same agreement as an angle in degrees (0: BP's
	// direction), as BioTorch reports it.
	BPAngle map[string]float64 `json:"bp_angle,omitempty"`
	// FeedbackAngle is, per weight, the angle in degrees between the
	// feedback tensor B the step backpropagated through and the weight W
	// (fa, usf, frsf, brsf; RULES.md §5).
	FeedbackAngle map[string]float64 `json:"feedback_angle,omitempty"`
	// Stability is the stability probe (RULES.md §6; pc, ipc, epc).
	Stability *StabilityRecord `json:"stability,omitempty"`
}

// StabilityRecord is the stability probe at the start of a batch's
// inference (RULES.md §6): the inference dynamics are a descent with step
// Step = pc.x_lr on an energy (F in the value nodes for pc and ipc, E in
// the errors for epc) whose Hessian has largest eigenvalue LambdaMax.
type StabilityRecord struct {
	LambdaMax    float64 `json:"lambda_max"`
	Step         float64 `json:"step"`
	EtaLambdaMax float64 `json:"eta_lambda_max"`
	// Limit is the η·λ_max beyond which the descent diverges: 2 for plain
	// gradient steps (RULES.md §6), 2(1+m) with momentum m (heavy ball
	// on a quadratic).
	Limit float64 `json:"limit"`
	// SafeStep is the largest stable step, Limit/λ_max.
	SafeStep float64 `json:"safe_step"`
	// Warning is set when EtaLambdaMax exceeds Limit.
	Warning string `json:"warning,omitempty"`
}

// probeStability runs the rule's stability probe on the batch about to be
// trained, if it has one, and keeps the record for the batch's telemetry
// line. The first record past the limit (and the first after a return
// below it) is also given to the Warn hook.
func (t *Trainer[T]) probeStability(b *rule.Batch[T]) {
	p, ok := t.Rule.(rule.Prober[T])
	if !ok {
		return
	}
	s, ok := p.Stability(b)
	if !ok {
		return
	}
	rec := &StabilityRecord{LambdaMax: s.LambdaMax, Step: s.Eta, EtaLambdaMax: s.Eta * s.LambdaMax, Limit: 2 * (1 + s.Momentum)}
	rec.SafeStep = rec.Limit / s.LambdaMax
	over := rec.EtaLambdaMax > rec.Limit
	if over {
		what := "value nodes"
		if t.Info.Name == "epc" {
			what = "errors"
		}
		rec.Warning = fmt.Sprintf("step %d: inference on the %s is unstable: pc.x_lr × λ_max = %.4g × %.4g = %.4g > %.4g; pc.x_lr below %.3g is stable",
			t.Pos.Step+1, what, s.Eta, s.LambdaMax, rec.EtaLambdaMax, rec.Limit, rec.SafeStep)
		if !t.unstable && t.Hooks.Warn != nil {
			t.Hooks.Warn(rec.Warning)
		}
	}
	t.unstable = over
	t.stab = rec
}

// quadraticInference reports whether the probed energy is one quadratic
// in the inference variables for the whole batch: pc or epc (ipc moves
// the weights between its inference steps) on a linear graph with the
// squared-error loss, bottom-up only. There η·λ_max past the limit makes
// the descent diverge for certain (RULES.md §6), before it runs.
func (t *Trainer[T]) quadraticInference() bool {
	return (t.Info.Name == "pc" || t.Info.Name == "epc") && t.Cfg.Loss == "mse" &&
		t.Cfg.Model.Direction != "bidirectional" && t.G.Linear()
}

// stabilityGuard is the divergence guard's use of the stability probe
// (exit 3): before the batch runs (r nil), when the energy is quadratic
// and the probe is past its limit; after it, when the probe was past its
// limit and the batch's inference ended above the energy it started from
// (a descent that raises the energy confirms the probe's prediction;
// pc.energy_growth_limit 0 turns this check off with the energy-growth
// guard, not the certain one).
func (t *Trainer[T]) stabilityGuard(r *relax.Result) error {
	s := t.stab
	if s == nil || s.Warning == "" {
		return nil
	}
	what := "value nodes"
	if t.Info.Name == "epc" {
		what = "errors"
	}
	d := &DivergedError{Quantity: "inference on the " + what, Epoch: t.Pos.Epoch + 1, Step: t.Pos.Step + 1,
		Hint: fmt.Sprintf("lower pc.x_lr below %.3g (the stability probe's safe step)", s.SafeStep)}
	if r == nil {
		if !t.quadraticInference() {
			return nil
		}
		d.Detail = fmt.Sprintf("diverges for certain: its energy is quadratic and pc.x_lr × λ_max = %.4g > %.4g", s.EtaLambdaMax, s.Limit)
		return d
	}
	if r.Samples == 0 || t.Cfg.PC.EnergyGrowthLimit <= 0 || !t.Info.EnergyGuard {
		return nil // pc.energy_growth_limit 0 turns the energy checks off
	}
	start := r.Loss / float64(r.Samples)
	if r.StartEnergy > 0 {
		start = r.StartEnergy
	}
	if t.Cfg.PC.Nudging != "none" {
		start *= math.Max(1, t.Cfg.PC.Beta) // F_β starts at β·ℓ
	}
	if !(r.Energy > start) {
		return nil
	}
	d.Detail = fmt.Sprintf("diverged: pc.x_lr × λ_max = %.4g > %.4g and the energy rose from %.4g to %.4g during inference", s.EtaLambdaMax, s.Limit, start, r.Energy)
	return d
}

// telemetryDue reports whether the step about to run is recorded.
func (t *Trainer[T]) telemetryDue() bool {
	n := t.Cfg.Train.TelemetryEvery
	return n > 0 && t.Hooks.Telemetry != nil && t.Pos.Step%n == 0
}

// bpRef is backprop on the trainer's graph, for telemetry and compare:
// it overwrites the Grad buffers with BP's gradient at the current
// weights.
type bpRef[T tensor.Float] struct {
	g    *model.Graph[T]
	ws   *model.Workspace[T]
	loss model.Loss[T]
}

func newBPRef[T tensor.Float](g *model.Graph[T], loss model.Loss[T]) *bpRef[T] {
	return &bpRef[T]{g: g, ws: model.NewWorkspace(g), loss: loss}
}

func (b *bpRef[T]) grad(x *tensor.Mat[T], labels []int) {
	b.g.ZeroGrad()
	b.g.Backprop(b.ws, x, labels, b.loss)
}

// gradTelemetry starts a record from the rule's first gradient of the
// batch, at the weights before its update: weight and gradient norms and,
// with train.telemetry_bp_cosine, each parameter's cosine with BP's
// gradient at the same weights (the rule's gradient is put back).
func (t *Trainer[T]) gradTelemetry(x *tensor.Mat[T], labels []int) Telemetry {
	rec := Telemetry{Epoch: t.Pos.Epoch + 1, Step: t.Pos.Step + 1, Method: t.Info.Name,
		WeightNorms: map[string]float64{}, GradNorms: map[string]float64{}}
	params := t.G.Params()
	for _, p := range params {
		rec.WeightNorms[p.Name] = math.Sqrt(tensor.SumSq(p.Value.Data))
		rec.GradNorms[p.Name] = math.Sqrt(tensor.SumSq(p.Grad.Data))
	}
	if fr, ok := t.Rule.(rule.Feedbacker[T]); ok {
		for _, wf := range fr.Feedback() {
			if rec.FeedbackAngle == nil {
				rec.FeedbackAngle = map[string]float64{}
			}
			rec.FeedbackAngle[wf.W.Name] = angle(cosine(wf.B.Data, wf.W.Value.Data))
		}
	}
	if t.Cfg.Train.TelemetryBPCosine {
		saved := make([][]T, len(params))
		for i, p := range params {
			saved[i] = append([]T(nil), p.Grad.Data...)
		}
		if t.bpRef == nil {
			t.bpRef = newBPRef(t.G, t.Loss)
		}
		t.bpRef.grad(x, labels)
		rec.BPCosine = map[string]float64{}
		rec.BPAngle = map[string]float64{}
		for i, p := range params {
			rec.BPCosine[p.Name] = cosine(saved[i], p.Grad.Data)
			rec.BPAngle[p.Name] = angle(rec.BPCosine[p.Name])
			copy(p.Grad.Data, saved[i])
		}
	}
	return rec
}

// telemetry completes the record gradTelemetry started with the batch's
// inference: the energy trajectory and per vertex, and value-node norms.
func (t *Trainer[T]) telemetry(r relax.Result, traj []float64) Telemetry {
	rec := t.upd.pending
	t.upd.pending = Telemetry{}
	rec.Stability, t.stab = t.stab, nil
	if len(traj) > 0 {
		rec.EnergyTrajectory = append([]float64(nil), traj...)
	}
	if len(r.EnergyLevels) > 1 {
		rec.EnergyPerLevel = append([]float64(nil), r.EnergyLevels[1:]...)
	}
	if vm, ok := t.Rule.(rule.Valuer[T]); ok {
		if vals := vm.Values(); len(vals) > 1 {
			for _, v := range vals[1:] {
				rec.ValueNorms = append(rec.ValueNorms, meanRowNorm(v))
			}
		}
	}
	return rec
}

func meanRowNorm[T tensor.Float](m *tensor.Mat[T]) float64 {
	if m.Rows == 0 {
		return 0
	}
	var s float64
	for i := 0; i < m.Rows; i++ {
		s += math.Sqrt(tensor.SumSq(m.Row(i)))
	}
	return s / float64(m.Rows)
}

// cosine is ⟨a, b⟩ / (‖a‖‖b‖), 1 when both are zero and 0 when one is.
func cosine[T tensor.Float](a, b []T) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	switch {
	case na == 0 && nb == 0:
		return 1
	case na == 0 || nb == 0:
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// angle is arccos(c) in degrees, c clamped to [−1, 1] against rounding.
func angle(c float64) float64 {
	return math.Acos(max(-1, min(1, c))) * 180 / math.Pi
}
