package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/tallyrun/tally/pluginsdk/event"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)

// sample has every field of every event set, with results of the Go types modules produce.
func sample() []*event.Event {
	type item struct {
		Name string `json:"name"`
	}
	return []*event.Event{
		{JobID: "job", Seq: 1, UUID: "u1", Created: t0, Event: event.PlaybookOnStart, Data: event.Data{Playbook: "site.yml"}},
		{JobID: "job", Seq: 2, UUID: "u2", ParentUUID: "u1", Created: t0, Event: event.RunnerOnFailed, Data: event.Data{
			Playbook: "site.yml", Play: "web", PlayPattern: "all", Host: "h1",
			Task: &event.Task{Name: "t", Action: "command", Path: "site.yml:3", UUID: "u3", Tags: []string{"a", "b"},
				Args: map[string]any{"_raw_params": "false", "chdir": nil}},
			IsConditional: true, IgnoreErrors: true, Rescued: true, IgnoreUnreachable: true,
			Handler: "restart", Included: "inc.yml", Start: t0, End: t0.Add(time.Second), Duration: 1.5,
			Result: map[string]any{
				"rc": 1, "big": int64(1) << 40, "small": uint8(7), "ratio": 0.25, "ok": false,
				"stdout_lines": []string{"x", "y"}, "env": map[string]string{"A": "1"},
				"nested": []any{map[string]any{"k": []any{}}, nil, true},
				"struct": item{Name: "n"}, "when": t0, "empty": map[string]any{},
			},
		}},
		{JobID: "job", Seq: 3, UUID: "u4", Created: t0, Event: event.PlaybookOnStats, Data: event.Data{Stats: &event.Stats{
			Status: "failed", RC: 2, Start: t0, End: t0,
			Hosts:             map[string]event.HostStats{"h1": {OK: 1, Changed: 2, Failures: 3, Unreachable: 4, Skipped: 5, Rescued: 6, Ignored: 7, Processed: 1}},
			CustomStats:       map[string]map[string]any{"h1": {"n": 1}},
			GlobalCustomStats: map[string]any{"total": 2},
		}}},
		{JobID: "job", Seq: 4, UUID: "u5", Created: t0, Event: event.PlaybookOnStats, Data: event.Data{Stats: &event.Stats{
			Status: "error", RC: 4, Start: t0, End: t0, Hosts: map[string]event.HostStats{},
			Message: "site.yml:3: couldn't resolve module/action 'x'",
		}}},
	}
}

// decoded is sample as a plugin gets it: numbers as int or float64, lists as []any, maps as
// map[string]any, other types as their JSON form.
func decoded() []event.Event {
	var out []event.Event
	for _, e := range sample() {
		out = append(out, *e)
	}
	out[1].Data.Result = map[string]any{
		"rc": 1, "big": 1 << 40, "small": 7, "ratio": 0.25, "ok": false,
		"stdout_lines": []any{"x", "y"}, "env": map[string]any{"A": "1"},
		"nested": []any{map[string]any{"k": []any{}}, nil, true},
		"struct": map[string]any{"name": "n"}, "when": t0.Format(time.RFC3339Nano), "empty": map[string]any{},
	}
	return out
}

func encode(events []*event.Event) []byte {
	var b Batch
	for _, e := range events {
		b.Add(e)
	}
	return bytes.Clone(b.Bytes())
}

