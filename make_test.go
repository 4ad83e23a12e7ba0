package tally

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakePluginsSkipsTheCPluginWithoutClang pins that make plugins (and so make run) needs
// nothing but Go: without a clang that builds for WASI, the C plugin is skipped with a word, and
// with one it is built.
func TestMakePluginsSkipsTheCPluginWithoutClang(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	for _, tt := range []struct {
		name, clang, want string
		built             bool
	}{
		{"no clang", "tally-test-no-such-clang", "plugin tree (C) skipped: tally-test-no-such-clang cannot build for WASI here", false},
		{"clang", "clang", "plugin tree (plugins/tree/Makefile)", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.built {
				if _, err := exec.LookPath("clang"); err != nil {
					t.Skip("no clang: make deps installs it")
				}
			}
			out := t.TempDir()
			cmd := exec.Command("make", "-s", "plugins", "PLUGIN_SRC=plugins/tree/", "PLUGIN_DIR="+out, "CLANG="+tt.clang)
			got, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(got), tt.want) {
				t.Fatalf("make plugins: %v, want %q:\n%s", err, tt.want, got)
			}
			if _, err := os.Stat(filepath.Join(out, "tree.wasm")); (err == nil) != tt.built {
				t.Errorf("tree.wasm built: %v, want %v", err == nil, tt.built)
			}
		})
	}
}
