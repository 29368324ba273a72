package train

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/model"
)

// GridAxis is one swept key and its values (each read as YAML).
type GridAxis struct {
	Key    string
	Values []string
}

// ParseGrid parses "key=v1,v2,…"; commas inside brackets or braces belong
// to the value (model.sizes=[784,64,10],[784,256,10]).
func ParseGrid(s string) (GridAxis, error) {
	key, vals, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || vals == "" {
		return GridAxis{}, fmt.Errorf("--grid %q: want key=v1,v2,…", s)
	}
	var out []string
	depth, start := 0, 0
	for i, r := range vals {
		switch r {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(vals[start:i]))
				start = i + 1
			}
		}
	}
	out = append(out, strings.TrimSpace(vals[start:]))
	for _, v := range out {
		if v == "" {
			return GridAxis{}, fmt.Errorf("--grid %q: empty value", s)
		}
	}
	return GridAxis{Key: key, Values: out}, nil
}

// SweepRun is one combination and seed.
type SweepRun struct {
	Name  string   // run directory name
	Combo string   // "key=value …" without the seed
	Sets  []string // --set overrides, the seed last
	Seed  uint64
}

// SweepRuns expands the grid × seeds in a fixed order: axes vary slowest
// first, seeds fastest. Seeds are base, base+1, ….
func SweepRuns(axes []GridAxis, seeds int, base uint64) []SweepRun {
	combos := [][]string{nil}
	for _, a := range axes {
		var next [][]string
		for _, c := range combos {
			for _, v := range a.Values {
				next = append(next, append(append([]string(nil), c...), a.Key+"="+v))
			}
		}
		combos = next
	}
	var runs []SweepRun
	for _, c := range combos {
		for k := 0; k < seeds; k++ {
			seed := base + uint64(k)
			name := sanitize(strings.Join(append(append([]string(nil), c...), fmt.Sprintf("seed=%d", seed)), "_"))
			runs = append(runs, SweepRun{Name: name, Combo: strings.Join(c, " "), Seed: seed,
				Sets: append(append([]string(nil), c...), fmt.Sprintf("seed=%d", seed))})
		}
	}
	return runs
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		case r == '=':
			return '-'
		}
		return '+'
	}, s)
}

// sweepTag is sweep.json in a sweep's run directory.
type sweepTag struct {
	Combo string `json:"combo"`
	Seed  uint64 `json:"seed"`
}

// Shard is this process's part of a sweep: runs i with i mod N == Index.
type Shard struct{ Index, Count int }

// ParseShard reads "i/n" (0 ≤ i < n).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with 0 ≤ i < n", s)
	}
	return Shard{i, n}, nil
}

// SweepOptions configure a sweep.
type SweepOptions struct {
	File     string
	BaseSets []string
	Env      []string
	Axes     []GridAxis
	Seeds    int
	OutDir   string
	Shard    Shard
	Reporter Reporter
	Fetch    FetchOptions
}

// Sweep runs this shard's runs that have not finished (resuming
// interrupted ones) and then writes the leaderboard of every finished run
// in OutDir.
func Sweep(ctx context.Context, o SweepOptions) (*Leaderboard, error) {
	rep := o.Reporter
	if rep == nil {
		rep = nopReporter{}
	}
	seen := map[string]bool{}
	for _, a := range o.Axes {
		if seen[a.Key] {
			return nil, userErr("--grid %s is given twice: put all its values in one --grid %s=V1,V2,…", a.Key, a.Key)
		}
		seen[a.Key] = true
	}
	base, err := LoadConfig(config.Sources{File: o.File, Sets: o.BaseSets, Env: o.Env})
	if err != nil {
		return nil, err
	}
	for _, a := range o.Axes { // fail early on a bad key or value
		for _, v := range a.Values {
			flag := config.Flag{Flag: "--grid " + a.Key + "=" + strings.Join(a.Values, ","), Key: a.Key, Value: v}
			if _, err := LoadConfig(config.Sources{File: o.File, Sets: o.BaseSets, Env: o.Env, Flags: []config.Flag{flag}}); err != nil {
				return nil, err
			}
		}
	}
	runs := SweepRuns(o.Axes, o.Seeds, base.Seed)
	// Runs already in the folder must be this sweep's: a rerun with
	// another base config (file, --set, environment) would otherwise skip
	// or resume them and rank two experiments as one.
	for _, r := range runs {
		dir := filepath.Join(o.OutDir, r.Name)
		if !isRun(dir) {
			continue
		}
		have, err := ResumeConfig(dir)
		if err != nil {
			return nil, err
		}
		want, err := LoadConfig(config.Sources{File: o.File, Sets: append(append([]string(nil), o.BaseSets...), r.Sets...), Env: o.Env})
		if err != nil {
			return nil, err
		}
		want.Train.OutDir = have.Train.OutDir // the folder may have moved
		if key, now, was := configDiff(want, have); key != "" {
			return nil, userErr("sweep --out %s: run %s was made with other settings: %s is %s in this sweep (--config, --set, PCTRAIN_*) but %s in %s; rerun with the settings it was made with, or use another --out",
				o.OutDir, r.Name, key, now, was, filepath.Join(dir, "config.yaml"))
		}
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, userErr("--out: %v", unwrapPathErr(err))
	}
	mine := 0
	for i, r := range runs {
		if i%o.Shard.Count != o.Shard.Index {
			continue
		}
		mine++
		dir := filepath.Join(o.OutDir, r.Name)
		if exists(filepath.Join(dir, "summary.json")) {
			rep.Logf("[%d/%d] %s: finished, skipped", i+1, len(runs), r.Name)
			continue
		}
		opts := RunOptions{Reporter: rep, Fetch: o.Fetch}
		var cfg *config.Config
		if exists(filepath.Join(dir, "checkpoints", "last.safetensors")) {
			if cfg, err = ResumeConfig(dir); err != nil {
				return nil, err
			}
			opts.Resume = dir
		} else {
			sets := append(append([]string(nil), o.BaseSets...), r.Sets...)
			if cfg, err = LoadConfig(config.Sources{File: o.File, Sets: sets, Env: o.Env}); err != nil {
				return nil, err
			}
			cfg.Train.OutDir = dir
			opts.Force = true
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, userErr("--out: %v", unwrapPathErr(err))
		}
		tag, _ := json.Marshal(sweepTag{Combo: r.Combo, Seed: r.Seed})
		if err := model.WriteFileAtomic(filepath.Join(dir, "sweep.json"), func(w io.Writer) error { _, err := w.Write(tag); return err }); err != nil {
			return nil, userErr("--out: %v", err)
		}
		rep.Logf("[%d/%d] %s", i+1, len(runs), r.Name)
		if _, err := Train(ctx, cfg, opts); err != nil {
			return nil, err
		}
	}
	rep.Logf("shard %d/%d: %d of %d runs", o.Shard.Index, o.Shard.Count, mine, len(runs))
	return collect(o.OutDir, "sweep --out", true)
}

