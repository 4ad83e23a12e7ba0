package interrupt

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	asm "github.com/tallyrun/tally/host/pluginhost/internal/wasmasm"
)

// module has a memory, an imported global, a global of its own and three functions:
// forever loops forever, count(n) counts n loop turns and returns n, get returns the global.
func module() []byte {
	i32 := []byte{asm.I32}
	local := func(op byte, i int) []byte { return []byte{op, byte(i)} }
	count := []byte{0x01, 0x01, asm.I32} // one local i32
	for _, part := range [][]byte{
		{asm.Loop, asm.Void},
		local(0x20, 1), asm.I32Const(1), {0x6a}, local(0x21, 1), // i += 1
		local(0x20, 1), local(0x20, 0), {0x48, 0x0d, 0x00}, // br_if 0 (i < n)
		{asm.End}, local(0x20, 1), {asm.End},
	} {
		count = append(count, part...)
	}
	count = append([]byte{byte(len(count))}, count...)
	sections := make([][]byte, 12)
	sections[1] = asm.Vec(asm.FuncType(nil, nil), asm.FuncType(i32, i32), asm.FuncType(nil, i32))
	sections[2] = asm.Vec(append(append(asm.Name("env"), asm.Name("g")...), asm.Global, asm.I32, 0x00))
	sections[3] = asm.Vec([]byte{0}, []byte{1}, []byte{2})
	sections[5] = asm.Vec([]byte{0x00, 1})
	sections[6] = asm.Vec(append(append([]byte{asm.I32, 0x00}, asm.I32Const(42)...), asm.End))
	sections[7] = asm.Vec(asm.Export("forever", asm.Func, 0), asm.Export("count", asm.Func, 1), asm.Export("get", asm.Func, 2))
	sections[10] = asm.Vec(
		asm.Body([]byte{asm.Loop, asm.Void, asm.Br, 0, asm.End}),
		count,
		asm.Body(asm.GlobalGet(1)),
	)
	return asm.Module(sections)
}

func instantiate(t *testing.T, m []byte) api.Module {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	env := asm.Module([][]byte{
		6: asm.Vec(append(append([]byte{asm.I32, 0x00}, asm.I32Const(7)...), asm.End)),
		7: asm.Vec(asm.Export("g", asm.Global, 0)),
	})
	if _, err := r.InstantiateWithConfig(ctx, env, wazero.NewModuleConfig().WithName("env")); err != nil {
		t.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func TestInstrumentedModuleRunsAsBefore(t *testing.T) {
	out, err := Instrument(module())
	if err != nil {
		t.Fatal(err)
	}
	mod := instantiate(t, out)
	ctx := context.Background()
	// More loop turns than FuelPerYield, so that the countdown refills.
	if res, err := mod.ExportedFunction("count").Call(ctx, 3*FuelPerYield+5); err != nil || res[0] != 3*FuelPerYield+5 {
		t.Errorf("count = %v, %v", res, err)
	}
	if res, err := mod.ExportedFunction("get").Call(ctx); err != nil || res[0] != 42 {
		t.Errorf("the module's own global reads %v, %v; want 42", res, err)
	}
	if g := mod.ExportedGlobal(ExportName); g == nil || g.Get() != 0 {
		t.Errorf("interrupt global %v, want exported and 0", g)
	}
}

func TestInterruptStopsALoop(t *testing.T) {
	out, err := Instrument(module())
	if err != nil {
		t.Fatal(err)
	}
	mod := instantiate(t, out)
	flag := mod.ExportedGlobal(ExportName).(api.MutableGlobal)
	time.AfterFunc(50*time.Millisecond, func() { flag.Set(1) })
	done := make(chan error)
	go func() {
		_, err := mod.ExportedFunction("forever").Call(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("forever returned %v, want a trap", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not stop")
	}
}

func TestInstrumentRefuses(t *testing.T) {
	valid := module()
	usesOurGlobal := asm.Module([][]byte{
		1:  asm.Vec(asm.FuncType(nil, []byte{asm.I32})),
		3:  asm.Vec([]byte{0}),
		5:  asm.Vec([]byte{0x00, 1}),
		10: asm.Vec(asm.Body(asm.GlobalGet(0))),
	})
	noMemory := asm.Module([][]byte{1: asm.Vec(asm.FuncType(nil, nil)), 3: asm.Vec([]byte{0}), 10: asm.Vec(asm.Body())})
	exportsOurName := asm.Module([][]byte{
		1:  asm.Vec(asm.FuncType(nil, nil)),
		3:  asm.Vec([]byte{0}),
		5:  asm.Vec([]byte{0x00, 1}),
		7:  asm.Vec(asm.Export(ExportName, asm.Func, 0)),
		10: asm.Vec(asm.Body()),
	})
	unknownOp := asm.Module([][]byte{1: asm.Vec(asm.FuncType(nil, nil)), 3: asm.Vec([]byte{0}), 5: asm.Vec([]byte{0x00, 1}), 10: asm.Vec(asm.Body([]byte{0xff}))})
	tests := []struct {
		name   string
		module []byte
		want   string
	}{
		{"text", []byte("hello, world"), "no WebAssembly header"},
		{"version 2", append([]byte("\x00asm\x02\x00\x00\x00"), valid[8:]...), "binary format version 2"},
		{"truncated", valid[:len(valid)-3], "truncated"},
		{"no memory", noMemory, "it has no memory"},
		{"a global that does not exist", usesOurGlobal, "uses a global that does not exist"},
		{"our export name", exportsOurName, "it already exports"},
		{"unknown instruction", unknownOp, "unknown instruction 0xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Instrument(tt.module)
			if !errors.Is(err, errBadModule) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
