package pluginhost

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/sink"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// ErrPluginFailed is wrapped by the error of a run whose plugin failed when on_plugin_error
// is fail (Run.Err), and by Start's error when such a run's plugin cannot be loaded.
var ErrPluginFailed = errors.New("callback plugin failed")

// Output says where a run's plugins write and what they are told.
type Output struct {
	// Terminal is where the stdout plugin draws the run.
	Terminal io.Writer
	// Log receives plugins' log output, each line prefixed with the plugin's name, unless the
	// configuration names a log file.
	Log io.Writer
	// Warn receives warnings: a plugin that cannot be loaded or that failed.
	Warn func(string)
	// JobID, Verbosity and Color are what the plugins are told about the run.
	JobID     string
	Verbosity int
	Color     bool
	// CommandLine is the run's --limit, --tags and --skip-tags, which plugins are told too.
	wire.CommandLine
	// Fallback makes the built-in display, for when no stdout plugin can be loaded.
	Fallback func() collector.Callback
}

// Run is the plugins of one run. Hand Callbacks to the collector; after the collector has
// finished, check Err and Close the run.
type Run struct {
	host      *Host
	callbacks []collector.Callback
	warn      func(string)
	failRun   bool
	loading   sync.WaitGroup // the plugins starting in the background

	mu     sync.Mutex
	failed []error
}

// optionError is a mistake in the operator's settings of a plugin: it stops the run before it
// starts, whatever on_plugin_error says.
type optionError struct{ err error }

func (e *optionError) Error() string { return e.err.Error() }
func (e *optionError) Unwrap() error { return e.err }

// Start loads the stdout plugin and the enabled plugins and configures them. A plugin whose
// metadata is cached (metacache.go) starts in the background, alongside the run's start: its
// place among the run's Callbacks holds the run's events in the collector's bounded queue until
// it is ready. The others load here, in parallel, as does every plugin when on_plugin_error is
// fail (the run must not start without them). A mistake in a plugin's options is an error; a
// plugin that cannot be loaded is skipped with a warning (an error when on_plugin_error is
// fail), and the built-in display stands in for a stdout plugin that cannot be loaded. The
// warning is left out when the stdout plugin is the default one and no default.wasm exists:
// the built-in display is then what tally ships.
func Start(ctx context.Context, s Settings, out Output) (*Run, error) {
	h, err := New(s, out.Log, out.Warn)
	if err != nil {
		return nil, err
	}
	h.sinks = sink.NewRun(out.JobID, s.Sinks, sink.DefaultSpool(s.Getenv), "", s.Getenv)
	r := &Run{host: h, warn: out.Warn, failRun: s.FailRun}
	names := []string{s.Stdout}
	for _, name := range s.Enabled {
		names = appendNew(names, name)
	}
	loaded := make([]*Plugin, len(names))
	later := make([]*starting, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		file := Lookup(s.Path, name)
		if file == "" {
			errs[i] = fmt.Errorf("callback plugin %q not found in %s", name, strings.Join(s.Path, ":"))
			continue
		}
		var terminal io.Writer
		if i == 0 {
			terminal = out.Terminal
		}
		if !s.FailRun {
			if later[i], errs[i] = r.startLater(ctx, i, names, file, terminal, out); later[i] != nil || errs[i] != nil {
				continue
			}
		}
		wg.Go(func() { loaded[i], errs[i] = h.prepare(ctx, name, file, terminal, out) })
	}
	wg.Wait()

	if err := r.assemble(names, loaded, later, errs, out); err != nil {
		for _, p := range loaded {
			if p != nil {
				p.Close()
			}
		}
		r.loading.Wait()
		for _, st := range later {
			if st != nil && st.cb != nil {
				_ = st.cb.Close()
			}
		}
		h.Close()
		return nil, err
	}
	for name := range s.Flags {
		if !slices.Contains(names, name) {
			out.Warn(fmt.Sprintf("--callback-opt for %s: that plugin is not used in this run", name))
		}
	}
	return r, nil
}

