package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/pluginhost/internal/testplugins"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// testCache is the compilation cache the package's tests share, so that each Go plugin
// compiles once per test binary.
var testCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tally-plugin-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testCache = filepath.Join(dir, "cache")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The Go plugins under testdata/plugins.
const (
	recorderPkg = "./testdata/plugins/recorder"
	hostilePkg  = "./testdata/plugins/hostile"
)

// compiled records, per Go test plugin, that it has been compiled into testCache.
var compiled sync.Map // package -> func() error

// goPlugin builds the Go test plugin pkg and makes sure it is compiled in testCache. Compiling
// one takes 10 to 15 seconds under the race detector: tests run in parallel, and each plugin
// compiles once, while the tests that need it wait.
func goPlugin(tb testing.TB, pkg string) []byte {
	tb.Helper()
	module := plugintest.Build(tb, pkg)
	compile, _ := compiled.LoadOrStore(pkg, sync.OnceValue(func() error {
		dir, err := os.MkdirTemp("", "tally-plugin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		file := filepath.Join(dir, filepath.Base(pkg)+".wasm")
		if err := os.WriteFile(file, module, 0o644); err != nil {
			return err
		}
		h, err := New(testSettings(tb, dir, Flags{}), io.Discard, func(string) {})
		if err != nil {
			return err
		}
		defer h.Close()
		p, err := h.Load(context.Background(), file)
		if err == nil {
			p.Close()
		}
		return err
	}))
	if err := compile.(func() error)(); err != nil {
		tb.Fatal(err)
	}
	return module
}

var readEvents = sync.OnceValues(func() ([]*event.Event, error) {
	return plugintest.ReadEvents("testdata/events.jsonl")
})

// testEvents are the events of a real run (tally run --artifacts on compat playbooks).
func testEvents(t testing.TB) []*event.Event {
	t.Helper()
	events, err := readEvents()
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func noEnv(string) string { return "" }

// testSettings are settings for a run with the plugins in dir and no stdout plugin there.
func testSettings(t testing.TB, dir string, flags Flags) Settings {
	t.Helper()
	flags.CallbackPath = append(flags.CallbackPath, dir)
	s, err := Resolve(&config.Config{}, flags, noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.CacheDir = testCache
	return s
}

// outcome is what a run of plugins gave.
type outcome struct {
	terminal, log strings.Builder
	mu            sync.Mutex
	warnings      []string
	display       []string // the events the built-in display was given: "seq event"
	err           error    // Run.Err
}

func (o *outcome) warn(w string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.warnings = append(o.warnings, w)
}

// display stands in for the built-in display, recording what it is given.
type display struct{ o *outcome }

func (d display) Name() string { return "display" }
func (d display) Event(e *event.Event) error {
	d.o.mu.Lock()
	defer d.o.mu.Unlock()
	d.o.display = append(d.o.display, fmt.Sprintf("%d %s", e.Seq, e.Event))
	return nil
}
func (d display) Close() error { return nil }

// runPlugins starts the plugins s chooses and delivers events to each from a goroutine of its
// own, as the collector does.
func runPlugins(t testing.TB, s Settings, events []*event.Event) (*outcome, error) {
	t.Helper()
	return runPluginsVerbose(t, s, events, 0)
}

// runPluginsVerbose is runPlugins with the plugins told the run's verbosity.
func runPluginsVerbose(t testing.TB, s Settings, events []*event.Event, verbosity int) (*outcome, error) {
	t.Helper()
	o := &outcome{}
	run, err := Start(context.Background(), s, Output{
		Terminal:  &syncWriter{b: &o.terminal},
		Log:       &syncWriter{b: &o.log},
		Warn:      o.warn,
		JobID:     "job-1",
		Verbosity: verbosity,
		Fallback:  func() collector.Callback { return display{o} },
	})
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	for _, cb := range run.Callbacks() {
		wg.Go(func() {
			for _, e := range events {
				if err := cb.Event(e); err != nil {
					t.Errorf("%s: Event: %v", cb.Name(), err)
				}
			}
			if err := cb.Close(); err != nil {
				t.Errorf("%s: Close: %v", cb.Name(), err)
			}
		})
	}
	wg.Wait()
	o.err = run.Err()
	if err := run.Close(); err != nil {
		t.Error(err)
	}
	return o, nil
}

// syncWriter is a strings.Builder that plugins' goroutines share.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// recorded reads the recorder plugin's events.txt.
func recorded(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "events.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// wantRecorded is what the recorder writes for events.
func wantRecorded(events []*event.Event) []string {
	var lines []string
	for _, e := range events {
		lines = append(lines, fmt.Sprintf("rec %d %s", e.Seq, e.Event))
	}
	return lines
}

// touchLog is the line a plugin named name logs at the end of events when it sums every field
// it reads as testplugins.Touch does.
func touchLog(name string, events []*event.Event) string {
	var sum uint64
	for _, e := range events {
		sum += testplugins.Touch(e)
	}
	return fmt.Sprintf("[callback %s] %d events, sum %d\n", name, len(events), sum)
}

func TestRecorderGetsEveryFieldOfEveryEventInOrder(t *testing.T) {
	t.Parallel()
	events := testEvents(t)
	module := goPlugin(t, recorderPkg)
	for _, raw := range []string{"false", "true"} {
		t.Run("raw="+raw, func(t *testing.T) {
			dir, out := t.TempDir(), t.TempDir()
			plugintest.Install(t, dir, "recorder", module)
			s := testSettings(t, dir, Flags{Callbacks: []string{"recorder"}, Options: []string{"recorder.dir=" + out, "recorder.raw=" + raw}})
			o, err := runPlugins(t, s, events)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.warnings) > 0 {
				t.Errorf("warnings: %q", o.warnings)
			}
			if got, want := recorded(t, out), wantRecorded(events); !equal(got, want) {
				t.Errorf("recorded %d events, want %d:\n%s", len(got), len(want), diff(got, want))
			}
			// The sum is over every field, computed by the same code natively: the plugin
			// decoded every value as it was.
			if want := touchLog("recorder", events); o.log.String() != want {
				t.Errorf("log = %q, want %q", o.log.String(), want)
			}
		})
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// diff shows the first line where got and want differ.
func diff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g, w)
		}
	}
	return ""
}

func TestHostilePluginIsContainedAndOthersGetEveryEvent(t *testing.T) {
	t.Parallel()
	events := testEvents(t)
	var firstOK *event.Event
	for _, e := range events {
		if e.Event == event.RunnerOnOK {
			firstOK = e
			break
		}
	}
	at := fmt.Sprintf("on event %d (runner_on_ok)", firstOK.Seq)
	hostile, recorder := goPlugin(t, hostilePkg), goPlugin(t, recorderPkg)
	tests := []struct {
		mode   string
		limits config.Limits
		want   string // a regular expression the one warning must match
		notIn  string // what the warning must not contain
	}{
		{mode: "loop", limits: config.Limits{Timeout: 200 * time.Millisecond}, want: "ran longer than its time limit of 200ms and was stopped"},
		// A time limit to spare: on a loaded machine, filling 64 MiB can take seconds.
		{mode: "membomb", limits: config.Limits{Memory: 64 << 20, Timeout: time.Minute}, want: `it ran out of memory \(its limit is 64 MiB\)`},
		{mode: "bigalloc", limits: config.Limits{Memory: 64 << 20, Timeout: time.Minute}, want: `it ran out of memory \(its limit is 64 MiB\)`},
		{mode: "panic", want: `it returned an error: event \d+ \(runner_on_ok\): panic: hostile plugin panics`},
		{mode: "error", want: "it returned an error: event .*: hostile plugin fails"},
		{mode: "readfile", want: `read /etc/passwd: "", open /etc/passwd: `, notIn: "root:"},
		{mode: "env", want: `environment: \[\]`},
		{mode: "spam", limits: config.Limits{Output: 64 << 10}, want: "wrote more than its output limit of 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			dir, out := t.TempDir(), t.TempDir()
			plugintest.Install(t, dir, "hostile", hostile)
			plugintest.Install(t, dir, "recorder", recorder)
			s := testSettings(t, dir, Flags{Callbacks: []string{"hostile", "recorder"}, Options: []string{"hostile.mode=" + tt.mode, "recorder.dir=" + out}})
			s.PluginLimits["hostile"] = tt.limits
			o, err := runPlugins(t, s, events)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.warnings) != 1 {
				t.Fatalf("warnings: %q, want one", o.warnings)
			}
			w := o.warnings[0]
			prefix := "callback plugin hostile failed " + at + " and is disabled for the rest of the run: "
			if !strings.HasPrefix(w, prefix) || !regexp.MustCompile(tt.want).MatchString(w) {
				t.Errorf("warning %q\nwant %q and %q\nlog %q", w, prefix, tt.want, o.log.String())
			}
			if tt.notIn != "" && strings.Contains(w, tt.notIn) {
				t.Errorf("warning %q contains %q", w, tt.notIn)
			}
			if got, want := recorded(t, out), wantRecorded(events); !equal(got, want) {
				t.Errorf("the other plugin recorded %d events, want %d:\n%s", len(got), len(want), diff(got, want))
			}
			if o.err != nil {
				t.Errorf("Run.Err = %v with on_plugin_error warn", o.err)
			}
		})
	}
}

