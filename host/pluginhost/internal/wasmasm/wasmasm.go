// Package wasmasm assembles WebAssembly modules byte by byte, for tests that need modules a
// compiler would not make, or small enough to compile in milliseconds.
package wasmasm

import "encoding/binary"

// Value types.
const (
	I32 = 0x7f
	I64 = 0x7e
)

// Export kinds.
const (
	Func   = 0x00
	Memory = 0x02
	Global = 0x03
)

// Instructions with no immediates, and the one-byte block type of a block without results.
const (
	Unreachable = 0x00
	Loop        = 0x03
	If          = 0x04
	Br          = 0x0c
	End         = 0x0b
	Call        = 0x10
	Void        = 0x40
)

// Module returns a module made of sections, indexed by section id (nil entries are left out;
// ids are in the order the binary format requires for the common sections).
func Module(sections [][]byte) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	for id, content := range sections {
		if content != nil {
			out = append(out, byte(id))
			out = append(binary.AppendUvarint(out, uint64(len(content))), content...)
		}
	}
	return out
}

// Vec encodes a vector: the count, then the items.
func Vec(items ...[]byte) []byte {
	out := binary.AppendUvarint(nil, uint64(len(items)))
	for _, item := range items {
		out = append(out, item...)
	}
	return out
}

// Name encodes a name (or any byte string): its length, then its bytes.
func Name(s string) []byte { return append(binary.AppendUvarint(nil, uint64(len(s))), s...) }

// FuncType encodes a function type.
func FuncType(params, results []byte) []byte {
	return append(append([]byte{0x60}, Vec(bytesOf(params)...)...), Vec(bytesOf(results)...)...)
}

func bytesOf(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

// Body encodes a function body without locals: code, then end.
func Body(code ...[]byte) []byte {
	b := []byte{0x00}
	for _, c := range code {
		b = append(b, c...)
	}
	b = append(b, End)
	return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
}

// Export encodes an export.
func Export(name string, kind byte, index int) []byte {
	return binary.AppendUvarint(append(Name(name), kind), uint64(index))
}

// Data encodes an active data segment of memory 0 at offset at.
func Data(at int32, content string) []byte {
	return append(append(append([]byte{0x00}, I32Const(at)...), End), Name(content)...)
}

// I32Const and I64Const encode constant instructions.
func I32Const(n int32) []byte { return sleb([]byte{0x41}, int64(n)) }

// I64Const encodes an i64.const instruction.
func I64Const(n int64) []byte { return sleb([]byte{0x42}, n) }

// GlobalGet encodes a global.get instruction.
func GlobalGet(index int) []byte { return binary.AppendUvarint([]byte{0x23}, uint64(index)) }

// sleb appends n in signed LEB128.
func sleb(b []byte, n int64) []byte {
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 && c&0x40 == 0 || n == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