// startLater starts the plugin file, the run's names[i], in the background when its metadata
// is cached, after checking its type and options against that metadata. It returns nil and
// no error when the metadata is not cached: the plugin must then load before the run.
func (r *Run) startLater(ctx context.Context, i int, names []string, path string, terminal io.Writer, out Output) (*starting, error) {
	h := r.host
	file, err := h.identify(names[i], path)
	if err != nil {
		return nil, nil // loading it reports the error
	}
	m, ok := h.cachedMeta(file)
	if !ok {
		return nil, nil
	}
	if err := typeError(i, names, &m); err != nil {
		return nil, err
	}
	// The options are resolved again when it starts; a mistake in them must stop the run now.
	if _, _, err := h.options(&Plugin{Description: Description{Name: file.name, Meta: m}}); err != nil {
		return nil, &optionError{err}
	}
	st := &starting{name: file.name, results: m.Results, ready: make(chan struct{})}
	r.loading.Go(func() {
		defer close(st.ready)
		p, err := h.startKnown(ctx, file, m, terminal)
		if err == nil {
			if err = h.configure(ctx, p, out); err != nil {
				p.Close()
			}
		}
		switch {
		case err == nil:
			st.cb = newCallback(p, r, out.Fallback)
		case i == 0:
			out.Warn(oneLine(fmt.Sprintf("%v; using the built-in display", err)))
			st.cb = out.Fallback()
		default:
			out.Warn(oneLine(fmt.Sprintf("skipping callback plugin %s: %v", names[i], err)))
		}
	})
	return st, nil
}

// typeError says why a plugin of metadata m cannot be the run's names[i]: the first is the
// stdout plugin, the others must not be stdout plugins.
func typeError(i int, names []string, m *meta.Metadata) error {
	switch {
	case i == 0 && m.Type != meta.Stdout:
		return fmt.Errorf("callback plugin %s is of type %s, not stdout", m.Name, m.Type)
	case i > 0 && m.Type == meta.Stdout:
		return fmt.Errorf("callback plugin %s is a stdout plugin, and the run's stdout plugin is %s", m.Name, names[0])
	}
	return nil
}

// assemble makes the run's callbacks from the loaded plugins and those starting in the
// background, the stdout one first.
func (r *Run) assemble(names []string, loaded []*Plugin, later []*starting, errs []error, out Output) error {
	var fatal []error
	for i, p := range loaded {
		if err := errs[i]; err != nil {
			if _, ok := errors.AsType[*optionError](err); ok {
				fatal = append(fatal, err)
			}
		}
		if p != nil && errs[i] == nil {
			if errs[i] = typeError(i, names, &p.Meta); errs[i] != nil {
				p.Close()
				loaded[i] = nil
			}
		}
	}
	if len(fatal) > 0 {
		return errors.Join(fatal...)
	}
	for i, p := range loaded {
		switch {
		case p != nil:
			r.callbacks = append(r.callbacks, newCallback(p, r, out.Fallback))
			continue
		case later[i] != nil:
			r.callbacks = append(r.callbacks, later[i])
			continue
		}
		err := errs[i]
		switch {
		case i == 0 && names[0] == DefaultStdout && strings.Contains(err.Error(), "not found"):
			// tally's built-in display is the default stdout plugin until default.wasm exists.
		case i == 0:
			out.Warn(oneLine(fmt.Sprintf("%v; using the built-in display", err)))
		case r.failRun:
			return fmt.Errorf("%w: %w", ErrPluginFailed, err)
		default:
			out.Warn(oneLine(fmt.Sprintf("skipping callback plugin %s: %v", names[i], err)))
		}
		if i == 0 {
			r.callbacks = append(r.callbacks, out.Fallback())
		}
	}
	return nil
}

