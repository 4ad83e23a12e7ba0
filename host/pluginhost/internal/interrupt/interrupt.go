// Package interrupt makes a WebAssembly module stoppable from outside, and keeps it from
// holding up Go's garbage collector.
//
// wazero runs a module as native code that Go's scheduler cannot preempt: a call that loops
// without calling the host never stops by itself, and a garbage collection that needs to stop
// every goroutine waits for it, stalling the whole process. wazero's remedy
// (WithCloseOnContextDone) calls out of the native code into Go at every loop head, which
// made a Go plugin 4-5x slower (Go modules run a loop head at every call and every jump back).
//
// Instrument instead adds, at the head of every loop, a countdown in a global: every
// FuelPerYield loop heads, the module calls memory.grow(0), which wazero runs in Go (a point
// where the scheduler can stop the goroutine), and checks an exported global, which the host
// sets from another goroutine to stop a call that overran its time limit: the module then
// traps. The common path is a few instructions.
package interrupt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ExportName is the name the added global is exported under.
const ExportName = "tally.interrupt"

// Version changes whenever Instrument's output for a module changes, so that caches of
// instrumented modules can be keyed by it.
const Version = 2

// FuelPerYield is how many loop heads a module runs between two calls into Go: small enough
// that a garbage collection or a stop waits well under a millisecond, large enough that the
// calls cost nothing measurable.
const FuelPerYield = 1 << 14

// Section ids.
const (
	secCustom    = 0
	secImport    = 2
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secCode      = 10
	secDataCount = 12
	secTag       = 13
)

// order is a section's place in a module (custom sections may go anywhere).
var order = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, secTag: 6, secGlobal: 7, secExport: 8, 8: 9, 9: 10, secDataCount: 11, secCode: 12, 11: 13}

// errBadModule is wrapped by every error about the module's bytes.
var errBadModule = errors.New("not a valid WebAssembly module")

// malformed is the panic value of the reader; Instrument recovers it.
type malformed string

// Instrument returns a copy of module with the interrupt global and the loop checks.
func Instrument(module []byte) (out []byte, err error) {
	defer func() {
		switch p := recover().(type) {
		case nil:
		case malformed:
			err = fmt.Errorf("%w: %s", errBadModule, string(p))
		default:
			panic(p)
		}
	}()
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%w: no WebAssembly header", errBadModule)
	}
	if binary.LittleEndian.Uint32(module[4:]) != 1 {
		return nil, fmt.Errorf("%w: binary format version %d, want 1", errBadModule, binary.LittleEndian.Uint32(module[4:]))
	}
	var sections []section
	r := reader{b: module, off: 8}
	for r.off < len(r.b) {
		id := r.byte()
		size := r.u32()
		start := r.off
		r.skip(size)
		sections = append(sections, section{id, module[start:r.off]})
	}
	m := scan(sections)
	if m.memories == 0 {
		return nil, fmt.Errorf("%w: it has no memory", errBadModule)
	}
	fuel := m.importedGlobals + m.globals // the added globals: the countdown, then the flag
	if slices.Contains(m.exports, ExportName) {
		return nil, fmt.Errorf("%w: it already exports %q", errBadModule, ExportName)
	}

	out = append(make([]byte, 0, len(module)+len(module)/8), module[:8]...)
	wroteGlobal, wroteExport := false, false
	for _, s := range sections {
		rank := order[s.id]
		if s.id != secCustom && !wroteGlobal && rank > order[secGlobal] {
			out = appendSection(out, secGlobal, addGlobals(nil))
			wroteGlobal = true
		}
		if s.id != secCustom && !wroteExport && rank > order[secExport] {
			out = appendSection(out, secExport, addExport(nil, fuel+1))
			wroteExport = true
		}
		switch s.id {
		case secGlobal:
			out = appendSection(out, secGlobal, addGlobals(s.body))
			wroteGlobal = true
		case secExport:
			out = appendSection(out, secExport, addExport(s.body, fuel+1))
			wroteExport = true
		case secCode:
			out = appendSection(out, secCode, instrumentCode(s.body, fuel))
		default:
			out = appendSection(out, s.id, s.body)
		}
	}
	if !wroteGlobal {
		out = appendSection(out, secGlobal, addGlobals(nil))
	}
	if !wroteExport {
		out = appendSection(out, secExport, addExport(nil, fuel+1))
	}
	return out, nil
}

type section struct {
	id   byte
	body []byte
}

// moduleInfo is what Instrument needs to know before it writes.
type moduleInfo struct {
	importedGlobals, globals uint32
	memories                 int
	exports                  []string
}

