package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"time"
	"unsafe"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// The decoder is written for a WebAssembly guest, where Go code runs several times slower than
// natively and a call, a branch and an allocation cost most (docs/benchmarks.md): its readers
// are small functions of (bytes, offset) that inline and keep the offset in a local, Go's
// bounds checks catch truncated input (recovered into ErrCorrupt), fields are read in their
// fixed tag order with one comparison each, and tasks and lists are cut from slabs allocated in
// bulk.

// Values says how DecodeBatch gives an event's structured values, res and the task's args.
type Values int

const (
	// MapValues decodes them into Data.Result and Task.Args, as maps and lists.
	MapValues Values = iota
	// RawValues leaves them encoded, in Data.RawResult and Task.RawArgs, to be read with
	// Value. Building the maps is most of the cost of decoding an event in a WebAssembly
	// guest (allocation and garbage collection there cost 5 to 10 times what they do
	// natively); a plugin that reads a few keys, or walks the values once, saves it.
	RawValues
)

// DecodeBatch decodes a tally_events payload into its events.
//
// The decoded strings share b's memory instead of copying it (copying them cost more than the
// rest of decoding in a Go plugin), so the caller hands b over: b must never change afterwards.
// The host gives every payload a fresh buffer (tally_alloc), so this holds for plugins.
func DecodeBatch(b []byte, values Values) (events []event.Event, err error) {
	d := decoder{b: b, raw: values == RawValues}
	defer d.recover(&err)
	n, off := header(b, 0, List)
	if n > (len(b)-off)/minRecord {
		panic(corruption("event count out of range"))
	}
	events = make([]event.Event, n)
	for i := range events {
		d.at = off
		off = d.event(&events[i], off)
	}
	d.finish(off)
	return events, nil
}

// DecodeConfig decodes a tally_configure payload. b is handed over as in DecodeBatch.
func DecodeConfig(b []byte) (c *Config, err error) {
	d := decoder{b: b}
	defer d.recover(&err)
	c = &Config{}
	end, off := record(b, 0)
	var ok bool
	var n uint64
	if ok, off = field(b, off, end, TagConfigJobID); ok {
		c.JobID, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagConfigOptions); ok {
		c.Options, off = d.mapOf(off)
	}
	if ok, off = field(b, off, end, TagConfigVerbosity); ok {
		n, off = number(b, off, Int)
		c.Verbosity = int(n)
	}
	if ok, off = field(b, off, end, TagConfigColor); ok {
		c.Color, off = flag(b, off)
	}
	if ok, off = field(b, off, end, TagConfigLimit); ok {
		c.Limit, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagConfigTags); ok {
		c.Tags, off = stringList(b, off)
	}
	if ok, off = field(b, off, end, TagConfigSkipTags); ok {
		c.SkipTags, off = stringList(b, off)
	}
	d.finish(closeRecord(b, off, end, TagConfigSkipTags))
	return c, nil
}

// DecodeValue decodes one value encoded by AppendValue. b is handed over as in DecodeBatch.
func DecodeValue(b []byte) (v any, err error) {
	d := decoder{b: b}
	defer d.recover(&err)
	v, off := d.value(0)
	d.finish(off)
	return v, nil
}

// decoder holds what decoding a payload shares. Bad input panics, with a corruption or with
// Go's own bounds checks, and recover turns the panic into an error.
type decoder struct {
	b   []byte
	at  int  // where the event being decoded starts, for errors
	raw bool // RawValues

	// Slabs that tasks and lists are cut from.
	tasks []event.Task
	anys  []any
}

// minRecord is the smallest encoded record: a kind byte and a size.
const minRecord = 5

// slabSize is how many list items a slab holds.
const slabSize = 512

// corruption is the panic value of bad input the decoder noticed itself.
type corruption string

// recover turns a decoding panic into an error in *err.
func (d *decoder) recover(err *error) {
	switch p := recover().(type) {
	case nil:
	case corruption:
		*err = fmt.Errorf("%w in the value at byte %d: %s", ErrCorrupt, d.at, string(p))
	case runtime.Error:
		*err = fmt.Errorf("%w in the value at byte %d: truncated or malformed (%v)", ErrCorrupt, d.at, p)
	default:
		panic(p)
	}
}

func (d *decoder) finish(off int) {
	if off != len(d.b) {
		d.at = off
		panic(corruption(fmt.Sprintf("%d bytes left over", len(d.b)-off)))
	}
}

// The readers take the payload and an offset, and return what they read and the offset after
// it.

func str(b []byte, off int) (string, int) {
	if Kind(b[off]) != String {
		panic(corruption("want a string"))
	}
	n := int(binary.LittleEndian.Uint32(b[off+1:]))
	s := b[off+5 : off+5+n]
	return unsafe.String(unsafe.SliceData(s), n), off + 5 + n
}

