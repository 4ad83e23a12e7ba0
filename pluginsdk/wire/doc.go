package wire

import (
	"encoding/binary"
	"time"
)

// Doc writes a Map entry by entry, with no Go map in between: how a plugin builds the
// document of a sink record cheaply (pluginsdk.Sink.PutDoc), as tally.h's tally_doc does in
// C. In WebAssembly, a map[string]any built for each record and encoded by AppendValue costs
// several times what the record's own bytes do (docs/benchmarks.md). Each key should appear
// once. A Doc is reused: Reset starts the next.
type Doc struct {
	b     []byte
	count int
}

// Reset empties the Doc, keeping its buffer.
func (d *Doc) Reset() {
	d.b = append(d.b[:0], byte(Map), 0, 0, 0, 0, 0, 0, 0, 0)
	d.count = 0
}

func (d *Doc) key(k string) {
	if d.b == nil {
		d.Reset()
	}
	d.b = appendKey(d.b, k)
	d.count++
}

// Str adds a String.
func (d *Doc) Str(k, v string) { d.key(k); d.b = appendString(d.b, v) }

// Int adds an Int.
func (d *Doc) Int(k string, v int64) { d.key(k); d.b = appendInt(d.b, v) }

// Float adds a Float.
func (d *Doc) Float(k string, v float64) {
	d.key(k)
	d.b = appendFloat(d.b, v)
}

// Bool adds a True or a False.
func (d *Doc) Bool(k string, v bool) { d.key(k); d.b = AppendValue(d.b, v) }

// Time adds a time as its JSON form, a String in RFC 3339 with nanoseconds.
func (d *Doc) Time(k string, t time.Time) { d.key(k); d.b = appendTime(d.b, t) }

// Value adds any value AppendValue takes, a Value as it is.
func (d *Doc) Value(k string, v any) { d.key(k); d.b = AppendValue(d.b, v) }

// Bytes ends the Map and returns it, valid until the next Reset or addition.
func (d *Doc) Bytes() Value {
	if d.b == nil {
		d.Reset()
	}
	binary.LittleEndian.PutUint32(d.b[1:], uint32(len(d.b)-5))
	binary.LittleEndian.PutUint32(d.b[5:], uint32(d.count))
	return d.b
}