func scan(sections []section) moduleInfo {
	var m moduleInfo
	for _, s := range sections {
		r := reader{b: s.body}
		switch s.id {
		case secImport:
			for range r.u32() {
				r.name()
				r.name()
				switch kind := r.byte(); kind {
				case 0x00: // function: type index
					r.u32()
				case 0x01: // table: reference type, limits
					r.byte()
					r.limits()
				case 0x02: // memory
					r.limits()
					m.memories++
				case 0x03: // global: value type, mutability
					r.valType()
					r.byte()
					m.importedGlobals++
				case 0x04: // tag: attribute, type index
					r.byte()
					r.u32()
				default:
					panic(malformed(fmt.Sprintf("import kind %#x", kind)))
				}
			}
		case secGlobal:
			m.globals = uint32(r.u32())
		case secMemory:
			m.memories += r.u32()
		case secExport:
			for range r.u32() {
				m.exports = append(m.exports, r.name())
				r.byte()
				r.u32()
			}
		}
	}
	return m
}

// addGlobals appends the countdown, `(mut i32) (i32.const FuelPerYield)`, and the interrupt
// flag, `(mut i32) (i32.const 0)`, to a global section.
func addGlobals(body []byte) []byte {
	fuel := append(append([]byte{0x7f, 0x01, 0x41}, sleb(FuelPerYield)...), 0x0b)
	return appendVec(appendVec(body, fuel), []byte{0x7f, 0x01, 0x41, 0x00, 0x0b})
}

// sleb encodes a non-negative number in signed LEB128.
func sleb(n int) []byte {
	var out []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 && c&0x40 == 0 {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}

// addExport appends the export of global index to an export section.
func addExport(body []byte, index uint32) []byte {
	entry := binary.AppendUvarint(nil, uint64(len(ExportName)))
	entry = append(entry, ExportName...)
	entry = append(entry, 0x03)
	return appendVec(body, binary.AppendUvarint(entry, uint64(index)))
}

// appendVec appends one entry to a section that is a vector: count, then entries.
func appendVec(body, entry []byte) []byte {
	count := 0
	rest := body
	if len(body) > 0 {
		r := reader{b: body}
		count = r.u32()
		rest = body[r.off:]
	}
	out := binary.AppendUvarint(nil, uint64(count+1))
	out = append(out, rest...)
	return append(out, entry...)
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

// instrumentCode adds the check after every loop instruction of a code section. fuel is the
// countdown global's index; the interrupt flag's is the next.
func instrumentCode(body []byte, fuel uint32) []byte {
	get := func(g uint32) []byte { return binary.AppendUvarint([]byte{0x23}, uint64(g)) }
	set := func(g uint32) []byte { return binary.AppendUvarint([]byte{0x24}, uint64(g)) }
	var check []byte
	for _, part := range [][]byte{
		get(fuel), {0x41, 0x01, 0x6b}, set(fuel), // fuel -= 1
		get(fuel), {0x41, 0x00, 0x4c, 0x04, 0x40}, // if fuel <= 0
		get(fuel + 1), {0x04, 0x40, 0x00, 0x0b}, //   if interrupt: unreachable
		append([]byte{0x41}, sleb(FuelPerYield)...), set(fuel), //   fuel = FuelPerYield
		{0x41, 0x00, 0x40, 0x00, 0x1a}, //   drop(memory.grow(0)): a call into Go
		{0x0b},                         // end
	} {
		check = append(check, part...)
	}
	r := reader{b: body}
	n := r.u32()
	out := binary.AppendUvarint(make([]byte, 0, len(body)+len(body)/8), uint64(n))
	var fn []byte
	for range n {
		size := r.u32()
		end := r.off + size
		if size > len(r.b)-r.off {
			panic(malformed("function body overruns the code section"))
		}
		fn = instrumentFunction(fn[:0], r.b[r.off:end], check, fuel)
		out = binary.AppendUvarint(out, uint64(len(fn)))
		out = append(out, fn...)
		r.off = end
	}
	if r.off != len(r.b) {
		panic(malformed("bytes after the last function body"))
	}
	return out
}

// instrumentFunction copies one function body into out, adding check after every loop's
// block type. It checks that no instruction uses the added globals (from index first on), so
// that a module cannot clear them.
func instrumentFunction(out, body, check []byte, first uint32) []byte {
	r := reader{b: body}
	for range r.u32() { // local declarations: count, type
		r.u32()
		r.valType()
	}
	copied := 0
	for r.off < len(r.b) {
		op := r.byte()
		switch {
		case op == 0x02 || op == 0x04: // block, if
			r.blockType()
		case op == 0x03: // loop
			r.blockType()
			out = append(out, body[copied:r.off]...)
			out = append(out, check...)
			copied = r.off
		case op == 0x0c || op == 0x0d: // br, br_if
			r.u32()
		case op == 0x0e: // br_table
			for range r.u32() {
				r.u32()
			}
			r.u32()
		case op == 0x10 || op == 0x12: // call, return_call
			r.u32()
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select with types
			for range r.u32() {
				r.valType()
			}
		case op >= 0x20 && op <= 0x22: // local.get, local.set, local.tee
			r.u32()
		case op == 0x23 || op == 0x24: // global.get, global.set
			if uint32(r.u32()) >= first {
				panic(malformed("an instruction uses a global that does not exist"))
			}
		case op == 0x25 || op == 0x26: // table.get, table.set
			r.u32()
		case op >= 0x28 && op <= 0x3e: // loads and stores
			r.memArg()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			r.u32()
		case op == 0x41: // i32.const
			r.sleb()
		case op == 0x42: // i64.const
			r.sleb()
		case op == 0x43: // f32.const
			r.skip(4)
		case op == 0x44: // f64.const
			r.skip(8)
		case op == 0xd0: // ref.null
			r.byte()
		case op == 0xd2: // ref.func
			r.u32()
		case op == 0xfc:
			r.prefixFC()
		case op == 0xfd:
			r.prefixFD()
		case op == 0xfe:
			r.prefixFE()
		case op <= 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b,
			op >= 0x45 && op <= 0xc4, op == 0xd1:
			// no immediates
		default:
			panic(malformed(fmt.Sprintf("unknown instruction %#x", op)))
		}
	}
	return append(out, body[copied:]...)
}

// reader reads a module's encodings; malformed input panics with malformed.
type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		panic(malformed("truncated"))
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) skip(n int) {
	if n < 0 || n > len(r.b)-r.off {
		panic(malformed("truncated"))
	}
	r.off += n
}

// uleb reads an unsigned LEB128 number of at most bits bits.
func (r *reader) uleb(bits uint) uint64 {
	var n uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits+7 {
			panic(malformed("number too long"))
		}
		c := r.byte()
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return n
		}
	}
}

