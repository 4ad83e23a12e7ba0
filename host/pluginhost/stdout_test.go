package pluginhost

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStdoutPluginAndTheBuiltInDisplay(t *testing.T) {
	events := testEvents(t)
	var all []string
	for _, e := range events {
		all = append(all, fmt.Sprintf("%d %s", e.Seq, e.Event))
	}
	tests := []struct {
		name     string
		stdout   string
		enabled  []string
		warnings []string // each a prefix of a warning, in order
		display  []string // the events the built-in display gets
		terminal bool     // the stdout plugin printed
	}{
		{name: "default plugin missing: built-in display, quietly", stdout: "default", display: all},
		{name: "chosen plugin missing", stdout: "fancy",
			warnings: []string{`callback plugin "fancy" not found in `}, display: all},
		{name: "chosen plugin not of type stdout", stdout: "agg",
			warnings: []string{"callback plugin agg is of type aggregate, not stdout; using the built-in display"}, display: all},
		{name: "stdout plugin", stdout: "printer", terminal: true},
		{name: "stdout plugin crashes: the built-in display takes over", stdout: "crasher",
			warnings: []string{"callback plugin crasher failed on event"}, display: all},
		{name: "a stdout plugin among the others is skipped", stdout: "printer", enabled: []string{"other"}, terminal: true,
			warnings: []string{"skipping callback plugin other: callback plugin other is a stdout plugin, and the run's stdout plugin is printer"}},
		{name: "an enabled plugin that is missing is skipped", stdout: "printer", enabled: []string{"nope"}, terminal: true,
			warnings: []string{`skipping callback plugin nope: callback plugin "nope" not found in `}},
	}
	dir := t.TempDir()
	installTiny(t, dir, "agg", tiny{meta: tinyMeta("agg", "aggregate", "")})
	installTiny(t, dir, "printer", tiny{meta: tinyMeta("printer", "stdout", ""), print: true})
	installTiny(t, dir, "other", tiny{meta: tinyMeta("other", "stdout", ""), print: true})
	installTiny(t, dir, "crasher", tiny{meta: tinyMeta("crasher", "stdout", ""), events: opUnreachable})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := runPlugins(t, testSettings(t, dir, Flags{StdoutCallback: tt.stdout, Callbacks: tt.enabled}), events)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %q", o.warnings, tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.HasPrefix(o.warnings[i], w) {
					t.Errorf("warning %q, want %q...", o.warnings[i], w)
				}
			}
			if !slices.Equal(o.display, tt.display) {
				t.Errorf("the built-in display got %d events, want %d:\n%s", len(o.display), len(tt.display), diff(o.display, tt.display))
			}
			term := o.terminal.String()
			if printed := term != "" && strings.ReplaceAll(term, "batch\n", "") == ""; printed != tt.terminal {
				t.Errorf("terminal %q; want the stdout plugin to print: %v", term, tt.terminal)
			}
		})
	}
}

func TestMissingPluginFailsTheRunWhenToldTo(t *testing.T) {
	s := testSettings(t, t.TempDir(), Flags{Callbacks: []string{"nope"}})
	s.FailRun = true
	_, err := runPlugins(t, s, nil)
	if !errors.Is(err, ErrPluginFailed) || !strings.Contains(err.Error(), `"nope" not found`) {
		t.Errorf("err = %v, want ErrPluginFailed saying nope was not found", err)
	}
}

func TestSecondRunCompilesNothing(t *testing.T) {
	dir := t.TempDir()
	installTiny(t, dir, "agg", tiny{meta: tinyMeta("agg", "aggregate", "")})
	s := testSettings(t, dir, Flags{Callbacks: []string{"agg"}})
	s.CacheDir = filepath.Join(t.TempDir(), "tally")
	if _, err := runPlugins(t, s, nil); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(s.CacheDir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("cache directory: %v, %v; want mode 0700", st.Mode(), err)
	}
	first := cacheFiles(t, s.CacheDir)
	var compiled, instrumented, described, known int
	for f := range first {
		switch {
		case strings.HasPrefix(f, "wazero-"):
			compiled++
		case strings.HasPrefix(f, "modules/") && strings.HasSuffix(f, ".wasm"):
			instrumented++
		case strings.HasPrefix(f, "modules/") && strings.HasSuffix(f, ".json"):
			described++
		case strings.HasPrefix(f, "files/"):
			known++
		}
	}
	if compiled != 1 || instrumented != 1 || described != 1 || known != 1 || len(first) != 4 {
		t.Fatalf("after the first run the cache holds %q, want one compiled and one instrumented module, its metadata and its file's fingerprint", slices.Sorted(maps.Keys(first)))
	}
	time.Sleep(10 * time.Millisecond) // so that a rewritten file would show a new time
	if _, err := runPlugins(t, s, nil); err != nil {
		t.Fatal(err)
	}
	if second := cacheFiles(t, s.CacheDir); !maps.EqualFunc(first, second, time.Time.Equal) {
		t.Errorf("the second run changed the cache:\nbefore %v\nafter  %v", first, second)
	}
}

// cacheFiles maps each file under dir to its modification time.
func cacheFiles(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	files := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = info.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