// number reads the 8 bytes of an Int or a Float.
func number(b []byte, off int, k Kind) (uint64, int) {
	if Kind(b[off]) != k {
		panic(corruption("want a number"))
	}
	return binary.LittleEndian.Uint64(b[off+1:]), off + 9
}

func timeAt(b []byte, off int) (time.Time, int) {
	n, off := number(b, off, Int)
	return time.Unix(0, int64(n)), off
}

func flag(b []byte, off int) (bool, int) {
	k := Kind(b[off])
	if k != True && k != False {
		panic(corruption("want a boolean"))
	}
	return k == True, off + 1
}

// header reads a List's or Map's header and returns its count. The count is checked against
// the bytes left, so that garbage cannot make the decoder allocate much.
func header(b []byte, off int, k Kind) (count, next int) {
	if Kind(b[off]) != k {
		panic(corruption("want a list or a map"))
	}
	size := int(binary.LittleEndian.Uint32(b[off+1:]))
	count = int(binary.LittleEndian.Uint32(b[off+5:]))
	if size < 4 || size-4 > len(b)-off-9 || count > size {
		panic(corruption("size out of range"))
	}
	return count, off + 9
}

// record reads a Record's header and returns where its fields end and start.
func record(b []byte, off int) (end, start int) {
	if Kind(b[off]) != Record {
		panic(corruption("want a record"))
	}
	size := int(binary.LittleEndian.Uint32(b[off+1:]))
	if size > len(b)-off-5 {
		panic(corruption("size out of range"))
	}
	return off + 5 + size, off + 5
}

// field consumes the tag of the record's next field if it is tag.
func field(b []byte, off, end int, tag byte) (bool, int) {
	if off < end && b[off] == tag {
		return true, off + 1
	}
	return false, off
}

// closeRecord skips the fields after last, the last tag the reader knows (they belong to a
// later revision of the ABI), and returns the record's end. A field still there with a known
// tag is out of order.
func closeRecord(b []byte, off, end int, last byte) int {
	if off > end || off < end && b[off] <= last {
		panic(corruption("field out of order or overrunning its record"))
	}
	return end
}

// stringList reads a List of Strings.
func stringList(b []byte, off int) ([]string, int) {
	n, off := header(b, off, List)
	l := make([]string, n)
	for i := range l {
		l[i], off = str(b, off)
	}
	return l, off
}

// rawValue returns the value at off, still encoded.
func rawValue(b []byte, off int) ([]byte, int) {
	end := valueEnd(b, off)
	return b[off:end:end], end
}

// valueEnd returns where the value at off ends.
func valueEnd(b []byte, off int) int {
	var n int
	switch Kind(b[off]) {
	case Null, False, True:
	case Int, Float:
		n = 8
	case String, List, Map, Record:
		n = 4 + int(binary.LittleEndian.Uint32(b[off+1:]))
	default:
		panic(corruption("unknown kind"))
	}
	end := off + 1 + n
	_ = b[off:end]
	return end
}

func (d *decoder) value(off int) (any, int) {
	b := d.b
	switch Kind(b[off]) {
	case Null:
		return nil, off + 1
	case False:
		return false, off + 1
	case True:
		return true, off + 1
	case Int:
		n, off := number(b, off, Int)
		return int(int64(n)), off
	case Float:
		n, off := number(b, off, Float)
		return math.Float64frombits(n), off
	case String:
		return str(b, off)
	case List:
		return d.list(off)
	case Map:
		return d.mapOf(off)
	}
	panic(corruption("not a value"))
}

// mapOf reads a Map, or Null as nil.
func (d *decoder) mapOf(off int) (map[string]any, int) {
	b := d.b
	if Kind(b[off]) == Null {
		return nil, off + 1
	}
	n, off := header(b, off, Map)
	m := make(map[string]any, n)
	for range n {
		var k string
		k, off = keyAt(b, off)
		m[k], off = d.value(off)
	}
	return m, off
}

func (d *decoder) list(off int) ([]any, int) {
	n, off := header(d.b, off, List)
	if n == 0 {
		return []any{}, off
	}
	if len(d.anys) < n {
		d.anys = make([]any, max(n, slabSize))
	}
	l := d.anys[:n:n]
	d.anys = d.anys[n:]
	for i := range l {
		l[i], off = d.value(off)
	}
	return l, off
}

