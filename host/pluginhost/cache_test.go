package pluginhost

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPruneCacheRemovesWhatWasNotUsedAndOtherWazeroVersions(t *testing.T) {
	version := wazeroVersion()
	dir := t.TempDir()
	now := time.Now()
	files := map[string]time.Duration{ // file -> how long ago it was last used
		"modules/used.wasm":                           time.Hour,
		"modules/stale.wasm":                          40 * 24 * time.Hour,
		"wazero-" + version + "-amd64-linux/used":     2 * 24 * time.Hour,
		"wazero-" + version + "-amd64-linux/stale":    31 * 24 * time.Hour,
		"wazero-v0.0.1-amd64-linux/from-an-old-tally": time.Hour,
	}
	for name, age := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	pruneCache(dir, now.Add(-cacheMaxAge))
	for name := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if kept, want := err == nil, filepath.Base(name) == "used" || filepath.Base(name) == "used.wasm"; kept != want {
			t.Errorf("%s: kept %v, want %v", name, kept, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "wazero-v0.0.1-amd64-linux")); err == nil {
		t.Error("the old wazero version's directory is still there")
	}
}
