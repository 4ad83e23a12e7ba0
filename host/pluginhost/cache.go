package pluginhost

import (
	"fmt"
	"os"
	"path/filepath"

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
	return cache, dir
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
func instrument(cacheDir string, sum [32]byte, module []byte) ([]byte, error) {
	if cacheDir == "" {
		return interrupt.Instrument(module)
	}
	file := filepath.Join(cacheDir, "modules", fmt.Sprintf("%x-i%d.wasm", sum, interrupt.Version))
	if out, err := os.ReadFile(file); err == nil {
		return out, nil
	}
	out, err := interrupt.Instrument(module)
	if err != nil {
		return nil, err
	}
	// A failed write only means the next run instruments again.
	_ = writeFileAtomic(file, out)
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
