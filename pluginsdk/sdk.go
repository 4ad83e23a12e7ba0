// Package pluginsdk is the Go SDK for tally's callback plugins: WebAssembly modules that receive
// a run's events in a sandbox (docs/abi.md).
//
// A plugin is a value whose methods are the hooks it wants (RunnerOnOK, PlaybookOnStats, ...,
// or Event for every event); it subscribes to exactly those events. Its main package registers
// it, with its metadata, in an init function, and has an empty main:
//
//	func init() {
//		pluginsdk.Register(meta.Metadata{Name: "mylog", Version: "1.0.0", Type: meta.Aggregate,
//			Options: []meta.Option{{Name: "dir", Type: meta.Dir, Env: []string{"TALLY_MYLOG_DIR"}}},
//		}, &myLog{})
//	}
//
//	func main() {}
//
// and is built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o mylog.wasm .
//
// Configure (ConfigureHook) hands the plugin its options, the job ID and where to write: the
// terminal for the stdout plugin (Config.Printf, with Config.Colorize in Ansible's colours
// when the terminal wants colour; NO_COLOR turns it off), the log for the others. Inside a directory that the operator
// granted through a Dir option, plain os file access works (the directory is mounted at its
// own path). Package plugintest runs a plugin natively, for tests.
//
// The package depends on the standard library only.
package pluginsdk

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// Config is what the host tells a plugin before the first event.
type Config struct {
	// JobID is the run's job ID (also on every event).
	JobID string
	// Verbosity is the number of -v flags the run was given.
	Verbosity int
	// Color says whether the terminal wants ANSI colours.
	Color bool
	// CommandLine is the run's --limit, --tags and --skip-tags, as given.
	wire.CommandLine
	// Terminal is where a stdout plugin draws the run. For other plugins it is the log.
	Terminal io.Writer
	// Log is tally's log (its standard error, each line prefixed with the plugin's name).
	Log io.Writer

	options map[string]any
}

// Logf writes one line to the log.
func (c *Config) Logf(format string, args ...any) {
	fmt.Fprintf(c.Log, format+"\n", args...)
}

// IsSet reports whether the option has a value (set by the operator, or a default).
func (c *Config) IsSet(name string) bool {
	_, ok := c.options[name]
	return ok
}

// String returns a str or dir option's value, "" if it has none.
func (c *Config) String(name string) string {
	s, _ := c.options[name].(string)
	return s
}

// Bool returns a bool option's value, false if it has none.
func (c *Config) Bool(name string) bool {
	b, _ := c.options[name].(bool)
	return b
}

// Int returns an int option's value, 0 if it has none.
func (c *Config) Int(name string) int {
	n, _ := c.options[name].(int)
	return n
}

// Float returns a float option's value, 0 if it has none.
func (c *Config) Float(name string) float64 {
	f, _ := c.options[name].(float64)
	return f
}

