package pluginhost

import (
	"fmt"

	asm "github.com/tallyrun/tally/host/pluginhost/internal/wasmasm"
)

// tiny is a plugin assembled instruction by instruction, as small as the ABI allows: it
// compiles in milliseconds (a Go plugin takes a second, ten under the race detector), so tests
// that need many plugins, or plugins that misbehave in ways Go would not let them, use it. It
// needs no SDK and no WASI, as a plugin in another language would.
type tiny struct {
	// meta is what tally_describe returns.
	meta string
	// marker is the ABI marker's name; tally_abi_version_1 when empty.
	marker string
	// alloc and events are the bodies of tally_alloc and tally_events (instructions before
	// the final end); when empty, alloc returns a buffer at bufferAt and events returns 0.
	alloc, events []byte
	// print makes tally_events write "batch\n" with tally.terminal first.
	print bool
}

// Where tiny's module keeps things in its memory.
const (
	metaAt   = 16
	textAt   = 4096
	bufferAt = 8192
)

// Instructions tiny's bodies use.
var (
	opUnreachable = []byte{asm.Unreachable}
	// opLoopForever is `loop br 0 end` then `unreachable` for the validator.
	opLoopForever = []byte{asm.Loop, asm.Void, asm.Br, 0, asm.End, asm.Unreachable}
	i32Const      = asm.I32Const
	i64Const      = asm.I64Const
)

// tinyMeta is the metadata of a tiny plugin called name of type typ, subscribed to the events
// of testdata/events.jsonl, with more fields given as JSON (`,"options":[...]`) or "".
func tinyMeta(name, typ, more string) string {
	return fmt.Sprintf(`{"name":%q,"version":"1.0","type":%q,"event_schema":1,"events":["playbook_on_start","playbook_on_play_start","playbook_on_task_start","runner_on_start","runner_on_ok","runner_on_failed","runner_on_skipped","runner_item_on_ok","runner_item_on_failed","playbook_on_no_hosts_matched","playbook_on_stats"]%s}`, name, typ, more)
}

func (t tiny) module() []byte {
	const (
		typeVoid     = 0 // () -> ()
		typeAlloc    = 1 // (i32) -> (i32)
		typeDescribe = 2 // () -> (i64)
		typeEvents   = 3 // (i32, i32) -> (i64)
		typeWrite    = 4 // (i32, i32) -> ()
	)
	marker, alloc, events := t.marker, t.alloc, t.events
	if marker == "" {
		marker = "tally_abi_version_1"
	}
	if alloc == nil {
		alloc = i32Const(bufferAt)
	}
	if events == nil {
		events = i64Const(0)
	}
	imported := 0
	sections := make([][]byte, 12)
	if t.print {
		sections[2] = asm.Vec(append(append(asm.Name("tally"), asm.Name("terminal")...), asm.Func, typeWrite))
		events = append(append(append(i32Const(textAt), i32Const(6)...), asm.Call, 0), events...)
		imported = 1
	}
	i32, i64 := []byte{asm.I32}, []byte{asm.I64}
	sections[1] = asm.Vec(asm.FuncType(nil, nil), asm.FuncType(i32, i32), asm.FuncType(nil, i64),
		asm.FuncType([]byte{asm.I32, asm.I32}, i64), asm.FuncType([]byte{asm.I32, asm.I32}, nil))
	sections[3] = asm.Vec([]byte{typeVoid}, []byte{typeAlloc}, []byte{typeDescribe}, []byte{typeEvents})
	sections[5] = asm.Vec([]byte{0x00, 32}) // one memory of 32 pages, room for the largest batch
	sections[7] = asm.Vec(asm.Export("memory", asm.Memory, 0), asm.Export(marker, asm.Func, imported),
		asm.Export("tally_alloc", asm.Func, imported+1), asm.Export("tally_describe", asm.Func, imported+2),
		asm.Export("tally_events", asm.Func, imported+3))
	sections[10] = asm.Vec(asm.Body(), asm.Body(alloc), asm.Body(i64Const(metaAt<<32|int64(len(t.meta)))), asm.Body(events))
	sections[11] = asm.Vec(asm.Data(metaAt, t.meta), asm.Data(textAt, "batch\n"))
	return asm.Module(sections)
}