func TestHostilePluginCannotLeaveItsDirectory(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	granted := filepath.Join(parent, "granted")
	if err := os.Mkdir(granted, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plugintest.Install(t, dir, "hostile", goPlugin(t, hostilePkg))
	s := testSettings(t, dir, Flags{Callbacks: []string{"hostile"}, Options: []string{"hostile.mode=escape", "hostile.dir=" + granted}})
	o, err := runPlugins(t, s, testEvents(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.warnings) != 1 {
		t.Fatalf("warnings: %q, want one", o.warnings)
	}
	for _, want := range []string{"write inside: <nil>", "write ..: open ", "write absolute: open ", "symlink: symlink ", "write through symlink: open "} {
		if !strings.Contains(o.warnings[0], want) {
			t.Errorf("warning %q does not say %q", o.warnings[0], want)
		}
	}
	if data, err := os.ReadFile(filepath.Join(granted, "inside.txt")); string(data) != "ok" {
		t.Errorf("inside.txt: %q, %v; the granted directory should be writable", data, err)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the plugin wrote outside its directory: %s holds %q", parent, names)
	}
}

func TestOnPluginErrorFailFailsTheRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plugintest.Install(t, dir, "hostile", goPlugin(t, hostilePkg))
	s := testSettings(t, dir, Flags{Callbacks: []string{"hostile"}, Options: []string{"hostile.mode=error"}})
	s.FailRun = true
	o, err := runPlugins(t, s, testEvents(t))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(o.err, ErrPluginFailed) || !strings.Contains(o.err.Error(), "hostile plugin fails") {
		t.Errorf("Run.Err = %v, want ErrPluginFailed saying why", o.err)
	}
}

// installTiny writes a tiny plugin as dir/name.wasm.
func installTiny(t *testing.T, dir, name string, tp tiny) string {
	t.Helper()
	return plugintest.Install(t, dir, name, tp.module())
}

func TestMisbehavingModuleIsDisabled(t *testing.T) {
	tests := []struct {
		name string
		tiny tiny
		want string
	}{
		{"garbage", tiny{events: i64Const(0x00f0_0000_0000_0010)}, "it returned garbage: 16 bytes at 15728640 are outside its memory"},
		{"badalloc", tiny{alloc: i32Const(-16)}, "tally_alloc returned a buffer outside its memory"},
		{"trap", tiny{events: opUnreachable}, "it crashed: wasm error: unreachable"},
		{"loop", tiny{events: opLoopForever}, "it ran longer than its time limit of 100ms and was stopped"},
		{"error", tiny{events: i64Const(metaAt<<32 | 4)}, `it returned an error: {"na`},
	}
	events := testEvents(t)[:5] // playbook_on_start, play_start, task_start, runner_on_start x2
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.tiny.meta = tinyMeta(tt.name, "aggregate", "")
			installTiny(t, dir, tt.name, tt.tiny)
			s := testSettings(t, dir, Flags{Callbacks: []string{tt.name}})
			if tt.name == "loop" { // the others must not meet a time limit, however busy the machine
				s.Limits.Timeout = 100 * time.Millisecond
			}
			o, err := runPlugins(t, s, events)
			if err != nil {
				t.Fatal(err)
			}
			// The events that queued while the plugin was busy went with the first one.
			want := fmt.Sprintf("callback plugin %s failed on event 1 (playbook_on_start) and is disabled for the rest of the run: %s", tt.name, tt.want)
			batch := regexp.MustCompile(`events 1-\d \(playbook_on_start to \w+\)`)
			if len(o.warnings) != 1 || o.warnings[0] != want && batch.ReplaceAllString(o.warnings[0], "event 1 (playbook_on_start)") != want {
				t.Errorf("warnings %q\nwant [%q]", o.warnings, want)
			}
		})
	}
}