// List returns a list option's value, nil if it has none.
func (c *Config) List(name string) []string {
	l, _ := c.options[name].([]any)
	out := make([]string, 0, len(l))
	for _, item := range l {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Runner drives one plugin value: it decodes the host's payloads and calls the plugin's hooks.
// The WebAssembly exports use one; package plugintest and native benchmarks use it directly,
// so native and WebAssembly plugins run the same decoding code.
type Runner struct {
	meta     meta.Metadata
	plugin   any
	handlers map[event.Type]Handler
	values   wire.Values
	// verbosity is the run's number of -v flags: from one on, a panic's stack goes to the
	// log.
	verbosity int
	// progress is the seq of the event whose hook runs (meta.Metadata.Progress).
	progress uint64
}

// NewRunner checks plugin p and its metadata m, and returns a Runner for them. It completes m:
// the events are the ones p has hooks for, the event schema is this SDK's, and the
// capabilities follow from the type (stdout: terminal) and the options (dir: filesystem).
func NewRunner(m meta.Metadata, p any) (*Runner, error) {
	if p == nil {
		return nil, errors.New("register: no plugin value")
	}
	r := &Runner{plugin: p, handlers: map[event.Type]Handler{}}
	catchAll, _ := p.(EventHook)
	m.Events = nil
	for _, t := range meta.AllEvents {
		h := hookTable[t](p)
		if h == nil && catchAll != nil {
			h = catchAll.Event
		}
		if h != nil {
			r.handlers[t] = h
			m.Events = append(m.Events, t)
		}
	}
	_, m.Results = p.(ResultsHook)
	m.EventSchema = event.SchemaVersion
	m.Capabilities = nil
	if m.Type == meta.Stdout {
		m.Capabilities = append(m.Capabilities, meta.Terminal)
	}
	for _, o := range m.Options {
		if o.Type == meta.Dir {
			m.Capabilities = append(m.Capabilities, meta.Filesystem)
			break
		}
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", m.Name, err)
	}
	r.meta = m
	return r, nil
}

// Metadata returns the plugin's completed metadata.
func (r *Runner) Metadata() meta.Metadata { return r.meta }

// Configure decodes a tally_configure payload (handed over as in wire.DecodeBatch) and calls
// the plugin's Configure hook, giving it terminal and log to write to.
func (r *Runner) Configure(payload []byte, terminal, log io.Writer) error {
	wc, err := wire.DecodeConfig(payload)
	if err != nil {
		return fmt.Errorf("configure: %w", err)
	}
	r.verbosity = wc.Verbosity
	if h, ok := r.plugin.(ConfigureHook); ok {
		c := &Config{JobID: wc.JobID, Verbosity: wc.Verbosity, Color: wc.Color, CommandLine: wc.CommandLine, Terminal: terminal, Log: log, options: wc.Options}
		if err := r.guard("configure", func() error { return h.Configure(c) }); err != nil {
			return err
		}
	}
	if h, ok := r.plugin.(RawValuesHook); ok && h.RawValues() {
		r.values = wire.RawValues
	}
	return nil
}

// Deliver decodes a tally_events payload (handed over as in wire.DecodeBatch) and calls the
// plugin's hook for each event. An error, or a panic in a hook, is returned naming the event.
func (r *Runner) Deliver(batch []byte) (err error) {
	events, err := wire.DecodeBatch(batch, r.values)
	if err != nil {
		return fmt.Errorf("decode events: %w", err)
	}
	var current *event.Event // the event whose hook is running
	defer func() {
		if p := recover(); p != nil {
			err = r.panicked(describe(current), p)
		}
	}()
	for i := range events {
		current = &events[i]
		h := r.handlers[current.Event]
		if h == nil {
			continue // the host sends only subscribed events; tolerate one that is not
		}
		r.progress = current.Seq
		if err := h(current); err != nil {
			return fmt.Errorf("%s: %w", describe(current), err)
		}
	}
	return nil
}

// DeliverResults decodes a tally_results payload (a batch of result events, as Deliver's)
// and calls the plugin's Result hook for each.
func (r *Runner) DeliverResults(batch []byte) (err error) {
	h, ok := r.plugin.(ResultsHook)
	if !ok {
		return errors.New("results: the plugin has no Result hook")
	}
	events, err := wire.DecodeBatch(batch, r.values)
	if err != nil {
		return fmt.Errorf("decode results: %w", err)
	}
	var current *event.Event
	defer func() {
		if p := recover(); p != nil {
			err = r.panicked("result "+describe(current), p)
		}
	}()
	for i := range events {
		current = &events[i]
		r.progress = current.Seq
		if err := h.Result(current); err != nil {
			return fmt.Errorf("result %s: %w", describe(current), err)
		}
	}
	return nil
}

// describe names an event in errors.
func describe(e *event.Event) string {
	return fmt.Sprintf("event %d (%s)", e.Seq, e.Event)
}

// Close calls the plugin's Close hook.
func (r *Runner) Close() error {
	if h, ok := r.plugin.(CloseHook); ok {
		return r.guard("close", h.Close)
	}
	return nil
}

// guard runs fn, turning an error or a panic into an error that says what was being done.
func (r *Runner) guard(what string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = r.panicked(what, p)
		}
	}()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// panicked turns a panic, recovered while what was being done, into an error. With -v it
// first writes the panic and its stack, as Go does, to standard error, which the host puts
// in its log: the error names the event, the stack the line.
func (r *Runner) panicked(what string, p any) error {
	if r.verbosity > 0 {
		fmt.Fprintf(os.Stderr, "panic: %v [recovered]\n\n%s", p, debug.Stack())
	}
	return fmt.Errorf("%s: panic: %v", what, p)
}

// The plugin Register recorded, or why there is none.
var (
	registered    *Runner
	registerCalls int
	registerError = errors.New("no plugin registered: call pluginsdk.Register in an init function")
)

// Register makes p, with metadata m, the plugin of this module. Call it once, from an init
// function. A mistake in m is reported to the host when it loads the module (and by
// NewRunner, which plugintest uses).
func Register(m meta.Metadata, p any) {
	registerCalls++
	if registerCalls > 1 {
		registered, registerError = nil, fmt.Errorf("register %s: a module holds one plugin, and Register was called %d times", m.Name, registerCalls)
		return
	}
	registered, registerError = NewRunner(m, p)
}

// Registered returns the plugin Register recorded, or why there is none: a test in a plugin's
// main package runs it natively with package plugintest.
func Registered() (*Runner, error) { return registered, registerError }