func TestDecodeBatchGivesBackEveryField(t *testing.T) {
	got, err := DecodeBatch(encode(sample()), MapValues)
	if err != nil {
		t.Fatal(err)
	}
	want := decoded()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameEvent(&got[i], &want[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// sameEvent compares events with times compared as instants.
func sameEvent(a, b *event.Event) bool {
	a, b = withUTC(a), withUTC(b)
	return reflect.DeepEqual(a, b)
}

func withUTC(e *event.Event) *event.Event {
	c := *e
	c.Created, c.Data.Start, c.Data.End = c.Created.UTC(), c.Data.Start.UTC(), c.Data.End.UTC()
	if st := c.Data.Stats; st != nil {
		s := *st
		s.Start, s.End = s.Start.UTC(), s.End.UTC()
		c.Data.Stats = &s
	}
	return &c
}

func TestRawValuesReadLikeTheMaps(t *testing.T) {
	events, err := DecodeBatch(encode(sample()), RawValues)
	if err != nil {
		t.Fatal(err)
	}
	e := &events[1]
	if e.Data.Result != nil || e.Data.Task.Args != nil {
		t.Fatal("RawValues decoded maps")
	}
	res := Value(e.Data.RawResult)
	if got, err := res.Decode(); err != nil || !reflect.DeepEqual(got, decoded()[1].Data.Result) {
		t.Errorf("Decode = %v, %v", got, err)
	}
	if got, err := Value(e.Data.Task.RawArgs).Decode(); err != nil || !reflect.DeepEqual(got, map[string]any{"_raw_params": "false", "chdir": nil}) {
		t.Errorf("args Decode = %v, %v", got, err)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"rc", res.Get("rc").Int(), int64(1)},
		{"ratio", res.Get("ratio").Float(), 0.25},
		{"ok", res.Get("ok").Bool(), false},
		{"ok kind", res.Get("ok").Kind(), False},
		{"missing", res.Get("nope").Kind(), Null},
		{"lines", res.Get("stdout_lines").Len(), 2},
		{"env.A", res.Get("env").Get("A").Str(), "1"},
		{"rc as string", res.Get("rc").Str(), ""},
		{"list get", res.Get("stdout_lines").Get("x").Kind(), Null},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	var lines []string
	for it := res.Get("stdout_lines").Iter(); it.Next(); {
		lines = append(lines, it.Key()+"="+it.Value().Str())
	}
	if !reflect.DeepEqual(lines, []string{"=x", "=y"}) {
		t.Errorf("list items %q", lines)
	}
}

func TestDecodeSkipsFieldsOfALaterRevision(t *testing.T) {
	e := sample()[0]
	b := AppendEvent(nil, e)
	// Add a field with a tag above all known ones, as a later revision of the ABI may.
	b = append(b, 200, byte(String), 3, 0, 0, 0, 'n', 'e', 'w')
	binary.LittleEndian.PutUint32(b[1:], uint32(len(b)-5))
	batch := append([]byte{byte(List), 0, 0, 0, 0, 1, 0, 0, 0}, b...)
	binary.LittleEndian.PutUint32(batch[1:], uint32(len(batch)-5))
	got, err := DecodeBatch(batch, MapValues)
	if err != nil {
		t.Fatal(err)
	}
	if !sameEvent(&got[0], e) {
		t.Errorf("got %+v, want %+v", got[0], *e)
	}
}

func TestDecodeRejectsCorruptPayloadsWithoutPanicking(t *testing.T) {
	valid := encode(sample())
	outOfOrder := encode(sample()[:1])
	// In the first event, make the second field (seq, tag 2) claim tag 1 again.
	outOfOrder[9+5+1+5+len("job")] = TagJobID
	tests := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"not a list", []byte{byte(Map), 4, 0, 0, 0, 0, 0, 0, 0}},
		{"count beyond the payload", []byte{byte(List), 4, 0, 0, 0, 0xff, 0xff, 0, 0}},
		{"bytes left over", append(bytes.Clone(valid), 0)},
		{"field out of order", outOfOrder},
	}
	for n := 1; n < len(valid); n += 7 {
		tests = append(tests, struct {
			name    string
			payload []byte
		}{"truncated", valid[:n]})
	}
	for _, tt := range tests {
		if _, err := DecodeBatch(bytes.Clone(tt.payload), MapValues); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s (%d bytes): err = %v, want ErrCorrupt", tt.name, len(tt.payload), err)
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	line := CommandLine{Limit: "web*:!web3", Tags: []string{"deploy", "config"}, SkipTags: []string{"slow"}}
	for _, tt := range []struct {
		name string
		line CommandLine
	}{{"without a limit or tags", CommandLine{}}, {"with a limit and tags", line}} {
		in := &Config{JobID: "j", Options: map[string]any{"n": int64(3), "names": []string{"a"}, "on": true}, Verbosity: 2, Color: true, CommandLine: tt.line}
		got, err := DecodeConfig(AppendConfig(nil, in))
		if err != nil {
			t.Fatal(err)
		}
		want := &Config{JobID: "j", Options: map[string]any{"n": 3, "names": []any{"a"}, "on": true}, Verbosity: 2, Color: true, CommandLine: tt.line}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, want)
		}
	}
}