func (r *reader) u32() int {
	n := r.uleb(32)
	if n > 1<<32-1 {
		panic(malformed("number out of range"))
	}
	return int(n)
}

// sleb skips a signed LEB128 number (the value is never needed).
func (r *reader) sleb() { r.uleb(64) }

func (r *reader) name() string {
	n := r.u32()
	start := r.off
	r.skip(n)
	return string(r.b[start:r.off])
}

func (r *reader) limits() {
	flags := r.byte()
	r.uleb(64)
	if flags&0x01 != 0 {
		r.uleb(64)
	}
}

func (r *reader) valType() {
	switch t := r.byte(); t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f: // i32 i64 f32 f64 v128 funcref externref
	case 0x63, 0x64: // (ref null ht), (ref ht)
		r.sleb()
	default:
		panic(malformed(fmt.Sprintf("value type %#x", t)))
	}
}

// blockType reads a block type: empty, a value type, or a type index.
func (r *reader) blockType() {
	if r.off >= len(r.b) {
		panic(malformed("truncated"))
	}
	switch r.b[r.off] {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.byte()
	default:
		r.sleb()
	}
}

// memArg reads alignment (whose bit 6 says a memory index follows) and offset.
func (r *reader) memArg() {
	if r.u32()&0x40 != 0 {
		r.u32()
	}
	r.uleb(64)
}

func (r *reader) prefixFC() {
	switch op := r.u32(); {
	case op <= 7: // saturating truncations
	case op == 8: // memory.init: data index, memory
		r.u32()
		r.u32()
	case op == 9 || op == 13: // data.drop, elem.drop
		r.u32()
	case op == 10 || op == 12 || op == 14: // memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case op == 11 || op >= 15 && op <= 17: // memory.fill, table.grow, table.size, table.fill
		r.u32()
	default:
		panic(malformed(fmt.Sprintf("unknown instruction 0xfc %d", op)))
	}
}

func (r *reader) prefixFD() {
	switch op := r.u32(); {
	case op <= 11 || op == 92 || op == 93: // loads and stores
		r.memArg()
	case op == 12 || op == 13: // v128.const, i8x16.shuffle
		r.skip(16)
	case op >= 21 && op <= 34: // lane extracts and replaces
		r.byte()
	case op >= 84 && op <= 91: // lane loads and stores
		r.memArg()
		r.byte()
	case op <= 0x113: // the other SIMD instructions have no immediates
	default:
		panic(malformed(fmt.Sprintf("unknown instruction 0xfd %d", op)))
	}
}

func (r *reader) prefixFE() {
	switch op := r.u32(); {
	case op == 0x03: // atomic.fence
		r.byte()
	case op <= 0x02 || op >= 0x10 && op <= 0x4e:
		r.memArg()
	default:
		panic(malformed(fmt.Sprintf("unknown instruction 0xfe %#x", op)))
	}
}
