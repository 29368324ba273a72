package data

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CIFAR-10 binary format: records of 1 label byte and 3072 pixel bytes
// (the red, green and blue 32×32 planes, row-major), 10000 records per file.
const cifarRecord = 1 + 3*32*32

var cifarTrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}

const cifarTestFile = "test_batch.bin"

// ReadCIFAR appends the records of one CIFAR-10 binary file to d.
func ReadCIFAR(path string, d *Dataset) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(raw) == 0 || len(raw)%cifarRecord != 0 {
		return fmt.Errorf("%s: %d bytes is not a whole number of %d-byte CIFAR-10 records (truncated?)", path, len(raw), cifarRecord)
	}
	n := len(raw) / cifarRecord
	for i := 0; i < n; i++ {
		rec := raw[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] > 9 {
			return fmt.Errorf("%s: record %d has label %d; CIFAR-10 labels are 0..9", path, i, rec[0])
		}
		d.Labels = append(d.Labels, int32(rec[0]))
		d.U8 = append(d.U8, rec[1:]...)
	}
	return nil
}

// LoadCIFAR10 loads the training (data_batch_1..5.bin) and test
// (test_batch.bin) splits from dir or dir/cifar-10-batches-bin.
func LoadCIFAR10(dir string) (train, test *Dataset, err error) {
	if _, err := os.Stat(filepath.Join(dir, cifarTestFile)); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir, "cifar-10-batches-bin", cifarTestFile)); err2 == nil {
			dir = filepath.Join(dir, "cifar-10-batches-bin")
		}
	}
	train = &Dataset{Shape: []int{3, 32, 32}, Classes: 10}
	test = &Dataset{Shape: []int{3, 32, 32}, Classes: 10}
	for _, f := range cifarTrainFiles {
		if err := ReadCIFAR(filepath.Join(dir, f), train); err != nil {
			return nil, nil, err
		}
	}
	if err := ReadCIFAR(filepath.Join(dir, cifarTestFile), test); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// extractMembers copies the named regular files of a .tar.gz archive, found
// under any folder, into dest (each through a temporary file). Other
// members are skipped; nothing is written outside dest.
func extractMembers(archive, dest string, names []string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %v", archive, err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %v", archive, err)
		}
		base := filepath.Base(h.Name)
		if h.Typeflag != tar.TypeReg || !want[base] {
			continue
		}
		tmp, err := createTemp(dest, ".extract-")
		if err != nil {
			return err
		}
		if _, err := io.Copy(tmp, tr); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return fmt.Errorf("%s: %s: %v", archive, h.Name, err)
		}
		tmp.Close()
		if err := os.Rename(tmp.Name(), filepath.Join(dest, base)); err != nil {
			return err
		}
		delete(want, base)
	}
	if len(want) > 0 {
		for n := range want {
			return fmt.Errorf("%s: no member %s", archive, n)
		}
	}
	return nil
}