func TestLoadRefusesWhatIsNotAPlugin(t *testing.T) {
	liar := `{"name":"honest","version":"1","type":"aggregate","event_schema":1,
		"events":["runner_on_ok","runner_on_everything"],
		"options":[{"name":"home","type":"str","env":["HOME"]},{"name":"root","type":"dir","default":"/"}]}`
	tests := []struct {
		name   string
		module []byte
		want   []string
	}{
		{"notwasm", []byte("#!/bin/sh\necho hello\n"), []string{"not a valid WebAssembly module: no WebAssembly header"}},
		{"abi2", tiny{marker: "tally_abi_version_2", meta: tinyMeta("abi2", "aggregate", "")}.module(),
			[]string{"it implements plugin ABI version 2, but this tally implements version 1"}},
		{"nomarker", tiny{marker: "hello", meta: tinyMeta("nomarker", "aggregate", "")}.module(),
			[]string{"not a tally plugin: it exports no tally_abi_version_N function"}},
		{"liar", tiny{meta: liar}.module(), []string{
			`it calls itself "honest", but its file says "liar"`,
			`subscribes to unknown event "runner_on_everything"`,
			`option "home": environment variable "HOME": must be TALLY_HONEST_SOMETHING`,
			`option "root": a dir option cannot have a default`,
			`option "root": a dir option needs the "filesystem" capability`,
		}},
		{"nonsense", tiny{meta: "{not json"}.module(), []string{"metadata is not valid JSON"}},
	}
	h, err := New(testSettings(t, t.TempDir(), Flags{}), io.Discard, func(w string) { t.Error(w) })
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := plugintest.Install(t, t.TempDir(), tt.name, tt.module)
			p, err := h.Load(context.Background(), file)
			if err == nil {
				p.Close()
				t.Fatal("loaded")
			}
			prefix := fmt.Sprintf("callback plugin %s (%s): ", tt.name, file)
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start %q", err, prefix)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not say %q", err, want)
				}
			}
		})
	}
}

