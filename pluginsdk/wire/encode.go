package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// Batch builds the payload of tally_events: a List of event Records. The zero value is an
// empty batch; Reset reuses its memory.
type Batch struct {
	buf []byte
	n   int
}

// batchHeader is the List's kind, size and count, patched in Bytes.
const batchHeader = 1 + 4 + 4

// Reset empties the batch.
func (b *Batch) Reset() {
	b.buf = b.buf[:0]
	b.n = 0
}

// Add appends one event.
func (b *Batch) Add(e *event.Event) {
	if len(b.buf) == 0 {
		b.buf = append(b.buf, make([]byte, batchHeader)...)
	}
	b.buf = AppendEvent(b.buf, e)
	b.n++
}

// Len is the number of events in the batch.
func (b *Batch) Len() int { return b.n }

// Size is the batch's encoded size in bytes.
func (b *Batch) Size() int { return max(len(b.buf), batchHeader) }

// Bytes returns the encoded batch. It stays valid until the next Add or Reset.
func (b *Batch) Bytes() []byte {
	if len(b.buf) == 0 {
		b.buf = append(b.buf, make([]byte, batchHeader)...)
	}
	b.buf[0] = byte(List)
	binary.LittleEndian.PutUint32(b.buf[1:], uint32(len(b.buf)-5))
	binary.LittleEndian.PutUint32(b.buf[5:], uint32(b.n))
	return b.buf
}

// AppendEvent appends e as a Record.
func AppendEvent(b []byte, e *event.Event) []byte {
	b, start := beginRecord(b)
	b = appendStringField(b, TagJobID, e.JobID)
	b = appendIntField(b, TagSeq, int64(e.Seq))
	b = appendStringField(b, TagUUID, e.UUID)
	b = appendStringField(b, TagParentUUID, e.ParentUUID)
	b = appendTimeField(b, TagCreated, e.Created)
	b = appendStringField(b, TagEvent, string(e.Event))
	d := &e.Data
	b = appendStringField(b, TagPlaybook, d.Playbook)
	b = appendStringField(b, TagPlay, d.Play)
	b = appendStringField(b, TagPattern, d.PlayPattern)
	b = appendStringField(b, TagHost, d.Host)
	if t := d.Task; t != nil {
		b = append(b, TagTask)
		var ts int
		b, ts = beginRecord(b)
		b = appendStringField(b, TagTaskName, t.Name)
		b = appendStringField(b, TagTaskAction, t.Action)
		b = appendStringField(b, TagTaskPath, t.Path)
		b = appendStringField(b, TagTaskUUID, t.UUID)
		if t.Tags != nil {
			b = AppendValue(append(b, TagTaskTags), t.Tags)
		}
		if t.Args != nil {
			b = AppendValue(append(b, TagTaskArgs), t.Args)
		}
		b = endRecord(b, ts)
	}
	b = appendFlag(b, TagCond, d.IsConditional)
	b = appendFlag(b, TagIgnoreErr, d.IgnoreErrors)
	b = appendFlag(b, TagRescued, d.Rescued)
	b = appendFlag(b, TagIgnoreUnr, d.IgnoreUnreachable)
	b = appendStringField(b, TagHandler, d.Handler)
	b = appendStringField(b, TagIncluded, d.Included)
	b = appendTimeField(b, TagStart, d.Start)
	b = appendTimeField(b, TagEnd, d.End)
	if d.Duration != 0 {
		b = appendFloat(append(b, TagDuration), d.Duration)
	}
	if d.Result != nil {
		b = AppendValue(append(b, TagResult), d.Result)
	}
	if d.Stats != nil {
		b = appendStats(append(b, TagStats), d.Stats)
	}
	return endRecord(b, start)
}

func appendStats(b []byte, st *event.Stats) []byte {
	b, start := beginRecord(b)
	b = appendStringField(b, TagStatsStatus, st.Status)
	b = appendIntField(b, TagStatsRC, int64(st.RC))
	b = appendTimeField(b, TagStatsStart, st.Start)
	b = appendTimeField(b, TagStatsEnd, st.End)
	b = append(b, TagStatsHosts, byte(Map))
	b, hs := beginSized(b, len(st.Hosts))
	for host, h := range st.Hosts {
		b = appendKey(b, host)
		var rs int
		b, rs = beginRecord(b)
		for _, f := range [...]struct {
			tag byte
			n   int
		}{
			{TagHostOK, h.OK}, {TagHostChanged, h.Changed}, {TagHostFailures, h.Failures},
			{TagHostUnreachable, h.Unreachable}, {TagHostSkipped, h.Skipped},
			{TagHostRescued, h.Rescued}, {TagHostIgnored, h.Ignored}, {TagHostProcessed, h.Processed},
		} {
			b = appendInt(append(b, f.tag), int64(f.n))
		}
		b = endRecord(b, rs)
	}
	b = endSized(b, hs)
	if st.CustomStats != nil {
		b = append(b, TagStatsCustom, byte(Map))
		var cs int
		b, cs = beginSized(b, len(st.CustomStats))
		for host, m := range st.CustomStats {
			b = AppendValue(appendKey(b, host), m)
		}
		b = endSized(b, cs)
	}
	if st.GlobalCustomStats != nil {
		b = AppendValue(append(b, TagStatsGlobal), st.GlobalCustomStats)
	}
	if st.Message != "" {
		b = appendStringField(b, TagStatsMsg, st.Message)
	}
	return endRecord(b, start)
}

