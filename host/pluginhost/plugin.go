package pluginhost

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/pluginhost/internal/interrupt"
	"github.com/tallyrun/tally/host/sink"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// The module's side of the ABI (docs/abi.md).
const (
	exportAlloc     = "tally_alloc"
	exportDescribe  = "tally_describe"
	exportConfigure = "tally_configure"
	exportEvents    = "tally_events"
	exportResults   = "tally_results"
	exportClose     = "tally_close"
	exportInit      = "_initialize"
	hostModule      = "tally"
)

// signatures are the exports a module must or may have, with their types.
var signatures = []struct {
	name            string
	params, results []api.ValueType
	required        bool
}{
	{exportAlloc, []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}, true},
	{exportDescribe, nil, []api.ValueType{api.ValueTypeI64}, true},
	{exportEvents, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}, true},
	{exportConfigure, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}, false},
	{exportResults, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}, false},
	{exportClose, nil, []api.ValueType{api.ValueTypeI64}, false},
	{exportInit, nil, nil, false},
}

// hostFunctions are the functions tally gives a module, all (ptr i32, len i32) -> ().
var hostFunctions = []string{"terminal", "log"}

// Host finds, loads and checks plugins. It is safe for concurrent use; Close it when done.
type Host struct {
	settings Settings
	cache    wazero.CompilationCache
	cacheDir string // "" when compiled plugins are not kept between runs
	log      *sharedLog
	logFile  *os.File
	warn     func(string)
	sinks    *sink.Run // the run's sinks, which sink options grant; nil outside a run
}

// New returns a Host with settings s. Plugins' log output goes to log unless s.LogFile is
// set; warn receives warnings about the compilation cache.
func New(s Settings, log io.Writer, warn func(string)) (*Host, error) {
	h := &Host{settings: s, log: &sharedLog{w: log}, warn: warn}
	if s.LogFile != "" {
		f, err := os.OpenFile(s.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("callback log: %w", err)
		}
		h.logFile, h.log.w = f, f
	}
	h.cache, h.cacheDir = openCache(s.CacheDir, warn)
	return h, nil
}

// Close releases the compilation cache and the log file. Plugins loaded by h must be closed
// first.
func (h *Host) Close() error {
	err := h.cache.Close(context.Background())
	if h.logFile != nil {
		err = errors.Join(err, h.logFile.Close())
	}
	return err
}

// Settings returns the settings h was made with.
func (h *Host) Settings() Settings { return h.settings }

// Description is what a plugin file is and says about itself.
type Description struct {
	// Name is the plugin's name, its file name without .wasm.
	Name string
	// Path is the file it was loaded from.
	Path string
	// SHA256 is the hex SHA-256 of the file.
	SHA256 string
	// Meta is the plugin's description of itself.
	Meta meta.Metadata
}

// Plugin is a loaded plugin: compiled, in a runtime of its own, and described. Close it when
// done.
type Plugin struct {
	Description

	limits   config.Limits
	runtime  wazero.Runtime
	compiled wazero.CompiledModule
	terminal *bufio.Writer // where the terminal host function and stdout go; nil: the log
	log      *pluginLog
	inst     *instance
	// overLimit is the seq of the event the plugin was handling when it wrote past its
	// output limit, if it says (meta.Metadata.Progress).
	overLimit      uint64
	overLimitKnown bool
	sinks          sinkGrant
}

// Load compiles the plugin file path in a runtime of its own, checks it against the ABI, and
// asks it to describe itself.
func (h *Host) Load(ctx context.Context, path string) (*Plugin, error) {
	return h.loadAs(ctx, pluginName(path), path, nil)
}

func (h *Host) load(ctx context.Context, name, path string, terminal *bufio.Writer) (*Plugin, error) {
	file, err := h.identify(name, path)
	if err != nil {
		return nil, err
	}
	p, err := h.start(ctx, file, terminal)
	if err != nil {
		return nil, err
	}
	if p.inst, err = p.instantiate(ctx, nil); err != nil {
		p.Close()
		return nil, err
	}
	doc, err := p.describe(ctx)
	if err != nil {
		p.Close()
		return nil, err
	}
	h.storeMeta(file.sum, doc)
	return p, nil
}

// moduleFile is a plugin file: its name, path and SHA-256, and its bytes once read.
type moduleFile struct {
	name, path string
	data       []byte
	sum        [32]byte
}

