// Package plugintest helps test plugins. Run runs a plugin natively, as the host would run it
// compiled to WebAssembly, so that a plugin's tests need no WebAssembly: the same encoding,
// decoding and dispatch code runs, only not in a sandbox. Build compiles a plugin to
// WebAssembly, to test the .wasm file itself in the real sandbox with tally's
// host/pluginhost/wasmtest.
package plugintest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// Options are what the host would tell the plugin.
type Options struct {
	// Options are option values, by name, as an operator would set them (text, or values of
	// the option's type); the plugin's defaults fill the rest.
	Options map[string]any
	// JobID, Verbosity and Color are the run's.
	JobID     string
	Verbosity int
	Color     bool
	// CommandLine is the run's --limit, --tags and --skip-tags.
	wire.CommandLine
	// BatchSize is how many events go in one call; 0 sends them all in one.
	BatchSize int
}

// Result is what the plugin wrote.
type Result struct {
	// Terminal is what a stdout plugin drew (for other plugins it is part of Log).
	Terminal string
	// Log is what it wrote to the log, without the host's per-line prefix.
	Log string
}

// Run configures the plugin r drives, delivers the events it subscribed to, and closes it,
// as the host does. It returns the first error, with what the plugin wrote until then.
func Run(r *pluginsdk.Runner, events []*event.Event, opts Options) (*Result, error) {
	m := r.Metadata()
	var terminal, log strings.Builder
	res := &Result{}
	finish := func(err error) (*Result, error) {
		res.Terminal, res.Log = terminal.String(), log.String()
		return res, err
	}
	given := map[string]meta.Setting{}
	for k, v := range opts.Options {
		given[k] = meta.Setting{Value: v, Source: "plugintest.Options"}
	}
	values, err := m.Resolve(given)
	if err != nil {
		return finish(err)
	}
	var term io.Writer = &terminal
	if m.Type != meta.Stdout {
		term = &log
	}
	config := wire.AppendConfig(nil, &wire.Config{JobID: opts.JobID, Options: values, Verbosity: opts.Verbosity, Color: opts.Color, CommandLine: opts.CommandLine})
	if err := r.Configure(config, term, &log); err != nil {
		return finish(err)
	}
	var subscribed []*event.Event
	for _, e := range events {
		if slices.Contains(m.Events, e.Event) {
			subscribed = append(subscribed, e)
		}
	}
	size := opts.BatchSize
	if size <= 0 {
		size = max(len(subscribed), 1)
	}
	for batch := range slices.Chunk(subscribed, size) {
		if m.Results && slices.ContainsFunc(batch, isStats) {
			// As the host: the events before the stats, then the results, then the stats.
			i := slices.IndexFunc(batch, isStats)
			if i > 0 {
				if err := r.Deliver(Encode(batch[:i])); err != nil {
					return finish(err)
				}
			}
			if err := r.DeliverResults(Encode(results(events))); err != nil {
				return finish(err)
			}
			batch = batch[i:]
		}
		if err := r.Deliver(Encode(batch)); err != nil {
			return finish(err)
		}
	}
	return finish(r.Close())
}

func isStats(e *event.Event) bool { return e.Event == event.PlaybookOnStats }

// results are the result events among events, host by host (hosts sorted, each host's in the
// order they came), as the host hands the consolidated results to a plugin.
func results(events []*event.Event) []*event.Event {
	var out []*event.Event
	for _, e := range events {
		if event.ResultStatus(e) != "" {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b *event.Event) int { return strings.Compare(a.Data.Host, b.Data.Host) })
	return out
}

// Encode returns events as one tally_events payload, as the host encodes it.
func Encode(events []*event.Event) []byte {
	var b wire.Batch
	for _, e := range events {
		b.Add(e)
	}
	return bytes.Clone(b.Bytes())
}

// ReadEvents reads an events.jsonl file (tally run --artifacts DIR writes one), with whole
// numbers as ints, as the host has them.
func ReadEvents(path string) ([]*event.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	var events []*event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		var e event.Event
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		e.Data.Result, _ = numbers(e.Data.Result).(map[string]any)
		if e.Data.Task != nil {
			e.Data.Task.Args, _ = numbers(e.Data.Task.Args).(map[string]any)
		}
		if st := e.Data.Stats; st != nil {
			st.GlobalCustomStats, _ = numbers(st.GlobalCustomStats).(map[string]any)
			for h, m := range st.CustomStats {
				st.CustomStats[h], _ = numbers(m).(map[string]any)
			}
		}
		events = append(events, &e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return events, nil
}

// numbers turns the json.Numbers in v into ints, or float64s when they are not whole.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, item := range x {
			x[k] = numbers(item)
		}
	case []any:
		for i, item := range x {
			x[i] = numbers(item)
		}
	}
	return v
}

// builds caches Build's modules for the life of the test binary: linking a Go plugin takes a
// second or so.
var builds sync.Map // key -> *build

type build struct {
	once   sync.Once
	module []byte
	err    error
}

// Build compiles the Go main package pkg (a directory, relative to the test's package, or an
// import path) to a plugin, with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared and the build
// tags given, and returns the module. It builds each package and tags once per test binary;
// tests that call it in parallel build different packages in parallel.
func Build(tb testing.TB, pkg string, tags ...string) []byte {
	tb.Helper()
	key := pkg + "\x00" + strings.Join(tags, ",")
	v, _ := builds.LoadOrStore(key, &build{})
	b := v.(*build)
	b.once.Do(func() { b.module, b.err = goBuild(tb.TempDir(), pkg, tags) })
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.module
}

func goBuild(dir, pkg string, tags []string) ([]byte, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "plugin.wasm")
	args := []string{"build", "-buildmode=c-shared", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command(gobin, append(args, pkg)...)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s: %w\n%s", pkg, err, stderr.String())
	}
	return os.ReadFile(out)
}

// Install writes module as dir/name.wasm and returns the file's path.
func Install(tb testing.TB, dir, name string, module []byte) string {
	tb.Helper()
	file := filepath.Join(dir, name+".wasm")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(file, module, 0o644); err != nil {
		tb.Fatal(err)
	}
	return file
}
