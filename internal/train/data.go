package train

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/pctrain/pctrain/internal/config"
	"github.com/pctrain/pctrain/internal/data"
)

// Data is a run's dataset: training, validation and test views and the
// normalisation every batch goes through.
type Data struct {
	Train, Val, Test data.View
	Norm             data.Norm
	Shape            []int
	Classes          int
}

// Seed streams: each kind of random choice draws from its own PCG stream
// of the config's seed, so one choice never shifts another.
const (
	streamInit    = 1
	streamVal     = 2
	streamShuffle = 1000    // + epoch
	streamAugment = 1 << 62 // + epoch<<32 + batch
)

func rngFor(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// FetchOptions control automatic dataset fetching.
type FetchOptions struct {
	Logf     func(format string, args ...any)
	Progress func(r io.Reader, name string, total int64) io.Reader
}

// DataDir is where a named dataset's files live for cfg.
func DataDir(cfg *config.Config) string {
	if cfg.Data.Dir != "" {
		return cfg.Data.Dir
	}
	return filepath.Join("datasets", cfg.Data.Name)
}

// knownShapes are the sample shapes and class counts of the named
// datasets, which DataShape gives without reading them.
var knownShapes = map[string]struct {
	shape   []int
	classes int
}{
	"mnist":         {[]int{1, 28, 28}, 10},
	"fashion-mnist": {[]int{1, 28, 28}, 10},
	"cifar10":       {[]int{3, 32, 32}, 10},
}

// DataShape is the sample shape and number of classes of cfg's dataset:
// known for the named datasets (nothing is read or fetched; a data.dir
// holding other files shows when a run loads them), read from the file
// for npz.
func DataShape(cfg *config.Config, fo FetchOptions) ([]int, int, error) {
	if k, ok := knownShapes[cfg.Data.Name]; ok {
		return k.shape, k.classes, nil
	}
	d, err := LoadData(cfg, fo)
	if err != nil {
		return nil, 0, err
	}
	return d.Shape, d.Classes, nil
}

// LoadData loads, splits and normalises the dataset cfg names, fetching
// MNIST or Fashion-MNIST into DataDir when it is missing.
func LoadData(cfg *config.Config, fo FetchOptions) (*Data, error) {
	var train, test *data.Dataset
	var err error
	switch cfg.Data.Name {
	case "npz":
		train, test, err = data.LoadNPZ(cfg.Data.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, userErr("data.path: %s does not exist", cfg.Data.Path)
		}
	default:
		dir := DataDir(cfg)
		load := data.LoadIDXDir
		if cfg.Data.Name == "cifar10" {
			load = data.LoadCIFAR10
		}
		train, test, err = load(dir)
		if err != nil && cfg.Data.Dir == "" {
			if fo.Logf != nil {
				fo.Logf("%s not found in %s; fetching it", cfg.Data.Name, dir)
			}
			f := data.Fetcher{Logf: fo.Logf, Progress: fo.Progress}
			if ferr := f.Fetch(cfg.Data.Name, dir); ferr != nil {
				// No hint to run `pctrain data fetch`: that is the fetch
				// that just failed; its message says what to do.
				return nil, userErr("data.name %s: %s is missing and fetching it failed: %v", cfg.Data.Name, dir, ferr)
			}
			train, test, err = load(dir)
		}
		if err != nil && cfg.Data.Dir != "" {
			err = fmt.Errorf("data.dir: %v (hint: pctrain data fetch %s --dir %s)", err, cfg.Data.Name, cfg.Data.Dir)
		}
	}
	if err != nil {
		return nil, userErr("%v", err)
	}
	if train.Classes != test.Classes {
		return nil, userErr("data: train and test splits have %d and %d classes", train.Classes, test.Classes)
	}
	if sizes := cfg.Model.Sizes; cfg.Model.Type == "mlp" && len(sizes) > 0 && !cfg.Generative() {
		if n := prod(train.Shape); sizes[0] != n {
			key := "model.sizes"
			if src := cfg.SourceOf(key); src != "" {
				key = src + ": " + key
			}
			where := cfg.Data.Path
			if cfg.Data.Name != "npz" {
				where = DataDir(cfg) + " (" + cfg.Data.Name + ")"
			}
			return nil, userErr("%s: the input size is %d but the samples of %s have %d values (shape %v)", key, sizes[0], where, n, train.Shape)
		}
	}
	if f, ok := modelFootprint(cfg, train.Shape, train.Classes); ok && f.outputs > 0 && float64(train.Classes) > f.outputs {
		// The data's classes do not fit the model's output: name the
		// array (or file) holding the largest label.
		where, top := "training labels", int32(0)
		for _, split := range []struct {
			name string
			ds   *data.Dataset
		}{{"y_train", train}, {"y_test", test}} {
			for _, l := range split.ds.Labels {
				if l > top {
					top, where = l, split.name
				}
			}
		}
		src := cfg.Data.Path + ": " + where
		if cfg.Data.Name != "npz" {
			src = DataDir(cfg) + ": the " + cfg.Data.Name + " labels"
		}
		return nil, userErr("%s holds label %d, but the model has %g outputs (labels must be in 0..%g)", src, top, f.outputs, f.outputs-1)
	}
	d := &Data{Shape: train.Shape, Classes: train.Classes, Test: data.All(test)}
	d.Train, d.Val = data.SplitVal(data.All(train), cfg.Data.ValSplit, rngFor(cfg.Seed, streamVal))
	if d.Train.Len() == 0 {
		return nil, userErr("data.val_split: %g leaves no training samples", cfg.Data.ValSplit)
	}
	norm := cfg.Data.Normalize
	if norm == "auto" {
		norm = "standard"
		if cfg.Data.Name == "npz" {
			norm = "none"
		}
	}
	scale := 1.0
	if train.U8 != nil {
		scale = 1.0 / 255
	}
	switch norm {
	case "none":
		d.Norm = data.Identity
	case "scale":
		d.Norm = data.Norm{Scale: scale}
	case "standard":
		d.Norm = data.Standardize(d.Train, scale)
	}
	if (cfg.Data.Flip || cfg.Data.CropPadding > 0) && len(train.Shape) != 3 {
		return nil, userErr("data.flip/data.crop_padding: augmentation needs image data ([channels, height, width]); %s samples have shape %v", cfg.Data.Name, train.Shape)
	}
	// A batch larger than the training set is the whole set: clamp it
	// (full-batch training) rather than size every buffer for samples
	// that do not exist.
	if n := d.Train.Len(); cfg.Data.BatchSize > n {
		if fo.Logf != nil {
			fo.Logf("data.batch_size %d is more than the %d training samples: using %d (one full batch per step)", cfg.Data.BatchSize, n, n)
		}
		cfg.Data.BatchSize = n
	}
	if n := runtime.NumCPU(); cfg.Threads() > n && fo.Logf != nil {
		fo.Logf("train.threads %d is more than the %d cores: the parts take turns (results equal a %d-thread run elsewhere)", cfg.Threads(), n, cfg.Threads())
	}
	// Every command that builds a model loads its data first: refuse here,
	// before anything large is allocated, a model that cannot fit.
	if err := checkMemory(cfg, d); err != nil {
		return nil, err
	}
	// Decoding left garbage as large as the dataset (decompression and
	// read buffers). Collect it now: the collector otherwise sets its next
	// target from the loading peak, and a run's memory creeps towards
	// twice that (MNIST MLP: 216 MB peak RSS over 25 epochs, 163 MB after).
	debug.FreeOSMemory()
	return d, nil
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
