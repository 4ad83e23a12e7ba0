package pluginhost

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/pluginhost/internal/testplugins"
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// The delivery benchmarks hand the events of a real run, encoded once, to the recorder plugin
// (which reads every field of every event) natively and in WebAssembly: both run the SDK's
// decoding and dispatch, the one compiled natively, the other to WebAssembly and in the
// sandbox with its time limit armed for every call. Each iteration delivers the whole run in
// one batch, from a fresh copy of the bytes, as the host gives a plugin a fresh buffer.
//
// Deliver{Native,Wasm} read results lazily (the recorder's raw option, wire.RawResults);
// the Maps variants decode them into maps, as a plugin that does not opt in gets them.

func BenchmarkDeliverNative(b *testing.B)     { benchmarkNative(b, "true") }
func BenchmarkDeliverWasm(b *testing.B)       { benchmarkWasm(b, "true") }
func BenchmarkDeliverWasmC(b *testing.B)      { benchmarkWasmC(b) }
func BenchmarkDeliverNativeMaps(b *testing.B) { benchmarkNative(b, "false") }
func BenchmarkDeliverWasmMaps(b *testing.B)   { benchmarkWasm(b, "false") }

func benchmarkNative(b *testing.B, raw string) {
	events := testEvents(b)
	batch := plugintest.Encode(events)
	r, err := pluginsdk.NewRunner(testplugins.RecorderMeta, &testplugins.Recorder{})
	if err != nil {
		b.Fatal(err)
	}
	config := wire.AppendConfig(nil, &wire.Config{Options: map[string]any{"raw": raw == "true", "label": "rec"}})
	if err := r.Configure(config, io.Discard, io.Discard); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if err := r.Deliver(bytes.Clone(batch)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}

func benchmarkWasm(b *testing.B, raw string) {
	dir := b.TempDir()
	file := plugintest.Install(b, dir, "recorder", plugintest.Build(b, recorderPkg))
	benchmarkModule(b, dir, file, "recorder", Flags{Options: []string{"recorder.raw=" + raw}})
}

// benchmarkWasmC is benchmarkWasm with the C plugin that reads every field of every event
// through pluginsdk/c/tally.h (TestCHeaderReadsEveryField), built as make plugins builds C.
func benchmarkWasmC(b *testing.B) {
	// The probe make plugins uses.
	probe := exec.Command("clang", "--target=wasm32-wasi", "-mexec-model=reactor", "-x", "c", "-o", "/dev/null", "-")
	probe.Stdin = strings.NewReader("int tally_probe;")
	if err := probe.Run(); err != nil {
		b.Skip("clang cannot build for WASI here: make deps installs clang, lld, wasi-libc and the wasm32 builtins")
	}
	dir := b.TempDir()
	file := plugintest.Install(b, dir, "touch", cPlugin(b, "testdata/plugins/touch/touch.c"))
	benchmarkModule(b, dir, file, "touch", Flags{})
}

// benchmarkModule delivers the run's events to the plugin file, called name, in dir.
func benchmarkModule(b *testing.B, dir, file, name string, flags Flags) {
	events := testEvents(b)
	batch := plugintest.Encode(events)
	s := testSettings(b, dir, flags)
	h, err := New(s, io.Discard, func(w string) { b.Error(w) })
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	p, err := h.loadAs(ctx, name, file, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if err := h.configure(ctx, p, Output{}); err != nil {
		b.Fatal(err)
	}
	deliver := p.inst.mod.ExportedFunction(exportEvents)
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if err := p.inst.send(ctx, deliver, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}

// BenchmarkStartWarm and BenchmarkStartCold time getting plugins ready for a run: found,
// compiled (or loaded from the cache), started, described and configured, in parallel. The
// recorder and the hostile plugin stand for the bundled plugins: Go plugins of 3-4 MB.
func BenchmarkStartWarm(b *testing.B) { benchmarkStart(b, true, bothPlugins) }
func BenchmarkStartCold(b *testing.B) { benchmarkStart(b, false, bothPlugins) }

// BenchmarkStartColdOne is BenchmarkStartCold with the recorder alone, as a run with only its
// stdout plugin: one module compiled on every CPU.
func BenchmarkStartColdOne(b *testing.B) {
	benchmarkStart(b, false, Flags{Callbacks: []string{"recorder"}})
}

var bothPlugins = Flags{Callbacks: []string{"recorder", "hostile"}, Options: []string{"hostile.mode=error"}}

// benchmarkStart starts the plugins flags enables, of the recorder and the hostile plugin.
func benchmarkStart(b *testing.B, warm bool, flags Flags) {
	dir := b.TempDir()
	plugintest.Install(b, dir, "recorder", plugintest.Build(b, recorderPkg))
	plugintest.Install(b, dir, "hostile", plugintest.Build(b, hostilePkg))
	s := testSettings(b, dir, flags)
	s.CacheDir = filepath.Join(b.TempDir(), "cache")
	start := func() {
		run, err := Start(context.Background(), s, Output{Log: io.Discard, Warn: func(w string) { b.Error(w) },
			Fallback: func() collector.Callback { return display{&outcome{}} }})
		if err != nil {
			b.Fatal(err)
		}
		for _, cb := range run.Callbacks() {
			cb.Close()
		}
		run.Close()
	}
	if warm {
		start()
	}
	for b.Loop() {
		if !warm {
			b.StopTimer()
			s.CacheDir = filepath.Join(b.TempDir(), "cache")
			b.StartTimer()
		}
		start()
	}
}