// LeaderRow is one combination's results over its finished seeds.
type LeaderRow struct {
	Combo string
	Seeds int
	// Final is the test accuracy after the last epoch; ValSelected the
	// test accuracy of the epoch with the best validation accuracy (runs
	// with a validation split only); Best the highest test accuracy of any
	// epoch, test-selected, which is optimistic and kept apart. Val is the
	// best validation accuracy of any epoch: the figure a search ranks by.
	Final, ValSelected, Best, Val Stat
}

// Stat is a mean and sample standard deviation over seeds.
type Stat struct {
	Mean, Std float64
	N         int
}

func stat(v []float64) Stat {
	s := Stat{N: len(v)}
	if len(v) == 0 {
		return s
	}
	for _, x := range v {
		s.Mean += x
	}
	s.Mean /= float64(len(v))
	if len(v) > 1 {
		for _, x := range v {
			s.Std += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(s.Std / float64(len(v)-1))
	}
	return s
}

// Leaderboard is the sweep's result table, best final accuracy first.
type Leaderboard struct{ Rows []LeaderRow }

// Collect builds the leaderboard from every finished run under dir (the
// shards' directories can be merged by copying them into one folder) and
// writes leaderboard.csv and leaderboard.md there. A folder without any
// finished sweep run is an error, and nothing is written.
func Collect(dir string) (*Leaderboard, error) { return collect(dir, "sweep --collect", false) }

// collect is Collect; source names the folder's flag in messages, and
// allowEmpty lets a shard with no finished run write an empty table.
func collect(dir, source string, allowEmpty bool) (*Leaderboard, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, userErr("%s %s: %v", source, dir, unwrapPathErr(err))
	}
	type acc struct{ final, val, best, valAcc []float64 }
	groups := map[string]*acc{}
	for _, e := range entries {
		run := filepath.Join(dir, e.Name())
		raw, err := os.ReadFile(filepath.Join(run, "summary.json"))
		if err != nil {
			continue
		}
		var s Summary
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, userErr("%s: %v", filepath.Join(run, "summary.json"), err)
		}
		var tag sweepTag
		tagRaw, err := os.ReadFile(filepath.Join(run, "sweep.json"))
		if err != nil {
			continue // not a sweep run
		}
		if err := json.Unmarshal(tagRaw, &tag); err != nil {
			return nil, userErr("%s: %v", filepath.Join(run, "sweep.json"), err)
		}
		combo := tag.Combo
		g := groups[combo]
		if g == nil {
			g = &acc{}
			groups[combo] = g
		}
		g.final = append(g.final, s.FinalTestAcc)
		if s.BestSelectedBy == "val_acc" && s.BestTestAcc != nil {
			g.val = append(g.val, *s.BestTestAcc)
		}
		_, best, err := bestTestEpoch(filepath.Join(run, "metrics.jsonl"))
		if err != nil {
			return nil, err
		}
		g.best = append(g.best, best)
		if v, ok, err := bestValAcc(filepath.Join(run, "metrics.jsonl")); err != nil {
			return nil, err
		} else if ok {
			g.valAcc = append(g.valAcc, v)
		}
	}
	if len(groups) == 0 && !allowEmpty {
		return nil, userErr("%s %s: no finished sweep runs there (folders holding summary.json and sweep.json)", source, dir)
	}
	lb := &Leaderboard{}
	for combo, g := range groups {
		lb.Rows = append(lb.Rows, LeaderRow{Combo: combo, Seeds: len(g.final),
			Final: stat(g.final), ValSelected: stat(g.val), Best: stat(g.best), Val: stat(g.valAcc)})
	}
	// Rank by validation accuracy when every combination has it (a search
	// on a validation split: the test set plays no part in the order),
	// else by final test accuracy.
	byVal := len(lb.Rows) > 0
	for _, r := range lb.Rows {
		byVal = byVal && r.Val.N == r.Seeds
	}
	key := func(r LeaderRow) float64 {
		if byVal {
			return r.Val.Mean
		}
		return r.Final.Mean
	}
	sort.Slice(lb.Rows, func(i, j int) bool {
		if a, b := key(lb.Rows[i]), key(lb.Rows[j]); a != b {
			return a > b
		}
		return lb.Rows[i].Combo < lb.Rows[j].Combo
	})
	if err := model.WriteFileAtomic(filepath.Join(dir, "leaderboard.csv"), lb.writeCSV); err != nil {
		return nil, userErr("%v", err)
	}
	if err := model.WriteFileAtomic(filepath.Join(dir, "leaderboard.md"), lb.WriteMarkdown); err != nil {
		return nil, userErr("%v", err)
	}
	return lb, nil
}