func (d *decoder) event(e *event.Event, off int) int {
	b := d.b
	end, off := record(b, off)
	data := &e.Data
	var ok bool
	var n uint64
	if ok, off = field(b, off, end, TagJobID); ok {
		e.JobID, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagSeq); ok {
		e.Seq, off = number(b, off, Int)
	}
	if ok, off = field(b, off, end, TagUUID); ok {
		e.UUID, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagParentUUID); ok {
		e.ParentUUID, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagCreated); ok {
		e.Created, off = timeAt(b, off)
	}
	if ok, off = field(b, off, end, TagEvent); ok {
		var t string
		t, off = str(b, off)
		e.Event = event.Type(t)
	}
	if ok, off = field(b, off, end, TagPlaybook); ok {
		data.Playbook, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagPlay); ok {
		data.Play, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagPattern); ok {
		data.PlayPattern, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagHost); ok {
		data.Host, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagTask); ok {
		data.Task, off = d.task(off)
	}
	if ok, off = field(b, off, end, TagCond); ok {
		data.IsConditional, off = flag(b, off)
	}
	if ok, off = field(b, off, end, TagIgnoreErr); ok {
		data.IgnoreErrors, off = flag(b, off)
	}
	if ok, off = field(b, off, end, TagRescued); ok {
		data.Rescued, off = flag(b, off)
	}
	if ok, off = field(b, off, end, TagIgnoreUnr); ok {
		data.IgnoreUnreachable, off = flag(b, off)
	}
	if ok, off = field(b, off, end, TagHandler); ok {
		data.Handler, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagIncluded); ok {
		data.Included, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagStart); ok {
		data.Start, off = timeAt(b, off)
	}
	if ok, off = field(b, off, end, TagEnd); ok {
		data.End, off = timeAt(b, off)
	}
	if ok, off = field(b, off, end, TagDuration); ok {
		n, off = number(b, off, Float)
		data.Duration = math.Float64frombits(n)
	}
	if ok, off = field(b, off, end, TagResult); ok {
		if d.raw {
			data.RawResult, off = rawValue(b, off)
		} else {
			data.Result, off = d.mapOf(off)
		}
	}
	if ok, off = field(b, off, end, TagStats); ok {
		data.Stats, off = d.stats(off)
	}
	return closeRecord(b, off, end, TagStats)
}

func (d *decoder) task(off int) (*event.Task, int) {
	if len(d.tasks) == 0 {
		d.tasks = make([]event.Task, slabSize/8)
	}
	t := &d.tasks[0]
	d.tasks = d.tasks[1:]
	b := d.b
	end, off := record(b, off)
	var ok bool
	if ok, off = field(b, off, end, TagTaskName); ok {
		t.Name, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagTaskAction); ok {
		t.Action, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagTaskPath); ok {
		t.Path, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagTaskUUID); ok {
		t.UUID, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagTaskTags); ok {
		t.Tags, off = stringList(b, off)
	}
	if ok, off = field(b, off, end, TagTaskArgs); ok {
		if d.raw {
			t.RawArgs, off = rawValue(b, off)
		} else {
			t.Args, off = d.mapOf(off)
		}
	}
	return t, closeRecord(b, off, end, TagTaskArgs)
}

func (d *decoder) stats(off int) (*event.Stats, int) {
	st := new(event.Stats)
	b := d.b
	end, off := record(b, off)
	var ok bool
	var n uint64
	if ok, off = field(b, off, end, TagStatsStatus); ok {
		st.Status, off = str(b, off)
	}
	if ok, off = field(b, off, end, TagStatsRC); ok {
		n, off = number(b, off, Int)
		st.RC = int(n)
	}
	if ok, off = field(b, off, end, TagStatsStart); ok {
		st.Start, off = timeAt(b, off)
	}
	if ok, off = field(b, off, end, TagStatsEnd); ok {
		st.End, off = timeAt(b, off)
	}
	if ok, off = field(b, off, end, TagStatsHosts); ok {
		var count int
		count, off = header(b, off, Map)
		st.Hosts = make(map[string]event.HostStats, count)
		for range count {
			var host string
			host, off = keyAt(b, off)
			st.Hosts[host], off = hostStats(b, off)
		}
	}
	if ok, off = field(b, off, end, TagStatsCustom); ok {
		var count int
		count, off = header(b, off, Map)
		st.CustomStats = make(map[string]map[string]any, count)
		for range count {
			var host string
			host, off = keyAt(b, off)
			st.CustomStats[host], off = d.mapOf(off)
		}
	}
	if ok, off = field(b, off, end, TagStatsGlobal); ok {
		st.GlobalCustomStats, off = d.mapOf(off)
	}
	if ok, off = field(b, off, end, TagStatsMsg); ok {
		st.Message, off = str(b, off)
	}
	return st, closeRecord(b, off, end, TagStatsMsg)
}

// keyAt reads a Map's key.
func keyAt(b []byte, off int) (string, int) {
	n := int(binary.LittleEndian.Uint32(b[off:]))
	k := b[off+4 : off+4+n]
	return unsafe.String(unsafe.SliceData(k), n), off + 4 + n
}

func hostStats(b []byte, off int) (event.HostStats, int) {
	var h event.HostStats
	end, off := record(b, off)
	for i, c := range [...]*int{&h.OK, &h.Changed, &h.Failures, &h.Unreachable, &h.Skipped, &h.Rescued, &h.Ignored, &h.Processed} {
		if ok, next := field(b, off, end, byte(TagHostOK+i)); ok {
			var n uint64
			n, off = number(b, next, Int)
			*c = int(n)
		}
	}
	return h, closeRecord(b, off, end, TagHostProcessed)
}