func TestLoopingPluginDoesNotStallGarbageCollection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plugintest.Install(t, dir, "hostile", goPlugin(t, hostilePkg))
	s := testSettings(t, dir, Flags{Callbacks: []string{"hostile"}, Options: []string{"hostile.mode=loop"}})
	s.PluginLimits["hostile"] = config.Limits{Timeout: 3 * time.Second}
	// Collect garbage over and over while the plugin loops: a collection must stop every
	// goroutine, the one running the plugin too, and would wait for the time limit if the
	// plugin never let it. What is measured is the time to stop the world, not the whole
	// collection, whose marking takes long on a loaded machine under the race detector.
	before := gcStopping()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			runtime.GC()
		}
	}()
	o, err := runPlugins(t, s, testEvents(t))
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if len(o.warnings) != 1 || !strings.Contains(o.warnings[0], "time limit of 3s") {
		t.Errorf("warnings %q, want the plugin stopped at its time limit", o.warnings)
	}
	if worst := slowestSince(before, gcStopping()); worst > time.Second {
		t.Errorf("stopping the world for a garbage collection took %v while the plugin looped", worst)
	}
}

// gcStopping reads the histogram of the times garbage collections took to stop the world.
func gcStopping() *metrics.Float64Histogram {
	m := []metrics.Sample{{Name: "/sched/pauses/stopping/gc:seconds"}}
	metrics.Read(m)
	return m[0].Value.Float64Histogram()
}

// slowestSince returns the lower bound of the highest bucket that gained a sample between
// two readings of a histogram of seconds.
func slowestSince(before, after *metrics.Float64Histogram) time.Duration {
	for i := len(after.Counts) - 1; i >= 0; i-- {
		if after.Counts[i] > before.Counts[i] {
			return time.Duration(max(after.Buckets[i], 0) * float64(time.Second))
		}
	}
	return 0
}

func TestPluginsThatCannotLoadAreSkippedWhileTheOthersRun(t *testing.T) {
	t.Parallel()
	dir, out := t.TempDir(), t.TempDir()
	plugintest.Install(t, dir, "recorder", goPlugin(t, recorderPkg))
	plugintest.Install(t, dir, "notwasm", []byte("#!/bin/sh\n"))
	installTiny(t, dir, "abi2", tiny{marker: "tally_abi_version_2", meta: tinyMeta("abi2", "aggregate", "")})
	installTiny(t, dir, "liar", tiny{meta: tinyMeta("honest", "aggregate", "")})
	installTiny(t, dir, "greedy", tiny{meta: tinyMeta("greedy", "aggregate", `,"results":true`)})
	s := testSettings(t, dir, Flags{Callbacks: []string{"notwasm", "abi2", "recorder", "liar", "greedy"}, Options: []string{"recorder.dir=" + out}})
	events := testEvents(t)
	o, err := runPlugins(t, s, events)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"skipping callback plugin notwasm: callback plugin notwasm (" + dir + "/notwasm.wasm): not a valid WebAssembly module: no WebAssembly header",
		"skipping callback plugin abi2: callback plugin abi2 (" + dir + "/abi2.wasm): it implements plugin ABI version 2, but this tally implements version 1",
		"skipping callback plugin liar: callback plugin liar (" + dir + "/liar.wasm): metadata: it calls itself \"honest\", but its file says \"liar\"",
		"skipping callback plugin greedy: callback plugin greedy (" + dir + "/greedy.wasm): metadata: it asks for the consolidated results but does not export tally_results",
	}
	if !slices.Equal(o.warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(o.warnings, "\n"), strings.Join(want, "\n"))
	}
	if got := recorded(t, out); !equal(got, wantRecorded(events)) {
		t.Errorf("the plugin that loaded recorded %d events, want %d", len(got), len(events))
	}
}