// A settings record without the command line's fields (a host of the first revision of ABI
// version 1) decodes with them empty.
func TestConfigWithoutTheCommandLineFieldsDecodes(t *testing.T) {
	got, err := DecodeConfig(AppendConfig(nil, &Config{JobID: "j", Verbosity: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if got.JobID != "j" || got.Verbosity != 1 || got.Limit != "" || got.Tags != nil || got.SkipTags != nil {
		t.Errorf("got %+v", got)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(encode(sample()))
	f.Add(encode(nil))
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, v := range []Values{MapValues, RawValues} {
			if _, err := DecodeBatch(bytes.Clone(payload), v); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
		}
	})
}

// A Value read from a payload goes into a new one as it is, and an empty one as Null: a
// plugin can pass part of a raw result on without decoding it.
func TestAppendValueCopiesAnEncodedValue(t *testing.T) {
	res := Value(AppendValue(nil, map[string]any{"msg": "ok", "rc": 2, "list": []any{1.5, nil}}))
	got, err := DecodeValue(AppendValue(nil, map[string]any{"res": res, "msg": res.Get("msg"), "none": res.Get("absent")}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"res": map[string]any{"msg": "ok", "rc": 2, "list": []any{1.5, nil}}, "msg": "ok", "none": nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

// A Doc encodes what AppendValue would of the same map, and Reset starts a new one.
func TestDocEncodesAMapEntryByEntry(t *testing.T) {
	var d Doc
	d.Str("old", "gone")
	d.Reset()
	d.Str("s", "x")
	d.Int("i", -3)
	d.Float("f", 0.5)
	d.Bool("b", true)
	d.Time("t", t0)
	d.Value("v", Value(AppendValue(nil, []any{"a", 1})))
	got, err := DecodeValue(bytes.Clone(d.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := DecodeValue(AppendValue(nil, map[string]any{"s": "x", "i": -3, "f": 0.5, "b": true, "t": t0, "v": []any{"a", 1}}))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	var empty Doc
	if got, err := DecodeValue(bytes.Clone(empty.Bytes())); err != nil || !reflect.DeepEqual(got, map[string]any{}) {
		t.Errorf("an empty Doc is %#v (%v), want an empty Map", got, err)
	}
}

func TestAppendJSONWritesWhatEncodingJSONWritesOfTheDecodedValue(t *testing.T) {
	dup := Doc{}
	dup.Str("k", "first")
	dup.Int("a", 1)
	dup.Str("k", "last")
	for _, tt := range []struct {
		name string
		v    Value
	}{
		{"scalars", Value(AppendValue(nil, map[string]any{"n": nil, "t": true, "f": false, "i": -42, "big": int64(math.MaxInt64)}))},
		{"floats", Value(AppendValue(nil, []any{0.0, math.Copysign(0, -1), 0.1, 1e20, 1e21, 1e-6, 1e-7, -2.5e-9, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64}))},
		{"strings", Value(AppendValue(nil, []any{"", "plain", `"quoted" \back\`, "<a href=\"x\">&amp;</a>", "\b\f\n\r\t\x00\x1f\x7f",
			"é ü 日本", "\u2028\u2029", "bad \xff\xfe utf-8", "cut \xe6\x97"}))},
		{"nested and sorted", Value(AppendValue(nil, map[string]any{"z": []any{map[string]any{"b": 1, "a": []any{}}, map[string]any{}},
			"a": map[string]any{"y": map[string]any{"x": "<"}, "é": 1, "E": 2}, "m": []any{nil, []any{[]any{}}}}))},
		{"a key twice keeps the last", dup.Bytes()},
	} {
		want, err := DecodeValue(bytes.Clone(tt.v))
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(want)
		got, err := AppendJSON([]byte("prefix:"), tt.v)
		if err != nil || string(got) != "prefix:"+string(wantJSON) {
			t.Errorf("%s: got %s (%v), want prefix:%s", tt.name, got, err, wantJSON)
		}
	}
}

func TestAppendJSONRefusesWhatJSONCannotHoldAndMalformedValues(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    Value
		want error
	}{
		{"NaN", Value(AppendValue(nil, map[string]any{"x": math.NaN()})), ErrNotJSON},
		{"infinity in a list", Value(AppendValue(nil, []any{1, math.Inf(-1)})), ErrNotJSON},
		{"truncated", Value(AppendValue(nil, map[string]any{"x": "long enough"}))[:12], ErrCorrupt},
		{"bytes left over", Value(append(AppendValue(nil, 1), 0)), ErrCorrupt},
		{"a record", Value(AppendConfig(nil, &Config{JobID: "j"})), ErrCorrupt},
		{"a map whose size is too large for its items", func() Value {
			v := AppendValue(nil, map[string]any{"a": 1})
			v = append(v, byte(Null))
			binary.LittleEndian.PutUint32(v[1:], binary.LittleEndian.Uint32(v[1:])+1)
			return Value(v)
		}(), ErrCorrupt},
	} {
		if _, err := AppendJSON(nil, tt.v); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}