// AppendConfig appends c as a Record.
func AppendConfig(b []byte, c *Config) []byte {
	b, start := beginRecord(b)
	b = appendStringField(b, TagConfigJobID, c.JobID)
	b = AppendValue(append(b, TagConfigOptions), c.Options)
	b = appendIntField(b, TagConfigVerbosity, int64(c.Verbosity))
	b = appendFlag(b, TagConfigColor, c.Color)
	if c.Limit != "" {
		b = appendStringField(b, TagConfigLimit, c.Limit)
	}
	if len(c.Tags) > 0 {
		b = AppendValue(append(b, TagConfigTags), c.Tags)
	}
	if len(c.SkipTags) > 0 {
		b = AppendValue(append(b, TagConfigSkipTags), c.SkipTags)
	}
	return endRecord(b, start)
}

// AppendValue appends any value a module result can hold. Maps and slices of any element type
// become Maps and Lists; a Value, already encoded, is appended as it is; other types
// (structs, times) are encoded as their JSON form would decode, so that a plugin sees what
// events.jsonl shows.
func AppendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, byte(Null))
	case Value:
		if len(x) == 0 {
			return append(b, byte(Null))
		}
		return append(b, x...)
	case time.Time:
		return appendTime(b, x)
	case bool:
		if x {
			return append(b, byte(True))
		}
		return append(b, byte(False))
	case string:
		return appendString(b, x)
	case int:
		return appendInt(b, int64(x))
	case int64:
		return appendInt(b, x)
	case int32:
		return appendInt(b, int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return appendFloat(b, float64(x))
		}
		return appendInt(b, int64(x))
	case float64:
		return appendFloat(b, x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return appendInt(b, n)
		}
		if f, err := x.Float64(); err == nil {
			return appendFloat(b, f)
		}
		return appendString(b, x.String())
	case map[string]any:
		b = append(b, byte(Map))
		b, start := beginSized(b, len(x))
		for k, val := range x {
			b = AppendValue(appendKey(b, k), val)
		}
		return endSized(b, start)
	case []any:
		b = append(b, byte(List))
		b, start := beginSized(b, len(x))
		for _, val := range x {
			b = AppendValue(b, val)
		}
		return endSized(b, start)
	case []string:
		b = append(b, byte(List))
		b, start := beginSized(b, len(x))
		for _, s := range x {
			b = appendString(b, s)
		}
		return endSized(b, start)
	}
	return appendReflect(b, v)
}

// appendReflect encodes the values AppendValue has no fast case for.
func appendReflect(b []byte, v any) []byte {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return AppendValue(b, rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return appendInt(b, rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return AppendValue(b, rv.Uint())
	case reflect.Float32, reflect.Float64:
		return appendFloat(b, rv.Float())
	case reflect.String:
		return appendString(b, rv.String())
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(b, byte(Null))
		}
		if _, ok := v.(json.Marshaler); !ok {
			return AppendValue(b, rv.Elem().Interface())
		}
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return append(b, byte(Null))
		}
		if rv.Type().Elem().Kind() != reflect.Uint8 { // []byte is JSON's base64 string
			b = append(b, byte(List))
			b, start := beginSized(b, rv.Len())
			for i := range rv.Len() {
				b = AppendValue(b, rv.Index(i).Interface())
			}
			return endSized(b, start)
		}
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			if rv.IsNil() {
				return append(b, byte(Null))
			}
			b = append(b, byte(Map))
			b, start := beginSized(b, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				b = AppendValue(appendKey(b, it.Key().String()), it.Value().Interface())
			}
			return endSized(b, start)
		}
	}
	return appendJSON(b, v)
}

// appendTime appends t as a String, in RFC 3339 with nanoseconds, as its JSON form, formatted
// in place.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, byte(String), 0, 0, 0, 0)
	at := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	binary.LittleEndian.PutUint32(b[at-4:], uint32(len(b)-at))
	return b
}

// appendJSON encodes v as encoding/json would show it, for types with their own JSON form
// (structs) and anything else left.
func appendJSON(b []byte, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		return appendString(b, fmt.Sprint(v))
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return appendString(b, string(data))
	}
	return AppendValue(b, generic)
}

func appendString(b []byte, s string) []byte {
	b = append(b, byte(String))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendKey(b []byte, k string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
	return append(b, k...)
}

func appendInt(b []byte, n int64) []byte {
	return binary.LittleEndian.AppendUint64(append(b, byte(Int)), uint64(n))
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(append(b, byte(Float)), math.Float64bits(f))
}

func appendStringField(b []byte, tag byte, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, tag), s)
}

func appendIntField(b []byte, tag byte, n int64) []byte {
	return appendInt(append(b, tag), n)
}

func appendTimeField(b []byte, tag byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return appendInt(append(b, tag), t.UnixNano())
}

func appendFlag(b []byte, tag byte, set bool) []byte {
	if !set {
		return b
	}
	return append(b, tag, byte(True))
}

// beginRecord appends a Record's kind and a size to patch; it returns where the size is.
func beginRecord(b []byte) ([]byte, int) {
	b = append(b, byte(Record))
	return append(b, 0, 0, 0, 0), len(b)
}

func endRecord(b []byte, at int) []byte {
	binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

// beginSized appends a List's or Map's size to patch and its count.
func beginSized(b []byte, count int) ([]byte, int) {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	return binary.LittleEndian.AppendUint32(b, uint32(count)), at
}

func endSized(b []byte, at int) []byte { return endRecord(b, at) }
