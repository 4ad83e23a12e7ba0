package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// The metadata cache keeps what each module said about itself (tally_describe), by the
// module's SHA-256, beside its instrumented copy in the compilation cache: listing plugins and
// starting a run then need not start a module to learn what it is. A changed file has another
// SHA-256, hence another entry; entries age out with the compiled code (pruneCache).
//
// Hashing the bundled plugins (35 MB) would take most of a listing's time, so the cache also
// keeps each file's SHA-256 under its fingerprint: device, inode, size, modification and change
// times. Writing or replacing the file changes the fingerprint (the change time cannot be set
// back), and the file is then read and hashed again, as git's index does.

// identify returns the plugin file path, called name, with its SHA-256: from its fingerprint
// when the cache knows it, without reading the file, else by reading it.
func (h *Host) identify(name, path string) (*moduleFile, error) {
	// The name prefixes every line of its log output: no odd characters, no great length.
	if err := meta.ValidName(name); err != nil {
		return nil, fmt.Errorf("file %s: %w", filepath.Base(path), err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	fp, ok := fingerprint(st)
	if h.cacheDir == "" || !ok {
		return readModule(name, path)
	}
	index := filepath.Join(h.cacheDir, "files", fmt.Sprintf("%x", sha256.Sum256([]byte(path))))
	if known, err := os.ReadFile(index); err == nil {
		var sum [32]byte
		if rest, ok := strings.CutPrefix(string(known), fp+" "); ok && len(rest) == 2*len(sum) {
			if _, err := hex.Decode(sum[:], []byte(rest)); err == nil {
				return &moduleFile{name: name, path: path, sum: sum}, nil
			}
		}
	}
	file, err := readModule(name, path)
	if err != nil {
		return nil, err
	}
	// The fingerprint taken before reading: a file changed since will not match it. A failed
	// write only means the next run hashes the file again.
	_ = writeFileAtomic(index, fmt.Appendf(nil, "%s %x", fp, file.sum))
	return file, nil
}

// fingerprint identifies a file's content as long as it is not written or replaced; false
// when the system does not say enough.
func fingerprint(st os.FileInfo) (string, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d:%d:%d:%d:%d", sys.Dev, sys.Ino, st.Size(), st.ModTime().UnixNano(), time.Unix(sys.Ctim.Unix()).UnixNano()), true
}

// metaFile is the cache entry of the module whose SHA-256 is sum.
func (h *Host) metaFile(sum [32]byte) string {
	return filepath.Join(h.cacheDir, "modules", fmt.Sprintf("%x-meta%d.json", sum, wire.ABIVersion))
}

// storeMeta keeps doc, the checked metadata of the module whose SHA-256 is sum. A failed
// write only means the next run starts the module to ask again.
func (h *Host) storeMeta(sum [32]byte, doc []byte) {
	if h.cacheDir != "" {
		_ = writeFileAtomic(h.metaFile(sum), doc)
	}
}

// cachedMeta returns the cached metadata of file, if a run, a listing or tally plugins warm
// has described that module before under the same name.
func (h *Host) cachedMeta(file *moduleFile) (meta.Metadata, bool) {
	var m meta.Metadata
	if h.cacheDir == "" {
		return m, false
	}
	doc, err := os.ReadFile(h.metaFile(file.sum))
	if err != nil || decodeMeta(doc, &m) != nil || m.Name != file.name {
		return meta.Metadata{}, false
	}
	return m, true
}

// Describe returns what the plugin file path is and says about itself: from the metadata
// cache when the module has been described before, else by loading it (which fills the cache).
func (h *Host) Describe(ctx context.Context, path string) (*Description, error) {
	name := pluginName(path)
	file, err := h.identify(name, path)
	if err != nil {
		return nil, fmt.Errorf("callback plugin %s (%s): %w", name, path, err)
	}
	if m, ok := h.cachedMeta(file); ok {
		return &Description{Name: name, Path: path, SHA256: fmt.Sprintf("%x", file.sum), Meta: m}, nil
	}
	p, err := h.Load(ctx, path)
	if err != nil {
		return nil, err
	}
	p.Close()
	return &p.Description, nil
}

// Warm loads the plugin file path, so that its compiled code and its metadata are in the
// cache for the runs to come.
func (h *Host) Warm(ctx context.Context, path string) error {
	p, err := h.Load(ctx, path)
	if err != nil {
		return err
	}
	p.Close()
	return nil
}

// pluginName is the name of the plugin file path: its file name without .wasm.
func pluginName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".wasm")
}
