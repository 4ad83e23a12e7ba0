// Package wasmtest runs .wasm plugins in tally's plugin host, sandbox and all, for tests.
// (pluginsdk/plugintest builds Go plugins to WebAssembly, and runs them natively.)
package wasmtest

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/pluginhost"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// Options configure a Run.
type Options struct {
	// Options are the plugin's option values, as --callback-opt would give them.
	Options map[string]string
	// Limits are the plugin's limits; zero fields take pluginhost.DefaultLimits.
	Limits config.Limits
	// CacheDir keeps compiled plugins; "" compiles in memory.
	CacheDir string
	// JobID, Verbosity and Color are what the plugin is told about the run.
	JobID     string
	Verbosity int
	Color     bool
	// Stdout runs the plugin as the stdout plugin; otherwise it is an enabled plugin.
	Stdout bool
}

// Result is what came of a Run.
type Result struct {
	// Terminal is what a stdout plugin drew.
	Terminal string
	// Log is the plugin's log output, each line prefixed with "[callback NAME] ".
	Log string
	// Warnings are the host's warnings: a plugin that failed is one.
	Warnings []string
}

// Run loads the plugin file into the plugin host, delivers the events, in order, and closes
// the plugin, as a run of tally does. Its error is the host's refusal to start the plugin; a
// plugin that fails during the run is a warning in the Result.
func Run(ctx context.Context, file string, events []*event.Event, opts Options) (*Result, error) {
	name := strings.TrimSuffix(filepath.Base(file), ".wasm")
	flags := pluginhost.Flags{Callbacks: []string{name}, StdoutCallback: pluginhost.DefaultStdout, CallbackPath: []string{filepath.Dir(file)}}
	if opts.Stdout {
		flags.Callbacks, flags.StdoutCallback = nil, name
	}
	for k, v := range opts.Options {
		flags.Options = append(flags.Options, name+"."+k+"="+v)
	}
	s, err := pluginhost.Resolve(&config.Config{CallbackLimits: opts.Limits}, flags, func(string) string { return "" }, nil)
	if err != nil {
		return nil, err
	}
	s.CacheDir = opts.CacheDir
	var terminal, log bytes.Buffer
	res := &Result{}
	var mu sync.Mutex
	run, err := pluginhost.Start(ctx, s, pluginhost.Output{
		Terminal:  &terminal,
		Log:       &log,
		Warn:      func(w string) { mu.Lock(); res.Warnings = append(res.Warnings, w); mu.Unlock() },
		JobID:     opts.JobID,
		Verbosity: opts.Verbosity,
		Color:     opts.Color,
		Fallback:  func() collector.Callback { return discard{} },
	})
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, cb := range run.Callbacks() {
		for _, e := range events {
			errs = append(errs, cb.Event(e))
		}
		errs = append(errs, cb.Close())
	}
	errs = append(errs, run.Close())
	res.Terminal, res.Log = terminal.String(), log.String()
	return res, errors.Join(errs...)
}

// discard stands in for the built-in display.
type discard struct{}

func (discard) Name() string             { return "discard" }
func (discard) Event(*event.Event) error { return nil }
func (discard) Close() error             { return nil }