// readModule reads the plugin file path, called name.
func readModule(name, path string) (*moduleFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &moduleFile{name: name, path: path, data: data, sum: sha256.Sum256(data)}, nil
}

// bytes returns the file's bytes, reading them if identify did not.
func (f *moduleFile) bytes() ([]byte, error) {
	if f.data != nil {
		return f.data, nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(data) != f.sum {
		return nil, errors.New("the file changed while tally read it")
	}
	f.data = data
	return data, nil
}

// start compiles the module in a runtime of its own, not yet instantiated.
func (h *Host) start(ctx context.Context, file *moduleFile, terminal *bufio.Writer) (*Plugin, error) {
	instrumented, err := instrument(h.cacheDir, file.sum, file.bytes)
	if err != nil {
		return nil, err
	}
	limits := h.settings.LimitsFor(file.name)
	p := &Plugin{
		Description: Description{Name: file.name, Path: file.path, SHA256: hex.EncodeToString(file.sum[:])},
		limits:      limits,
		terminal:    terminal,
		log:         newPluginLog(h.log, file.name, limits.Output),
	}
	p.log.onLimit = func() { p.overLimit, p.overLimitKnown = p.progress() }
	p.runtime = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(h.cache).
		WithMemoryLimitPages(uint32(min(max(limits.Memory>>16, 1), 1<<16))).
		WithCloseOnContextDone(false). // see package interrupt
		WithDebugInfoEnabled(false))   // DWARF costs load time; traps name functions anyway
	if err := p.compile(ctx, instrumented); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// compile compiles the module and checks its exports and imports against the ABI.
func (p *Plugin) compile(ctx context.Context, module []byte) error {
	var err error
	// On a cold cache, compile the module's functions on every CPU: a run usually loads one
	// plugin (its stdout plugin), and several plugins compile side by side anyway.
	ctx = experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0))
	if p.compiled, err = p.runtime.CompileModule(ctx, module); err != nil {
		return fmt.Errorf("not a valid WebAssembly module: %w", err)
	}
	if err := checkABI(p.compiled); err != nil {
		return err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, p.runtime); err != nil {
		return fmt.Errorf("set up WASI: %w", err)
	}
	b := p.runtime.NewHostModuleBuilder(hostModule)
	for _, fn := range hostFunctions {
		b.NewFunctionBuilder().WithGoModuleFunction(p.hostWriter(fn), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, nil).Export(fn)
	}
	i32 := api.ValueTypeI32
	b.NewFunctionBuilder().WithGoModuleFunction(p.sinkPut(), []api.ValueType{i32, i32, i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}).Export(importSinkPut)
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("set up the host functions: %w", err)
	}
	return nil
}

// checkABI checks the module's ABI version marker, its exports and its imports.
func checkABI(m wazero.CompiledModule) error {
	exports := m.ExportedFunctions()
	var versions []int
	for name := range exports {
		if v, ok := strings.CutPrefix(name, wire.ABIMarker); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("ABI version marker %q is not a number", name)
			}
			versions = append(versions, n)
		}
	}
	switch {
	case len(versions) == 0:
		return fmt.Errorf("not a tally plugin: it exports no %sN function declaring its ABI version", wire.ABIMarker)
	case len(versions) > 1:
		slices.Sort(versions)
		return fmt.Errorf("it declares several ABI versions %v", versions)
	case versions[0] != wire.ABIVersion:
		return fmt.Errorf("it implements plugin ABI version %d, but this tally implements version %d", versions[0], wire.ABIVersion)
	}
	var errs []error
	for _, sig := range signatures {
		def, ok := exports[sig.name]
		switch {
		case !ok && sig.required:
			errs = append(errs, fmt.Errorf("it does not export %s", sig.name))
		case ok && (!slices.Equal(def.ParamTypes(), sig.params) || !slices.Equal(def.ResultTypes(), sig.results)):
			errs = append(errs, fmt.Errorf("export %s has type %s, want %s", sig.name, signature(def.ParamTypes(), def.ResultTypes()), signature(sig.params, sig.results)))
		}
	}
	if _, ok := m.ExportedMemories()["memory"]; !ok {
		errs = append(errs, errors.New("it does not export its memory as \"memory\""))
	}
	for _, fn := range m.ImportedFunctions() {
		mod, name, _ := fn.Import()
		switch {
		case mod == wasi_snapshot_preview1.ModuleName:
		case mod == hostModule && (slices.Contains(hostFunctions, name) || name == importSinkPut):
		default:
			errs = append(errs, fmt.Errorf("it imports %s.%s, which tally does not provide", mod, name))
		}
	}
	return errors.Join(errs...)
}

