// Package testplugins holds the plugins pluginhost's tests and benchmarks run, both natively
// and compiled to WebAssembly (testdata/plugins/*), so that the two run the same code.
package testplugins

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// RecorderMeta describes Recorder.
var RecorderMeta = meta.Metadata{
	Name:        "recorder",
	Version:     "1.0.0",
	Type:        meta.Aggregate,
	Description: "Receives every event, touches every field, and records the sequence numbers.",
	Options: []meta.Option{
		{Name: "dir", Type: meta.Dir, Env: []string{"TALLY_RECORDER_DIR"}, Description: "where to write events.txt, one line per event"},
		{Name: "label", Type: meta.Str, Default: "rec", Description: "written before each line"},
		{Name: "raw", Type: meta.Bool, Default: false, Description: "read values lazily (pluginsdk.RawValuesHook)"},
	},
}

// Recorder receives every event and reads every field of it, as the delivery benchmarks
// require; with a dir it writes "label seq event" lines to dir/events.txt.
type Recorder struct {
	Sum   uint64 // over every field of every event, so that no read can be optimised away
	N     int
	label string
	raw   bool
	out   *os.File
	log   func(string, ...any)
}

// Configure opens the record file.
func (r *Recorder) Configure(c *pluginsdk.Config) error {
	r.label, r.raw = c.String("label"), c.Bool("raw")
	r.log = c.Logf
	if dir := c.String("dir"); dir != "" {
		f, err := os.Create(filepath.Join(dir, "events.txt"))
		if err != nil {
			return err
		}
		r.out = f
	}
	return nil
}

// RawValues implements pluginsdk.RawValuesHook.
func (r *Recorder) RawValues() bool { return r.raw }

// Event touches and records e.
func (r *Recorder) Event(e *event.Event) error {
	r.N++
	r.Sum += Touch(e)
	if r.out != nil {
		if _, err := fmt.Fprintf(r.out, "%s %d %s\n", r.label, e.Seq, e.Event); err != nil {
			return err
		}
	}
	return nil
}

// Close logs the totals.
func (r *Recorder) Close() error {
	r.log("%d events, sum %d", r.N, r.Sum)
	if r.out != nil {
		return r.out.Close()
	}
	return nil
}

// Touch reads every field of e, and every value of its result, stats and task arguments, and
// returns a sum of what it read.
func Touch(e *event.Event) uint64 {
	n := str(e.JobID) + e.Seq + str(e.UUID) + str(e.ParentUUID) + nanos(e.Created) + str(string(e.Event))
	d := &e.Data
	n += str(d.Playbook) + str(d.Play) + str(d.PlayPattern) + str(d.Host) + str(d.Handler) + str(d.Included)
	n += flag(d.IsConditional) + flag(d.IgnoreErrors) + flag(d.Rescued) + flag(d.IgnoreUnreachable)
	n += nanos(d.Start) + nanos(d.End) + uint64(d.Duration*1e9)
	if t := d.Task; t != nil {
		n += str(t.Name) + str(t.Action) + str(t.Path) + str(t.UUID) + values(t.Args, t.RawArgs)
		for _, tag := range t.Tags {
			n += str(tag)
		}
	}
	n += values(d.Result, d.RawResult)
	if st := d.Stats; st != nil {
		n += str(st.Status) + uint64(st.RC) + nanos(st.Start) + nanos(st.End)
		for h, s := range st.Hosts {
			n += str(h) + uint64(s.OK+s.Changed+s.Failures+s.Unreachable+s.Skipped+s.Rescued+s.Ignored+s.Processed)
		}
		for h, m := range st.CustomStats {
			n += str(h) + value(m)
		}
		n += value(st.GlobalCustomStats)
	}
	return n
}

// values touches a map, or the same encoded when the plugin reads values lazily.
func values(m map[string]any, encoded []byte) uint64 {
	if encoded != nil {
		return raw(encoded)
	}
	return value(m)
}

func raw(v wire.Value) uint64 {
	switch v.Kind() {
	case wire.Null:
		return 1
	case wire.True:
		return 1
	case wire.False:
		return 0
	case wire.Int:
		return uint64(v.Int())
	case wire.Float:
		return uint64(v.Float())
	case wire.String:
		return str(v.Str())
	}
	n := uint64(v.Len())
	for it := v.Iter(); it.Next(); {
		if v.Kind() == wire.Map {
			n += str(it.Key())
		}
		n += raw(it.Value())
	}
	return n
}

// nanos is a time as the encoding has it: nanoseconds since the epoch, 0 when unset (the
// zero time.Time has no such number).
func nanos(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

func str(s string) uint64 {
	if s == "" {
		return 1
	}
	return uint64(len(s)) + uint64(s[len(s)-1])
}

func flag(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func value(v any) uint64 {
	switch x := v.(type) {
	case nil:
		return 1
	case bool:
		return flag(x)
	case int:
		return uint64(x)
	case float64:
		return uint64(x)
	case string:
		return str(x)
	case []any:
		n := uint64(len(x))
		for _, item := range x {
			n += value(item)
		}
		return n
	case map[string]any:
		n := uint64(len(x))
		for k, item := range x {
			n += str(k) + value(item)
		}
		return n
	}
	panic(fmt.Sprintf("unexpected %T in an event", v))
}
