package pluginhost

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

func TestListAndInspect(t *testing.T) {
	root := t.TempDir()
	first, second := filepath.Join(root, "first"), filepath.Join(root, "second")
	installTiny(t, first, "opts", tiny{meta: optsMeta})
	installTiny(t, second, "opts", tiny{meta: optsMeta})
	installTiny(t, second, "printer", tiny{meta: tinyMeta("printer", "stdout", `,"description":"Prints batches."`), print: true})
	if err := os.WriteFile(filepath.Join(second, "broken.wasm"), []byte("nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := testSettings(t, second, Flags{CallbackPath: []string{first}, StdoutCallback: "printer", Callbacks: []string{"opts"}})
	h, err := New(s, io.Discard, func(w string) { t.Error(w) })
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	listings, err := h.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := WriteList(&out, listings, s); err != nil {
		t.Fatal(err)
	}
	want := `NAME     TYPE       VERSION  USE  FILE                        SHADOWS
broken   -          -        -  $R/second/broken.wasm  -
opts     aggregate  1.0      enabled  $R/first/opts.wasm     $R/second/opts.wasm
printer  stdout     1.0      stdout  $R/second/printer.wasm  -

error: callback plugin broken ($R/second/broken.wasm): not a valid WebAssembly module: no WebAssembly header

searched, in order: $R/first, $R/second
`
	if got := strings.ReplaceAll(out.String(), root, "$R"); !sameTable(got, want) {
		t.Errorf("list:\n%s\nwant:\n%s", got, want)
	}

	p, err := h.Describe(context.Background(), filepath.Join(first, "opts.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := WriteInspect(&out, p, []string{filepath.Join(second, "opts.wasm")}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"name:         opts\n", "type:         aggregate\n", "shadows:      $R/second/opts.wasm\n",
		"abi version:  1\n", "events:       playbook_on_start, playbook_on_play_start,", "capabilities: filesystem\n",
		"  count (int; default 3; env TALLY_OPTS_COUNT)\n", "  label (str; required)\n", "  dir (dir; env TALLY_OPTS_DIR)\n",
	} {
		if got := strings.ReplaceAll(out.String(), root, "$R"); !strings.Contains(got, want) {
			t.Errorf("inspect:\n%s\ndoes not say %q", got, want)
		}
	}
}

func TestListOfNothingSaysWhereItLookedAndHowToGetPlugins(t *testing.T) {
	empty := t.TempDir()
	s := testSettings(t, empty, Flags{})
	var out strings.Builder
	if err := WriteList(&out, nil, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"searched, in order: " + empty + "\n", "stdout plugin: default is not there; tally's built-in display draws the run",
		"no callback plugins found", "--callback-path build/plugins", "make install"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("list:\n%s\ndoes not say %q", out.String(), want)
		}
	}
}

// sameTable compares tables ignoring how many spaces separate columns.
func sameTable(a, b string) bool {
	norm := func(s string) string {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.Join(strings.Fields(l), " ")
		}
		return strings.Join(lines, "\n")
	}
	return norm(a) == norm(b)
}

// TestCheck also pins that check grants each dir option a temporary directory, even one the
// operator gave (real stays empty), and says what the plugin wrote there.
func TestCheck(t *testing.T) {
	dir, real := t.TempDir(), t.TempDir()
	tests := []struct {
		name, file string
		flags      []string
		want       string
	}{
		{"a good plugin", installTiny(t, dir, "agg", tiny{meta: tinyMeta("agg", "aggregate", "")}), nil, `ok    load: WebAssembly module, ABI version, exports, imports, metadata
ok    configure with the options' defaults and the ones given
ok    deliver one event of each type agg subscribes to, then close
`},
		{"options", installTiny(t, dir, "opts", tiny{meta: optsMeta}), []string{"opts.label=x"}, "ok    deliver one event"},
		{"a missing option", filepath.Join(dir, "opts.wasm"), nil, `FAIL  configure with the options' defaults and the ones given, each dir option a temporary directory: callback plugin opts: plugin opts: option "label" is required`},
		{"a crash", installTiny(t, dir, "crasher", tiny{meta: tinyMeta("crasher", "stdout", ""), events: opUnreachable}), nil,
			"FAIL  deliver one event of each type crasher subscribes to, then close: callback plugin crasher failed on event"},
		{"not a plugin", installTiny(t, dir, "abi9", tiny{marker: "tally_abi_version_9", meta: tinyMeta("abi9", "aggregate", "")}), nil,
			"FAIL  load: WebAssembly module, ABI version, exports, imports, metadata: callback plugin abi9 (" + dir + "/abi9.wasm): it implements plugin ABI version 9"},
		{"a required dir option", installTiny(t, dir, "needsdir", tiny{meta: tinyMeta("needsdir", "aggregate",
			`,"options":[{"name":"dir","type":"dir","required":true}],"capabilities":["filesystem"]`)}), nil,
			`ok    configure with the options' defaults and the ones given, each dir option a temporary directory
ok    deliver one event of each type needsdir subscribes to, then close
      dir: wrote nothing
`},
		{"a dir given is not written to", plugintest.Install(t, dir, "recorder", goPlugin(t, recorderPkg)), []string{"recorder.dir=" + real},
			"ok    deliver one event of each type recorder subscribes to, then close\n      dir: wrote events.txt ("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(testSettings(t, dir, Flags{Options: tt.flags}), io.Discard, func(w string) { t.Error(w) })
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			var out strings.Builder
			err = h.Check(context.Background(), tt.file, &out)
			if (err != nil) != strings.Contains(tt.want, "FAIL") || !strings.Contains(out.String(), tt.want) {
				t.Errorf("Check: %v\n%s\nwant %q", err, out.String(), tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(real); len(entries) > 0 {
		t.Errorf("check wrote into the directory the operator gave: %v", entries)
	}
}

func TestCheckSampleRunStatsCountItsResults(t *testing.T) {
	var want event.HostStats
	var stats *event.Stats
	for _, e := range sampleRun() {
		failed, _ := e.Data.Result["failed"].(bool)
		switch e.Event {
		case event.RunnerOnOK:
			want.OK++
		case event.RunnerOnFailed:
			want.Failures++
		case event.RunnerOnSkipped:
			want.Skipped++
		case event.RunnerOnUnreachable:
			want.Unreachable++
		case event.PlaybookOnStats:
			stats = e.Data.Stats
		}
		if failed != (e.Event == event.RunnerOnFailed || e.Event == event.RunnerItemOnFailed) {
			t.Errorf("%s: failed is %v", e.Event, failed)
		}
	}
	want.Processed = 1
	if got := stats.Hosts["localhost"]; got != want || stats.Status == "successful" {
		t.Errorf("stats %s %+v, want the counts of the results sent, %+v, and not successful", stats.Status, got, want)
	}
}