func signature(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return names(params) + " -> " + names(results)
}

// hostWriter is the host function that writes to the terminal or the log.
func (p *Plugin) hostWriter(which string) api.GoModuleFunc {
	return func(_ context.Context, m api.Module, stack []uint64) {
		ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
		data, ok := m.Memory().Read(ptr, n)
		if !ok {
			panic(fmt.Errorf("%s.%s: %d bytes at %d are outside the plugin's memory", hostModule, which, n, ptr))
		}
		if which == "terminal" && p.terminal != nil {
			_, _ = p.terminal.Write(data) // the terminal's errors are the display's business
			return
		}
		_, _ = p.log.Write(data)
	}
}

// instantiate starts an instance of the module with dirs mounted read-write at their own
// paths, and initialises it.
func (p *Plugin) instantiate(ctx context.Context, dirs []string) (*instance, error) {
	var stdout io.Writer = p.log
	if p.terminal != nil {
		stdout = p.terminal
	}
	fsConfig := wazero.NewFSConfig()
	for _, d := range dirs {
		fsConfig = fsConfig.(sysfs.FSConfig).WithSysFSMount(newConfined(d), d)
	}
	cfg := wazero.NewModuleConfig().
		WithName(p.Name).
		WithStartFunctions(). // _initialize runs below, under the time limit
		WithStdout(stdout).
		WithStderr(p.log).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader). // wazero's default is the same numbers every run
		WithFSConfig(fsConfig)
	// A real sleep, which the call's time limit ends (instance.sleep).
	in := &instance{limits: p.limits, log: p.log, stop: make(chan struct{})}
	mod, err := p.runtime.InstantiateModule(ctx, p.compiled, cfg.WithNanosleep(in.sleep))
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	// Instrument added the global, so the module has it.
	in.mod, in.interrupt = mod, mod.ExportedGlobal(interrupt.ExportName).(api.MutableGlobal)
	if fn := mod.ExportedFunction(exportInit); fn != nil {
		if _, err := in.call(ctx, fn); err != nil {
			mod.Close(ctx)
			return nil, fmt.Errorf("initialise: %w", err)
		}
	}
	return in, nil
}

// describe asks the plugin for its metadata and checks it. It returns the metadata as the
// plugin gave it, for the metadata cache.
func (p *Plugin) describe(ctx context.Context) ([]byte, error) {
	res, err := p.inst.call(ctx, p.inst.mod.ExportedFunction(exportDescribe))
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	doc, err := p.inst.read(res)
	if err != nil || doc == nil {
		return nil, fmt.Errorf("describe: %w", errors.Join(err, errors.New("no metadata")))
	}
	var problem struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(doc, &problem) == nil && problem.Error != "" {
		return nil, fmt.Errorf("describe: %s", oneLine(problem.Error))
	}
	if err := decodeMeta(doc, &p.Meta); err != nil {
		return nil, fmt.Errorf("describe: metadata is not valid JSON of the ABI's form: %w", err)
	}
	var errs []error
	if p.Meta.Name != p.Name {
		errs = append(errs, fmt.Errorf("it calls itself %q, but its file says %q", p.Meta.Name, p.Name))
	}
	if err := p.Meta.Validate(); err != nil {
		errs = append(errs, err)
	}
	if p.Meta.Results && p.inst.mod.ExportedFunction(exportResults) == nil {
		errs = append(errs, fmt.Errorf("it asks for the consolidated results but does not export %s", exportResults))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return doc, nil
}

// decodeMeta decodes a plugin's metadata, refusing fields the ABI does not know.
func decodeMeta(doc []byte, m *meta.Metadata) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	return dec.Decode(m)
}

// Close stops the plugin and frees its runtime.
func (p *Plugin) Close() {
	// Closing a runtime closes its modules; there is nothing to report about a sandbox going.
	_ = p.runtime.Close(context.Background())
	p.log.flush()
	if p.terminal != nil {
		_ = p.terminal.Flush()
	}
}