// prepare loads the plugin file as name, resolves its options and configures it.
func (h *Host) prepare(ctx context.Context, name, file string, terminal io.Writer, out Output) (*Plugin, error) {
	p, err := h.loadAs(ctx, name, file, terminal)
	if err != nil {
		return nil, err
	}
	if err := h.configure(ctx, p, out); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// startKnown compiles the module of file, whose metadata m is known, for configure to
// instantiate: the module is not started to describe itself.
func (h *Host) startKnown(ctx context.Context, file *moduleFile, m meta.Metadata, terminal io.Writer) (*Plugin, error) {
	p, err := h.start(ctx, file, buffered(terminal))
	if err != nil {
		return nil, fmt.Errorf("callback plugin %s (%s): %w", file.name, file.path, err)
	}
	p.Meta = m
	return p, nil
}

// buffered buffers the plugin's terminal output; nil stays nil (the log).
func buffered(terminal io.Writer) *bufio.Writer {
	if terminal == nil {
		return nil
	}
	return bufio.NewWriterSize(terminal, 64<<10)
}

// loadAs is Load with the plugin's terminal output going to terminal (nil: the log).
func (h *Host) loadAs(ctx context.Context, name, path string, terminal io.Writer) (*Plugin, error) {
	p, err := h.load(ctx, name, path, buffered(terminal))
	if err != nil {
		return nil, fmt.Errorf("callback plugin %s (%s): %w", name, path, err)
	}
	return p, nil
}

// configure resolves the plugin's options (command line > environment > configuration file >
// defaults), mounts the directories its dir options name, and hands it its settings.
func (h *Host) configure(ctx context.Context, p *Plugin, out Output) error {
	options, dirs, err := h.options(p)
	if err != nil {
		return &optionError{err}
	}
	if p.inst == nil || len(dirs) > 0 {
		// The describing instance, if any, had no directories; start one that has them.
		if p.inst != nil {
			p.inst.mod.Close(ctx)
		}
		if p.inst, err = p.instantiate(ctx, dirs); err != nil {
			return fmt.Errorf("callback plugin %s: %w", p.Name, err)
		}
	}
	fn := p.inst.mod.ExportedFunction(exportConfigure)
	if fn == nil {
		return nil
	}
	payload := wire.AppendConfig(nil, &wire.Config{JobID: out.JobID, Options: options, Verbosity: out.Verbosity, Color: out.Color, CommandLine: out.CommandLine})
	err = p.inst.send(ctx, fn, payload)
	if err == nil {
		err = p.checkOutput()
	}
	p.flush()
	if err != nil {
		return fmt.Errorf("callback plugin %s: configure: %w", p.Name, err)
	}
	return nil
}

// options resolves p's options and returns them with the directories to mount.
func (h *Host) options(p *Plugin) (map[string]any, []string, error) {
	env := map[string]meta.Setting{}
	for _, o := range p.Meta.Options {
		for _, name := range o.Env {
			if v := h.settings.Getenv(name); v != "" {
				env[o.Name] = meta.Setting{Value: v, Source: "environment variable " + name}
				break
			}
		}
	}
	values, err := p.Meta.Resolve(h.settings.Flags[p.Name], env, h.settings.File[p.Name])
	if err != nil {
		return nil, nil, fmt.Errorf("callback plugin %s: %w", p.Name, err)
	}
	var dirs []string
	for _, o := range p.Meta.Options {
		dir, ok := values[o.Name].(string)
		if o.Type == meta.Sink && ok {
			if err := h.grantSink(p, dir); err != nil {
				return nil, nil, fmt.Errorf("callback plugin %s: option %s: %w", p.Name, o.Name, err)
			}
		}
		if o.Type != meta.Dir || !ok {
			continue
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("callback plugin %s: option %s: %s is not a directory", p.Name, o.Name, dir)
		}
		dirs = append(dirs, dir)
	}
	return values, dirs, nil
}

// checkOutput fails a plugin that wrote more than its output limit.
func (p *Plugin) checkOutput() error {
	if p.log.exceeded {
		return fmt.Errorf("it wrote more than its output limit of %s", formatSize(p.limits.Output))
	}
	return nil
}

// flush writes out the plugin's buffered terminal output.
func (p *Plugin) flush() {
	if p.terminal != nil {
		_ = p.terminal.Flush() // the terminal's errors are the display's business
	}
}

// Callbacks returns the run's callbacks, the stdout one first.
func (r *Run) Callbacks() []collector.Callback { return r.callbacks }

// fail reports that a plugin failed.
func (r *Run) fail(name, where string, err error) {
	r.warn(oneLine(fmt.Sprintf("callback plugin %s failed on %s and is disabled for the rest of the run: %v", name, where, err)))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Errorf("callback plugin %s failed on %s: %w", name, where, err))
}

// Err returns, when on_plugin_error is fail and a plugin failed, an error wrapping
// ErrPluginFailed; nil otherwise. Call it after the collector has finished.
func (r *Run) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.failRun || len(r.failed) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrPluginFailed, errors.Join(r.failed...))
}

// Close writes the records the plugins appended to sinks (a sink that fails spools them, with
// a warning) and releases what the run's plugins shared. Call it after the collector has
// finished: after the stats event and every plugin's tally_close.
func (r *Run) Close() error {
	r.loading.Wait()
	r.host.sinks.Commit(context.Background(), r.warn)
	return r.host.Close()
}
