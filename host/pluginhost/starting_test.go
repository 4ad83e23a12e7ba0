package pluginhost

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// TestDescribeReadsTheMetadataCacheKeyedByTheModule pins that a plugin described once is
// described from the cache, without starting its module, and that a changed file is described
// anew.
func TestDescribeReadsTheMetadataCacheKeyedByTheModule(t *testing.T) {
	dir := t.TempDir()
	file := installTiny(t, dir, "printer", tiny{meta: tinyMeta("printer", "stdout", "")})
	s := testSettings(t, dir, Flags{})
	s.CacheDir = filepath.Join(t.TempDir(), "cache")
	h, err := New(s, io.Discard, func(w string) { t.Error(w) })
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	version := func() string {
		t.Helper()
		d, err := h.Describe(context.Background(), file)
		if err != nil {
			t.Fatal(err)
		}
		return d.Meta.Version
	}
	if v := version(); v != "1.0" {
		t.Fatalf("first description: version %q, want 1.0", v)
	}
	// A forged entry for the module shows that the next description reads the cache.
	module, err := readModule("printer", file)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(tinyMeta("printer", "stdout", ""), `"version":"1.0"`, `"version":"cached"`, 1)
	if err := os.WriteFile(h.metaFile(module.sum), []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != "cached" {
		t.Errorf("second description: version %q, want the cache's", v)
	}
	installTiny(t, dir, "printer", tiny{meta: strings.Replace(tinyMeta("printer", "stdout", ""), `"version":"1.0"`, `"version":"2.0"`, 1)})
	if v := version(); v != "2.0" {
		t.Errorf("description of the changed file: version %q, want 2.0", v)
	}
}

// TestPluginStartsInTheBackgroundWhenItsMetadataIsCached pins that a plugin the cache
// describes is not waited for by Start, that the events wait for it and all reach it in order,
// and that one failing to start there is reported and skipped as before, the others going on.
func TestPluginStartsInTheBackgroundWhenItsMetadataIsCached(t *testing.T) {
	t.Parallel()
	events := testEvents(t)
	dir, out := t.TempDir(), t.TempDir()
	plugintest.Install(t, dir, "recorder", goPlugin(t, recorderPkg)) // goPlugin fills testCache
	plugintest.Install(t, dir, "hostile", goPlugin(t, hostilePkg))
	s := testSettings(t, dir, Flags{Callbacks: []string{"recorder", "hostile"},
		Options: []string{"recorder.dir=" + out, "hostile.mode=error", "hostile.sleep=never"}})
	run, err := Start(context.Background(), s, Output{Log: io.Discard, Warn: func(string) {}, JobID: "job-1",
		Fallback: func() collector.Callback { return display{&outcome{}} }})
	if err != nil {
		t.Fatal(err)
	}
	for _, cb := range run.Callbacks()[1:] {
		if _, ok := cb.(*starting); !ok {
			t.Errorf("callback %s is a %T, want one starting in the background", cb.Name(), cb)
		}
		_ = cb.Close()
	}
	run.Close()

	o, err := runPlugins(t, s, events)
	if err != nil {
		t.Fatal(err)
	}
	want := "skipping callback plugin hostile: callback plugin hostile: configure: "
	if len(o.warnings) != 1 || !strings.HasPrefix(o.warnings[0], want) || !strings.Contains(o.warnings[0], `"never"`) {
		t.Errorf("warnings %q, want one starting %q", o.warnings, want)
	}
	if got, want := recorded(t, out), wantRecorded(events); !equal(got, want) {
		t.Errorf("recorded %d events, want %d:\n%s", len(got), len(want), diff(got, want))
	}
}