// bestValAcc reads a run's metrics.jsonl and returns the highest
// validation accuracy of any epoch, and whether the run had a validation
// split.
func bestValAcc(path string) (float64, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, userErr("%v", unwrapPathErr(err))
	}
	defer f.Close()
	best, ok := math.Inf(-1), false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m struct {
			ValAcc *float64 `json:"val_acc"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return 0, false, userErr("%s: %v", path, err)
		}
		if m.ValAcc != nil {
			best, ok = math.Max(best, *m.ValAcc), true
		}
	}
	return best, ok, sc.Err()
}

// bestTestEpoch reads a run's metrics.jsonl and returns the epoch of
// highest test accuracy (the first on ties) and that accuracy: the
// test-selected figure, which is optimistic.
func bestTestEpoch(path string) (int, float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, userErr("%v", unwrapPathErr(err))
	}
	defer f.Close()
	epoch, best := 0, math.Inf(-1)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m struct {
			Epoch   int     `json:"epoch"`
			TestAcc float64 `json:"test_acc"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return 0, 0, userErr("%s: %v", path, err)
		}
		if m.TestAcc > best {
			epoch, best = m.Epoch, m.TestAcc
		}
	}
	if epoch == 0 {
		best = 0
	}
	return epoch, best, sc.Err()
}

func (lb *Leaderboard) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"combo", "seeds", "best_val_acc_mean", "best_val_acc_std", "final_test_acc_mean", "final_test_acc_std", "val_selected_test_acc_mean", "val_selected_test_acc_std", "val_selected_seeds", "test_selected_test_acc_mean", "test_selected_test_acc_std"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range lb.Rows {
		val := []string{"", "", "0"}
		if r.ValSelected.N > 0 {
			val = []string{f(r.ValSelected.Mean), f(r.ValSelected.Std), strconv.Itoa(r.ValSelected.N)}
		}
		bv := []string{"", ""}
		if r.Val.N > 0 {
			bv = []string{f(r.Val.Mean), f(r.Val.Std)}
		}
		cw.Write(append(append(append([]string{r.Combo, strconv.Itoa(r.Seeds)}, bv...), f(r.Final.Mean), f(r.Final.Std)), append(val, f(r.Best.Mean), f(r.Best.Std))...))
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes the leaderboard as a Markdown table (percentages).
func (lb *Leaderboard) WriteMarkdown(w io.Writer) error {
	pct := func(s Stat) string {
		if s.N == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f ± %.2f", 100*s.Mean, 100*s.Std)
	}
	fmt.Fprintln(w, "| settings | seeds | best val acc (%) | final test acc (%) | val-selected test acc (%) | test-selected test acc (%, optimistic) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range lb.Rows {
		c := r.Combo
		if c == "" {
			c = "(base config)"
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", c, r.Seeds, pct(r.Val), pct(r.Final), pct(r.ValSelected), pct(r.Best))
	}
	_, err := fmt.Fprintln(w, "\nmean ± sample standard deviation over seeds, ranked by the best validation accuracy of any epoch when every run had a validation split (else by final test accuracy); \"final\" is the last epoch, \"val-selected\" the epoch with the best validation accuracy, \"test-selected\" the highest test accuracy of any epoch, chosen on the test set itself and so optimistic: not a result.")
	return err
}
