package pluginhost

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/tallyrun/tally/host/pluginhost/internal/interrupt"
)

// openCache returns the compilation cache kept in dir, which it makes private (0700): the
// cache holds native code that tally runs. When dir cannot be used it warns and returns an
// in-memory cache and "": plugins then compile on every run.
func openCache(dir string, warn func(string)) (wazero.CompilationCache, string) {
	if dir == "" {
		return wazero.NewCompilationCache(), ""
	}
	err := privateDir(dir)
	var cache wazero.CompilationCache
	if err == nil {
		cache, err = wazero.NewCompilationCacheWithDir(dir)
	}
	if err != nil {
		warn(fmt.Sprintf("plugins will compile on every run: cache directory %s: %v", dir, err))
		return wazero.NewCompilationCache(), ""
	}
	pruneCache(dir, time.Now().Add(-cacheMaxAge))
	return cache, dir
}

// cacheMaxAge is how long a compiled plugin stays in the cache without being used: every
// version of every plugin ever run would otherwise stay, tens of megabytes each.
const cacheMaxAge = 30 * 24 * time.Hour

// pruneCache removes from the cache in dir the entries last used before cutoff, and the
// directories of other wazero versions (wazero keeps its entries under a directory named after
// its version, which tally's own entries in "modules" never match). Use is the file's access
// time, which Linux's default relatime updates at most daily, or its modification time where
// that is later. Errors are ignored: a file left behind is only space.
func pruneCache(dir string, cutoff time.Time) {
	version := wazeroVersion()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			continue
		}
		if strings.HasPrefix(e.Name(), "wazero-") && !strings.HasPrefix(e.Name(), "wazero-"+version+"-") {
			os.RemoveAll(sub)
			continue
		}
		files, _ := os.ReadDir(sub)
		for _, f := range files {
			if info, err := f.Info(); err == nil && info.Mode().IsRegular() && lastUse(info).Before(cutoff) {
				os.Remove(filepath.Join(sub, f.Name()))
			}
		}
	}
}

// lastUse is the later of a file's access and modification times.
func lastUse(info os.FileInfo) time.Time {
	t := info.ModTime()
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		if at := time.Unix(st.Atim.Unix()); at.After(t) {
			t = at
		}
	}
	return t
}

// privateDir creates dir with mode 0700, or makes an existing dir 0700.
func privateDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if st.Mode().Perm() != 0o700 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}

// instrument returns the module with interrupt checks (package interrupt), from the cache
// when a run has made it before: instrumenting a Go plugin takes about as long as loading it
// from the cache.
func instrument(cacheDir string, sum [32]byte, read func() ([]byte, error)) ([]byte, error) {
	file := filepath.Join(cacheDir, "modules", fmt.Sprintf("%x-i%d.wasm", sum, interrupt.Version))
	if cacheDir != "" {
		if out, err := os.ReadFile(file); err == nil {
			return out, nil
		}
	}
	module, err := read()
	if err != nil {
		return nil, err
	}
	out, err := interrupt.Instrument(module)
	if err != nil {
		return nil, err
	}
	if cacheDir != "" {
		// A failed write only means the next run instruments again.
		_ = writeFileAtomic(file, out)
	}
	return out, nil
}

// writeFileAtomic writes data to file through a temporary file and a rename, so that a
// concurrent reader sees the whole file or none.
func writeFileAtomic(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// wazeroVersion is the version wazero names its cache directory after: its module's version,
// else the main module's, else "dev" (as wazero's internal/version computes it).
func wazeroVersion() string {
	var v string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if strings.Contains(d.Path, "github.com/tetratelabs/wazero") {
				v = d.Version
			}
		}
		if v == "" || v == "(devel)" {
			v = bi.Main.Version
		}
	}
	if v == "" || v == "(devel)" {
		return "dev"
	}
	return v
}
