package pytext

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDumpJSONMatchesPythonJSONDumps(t *testing.T) {
	value := map[string]any{
		"b": []any{1, 2.5, nil, true, "é😀\b\f\x7f\u2028", []any{}, map[string]any{}},
		"a": Tuple{1, "x"},
		"c": math.NaN(),
		"d": []any{math.Inf(1), math.Inf(-1), 1.0, 1e16, 1e-05},
	}
	nested := map[string]any{"b": []any{1, map[string]any{}}, "a": map[string]any{"x": []any{}}}
	tests := []struct {
		name string
		in   any
		opts JSONOptions
		want string
	}{
		{"default", value, JSONOptions{EnsureASCII: true},
			`{"a": [1, "x"], "b": [1, 2.5, null, true, "\u00e9\ud83d\ude00\b\f\u007f\u2028", [], {}], "c": NaN, "d": [Infinity, -Infinity, 1.0, 1e+16, 1e-05]}`},
		{"ensure_ascii=False", value, JSONOptions{},
			`{"a": [1, "x"], "b": [1, 2.5, null, true, "é😀\b\f` + "\x7f\u2028" + `", [], {}], "c": NaN, "d": [Infinity, -Infinity, 1.0, 1e+16, 1e-05]}`},
		{"indent=2", nested, JSONOptions{Pretty: true, Indent: "  ", EnsureASCII: true},
			"{\n  \"a\": {\n    \"x\": []\n  },\n  \"b\": [\n    1,\n    {}\n  ]\n}"},
		{"indent=0", map[string]any{"a": []any{1, 2}}, JSONOptions{Pretty: true},
			"{\n\"a\": [\n1,\n2\n]\n}"},
		{"indent tab", nested, JSONOptions{Pretty: true, Indent: "\t"},
			"{\n\t\"a\": {\n\t\t\"x\": []\n\t},\n\t\"b\": [\n\t\t1,\n\t\t{}\n\t]\n}"},
		{"module args", map[string]any{"b": []any{1, "é\n"}, "a": nil}, JSONOptions{EnsureASCII: true},
			`{"a": null, "b": [1, "\u00e9\n"]}`},
		{"surrogate escaped byte", "a\xffb", JSONOptions{EnsureASCII: true}, `"a\udcffb"`},
		{"surrogate escaped byte written back", "a\xffb", JSONOptions{}, "\"a\xffb\""},
	}
	for _, tt := range tests {
		if got, err := DumpJSON(tt.in, tt.opts); err != nil || got != tt.want {
			t.Errorf("%s:\n got: %s, %v\nwant: %s", tt.name, got, err, tt.want)
		}
	}
}

func TestDumpJSONOptionsForCallbackResults(t *testing.T) {
	// Ansible's _dump_results: strip_internal_keys, then json.dumps; values that crossed JSON.
	var decoded any
	if err := json.Unmarshal([]byte(`{"rc": 0, "n": -3, "f": 1.25, "big": 1e20, "_ansible_no_log": false, "r": [{"_ansible_item_label": "x"}]}`), &decoded); err != nil {
		t.Fatal(err)
	}
	opts := JSONOptions{IntegralFloatsAsInts: true, SkipKey: func(k string) bool { return strings.HasPrefix(k, "_ansible_") }}
	want := `{"big": 1e+20, "f": 1.25, "n": -3, "r": [{}], "rc": 0}`
	if got, err := DumpJSON(decoded, opts); err != nil || got != want {
		t.Errorf("got %s, %v; want %s", got, err, want)
	}
}

func TestDumpJSONNormalizesOtherGoTypes(t *testing.T) {
	value := map[string]any{"lines": []string{"a", "b"}, "env": map[string]string{"K": "v"}, "n": json.Number("1.0"), "i": int64(7), "s": stringer{1}}
	want := `{"env": {"K": "v"}, "i": 7, "lines": ["a", "b"], "n": 1.0, "s": "*"}`
	if got, err := DumpJSON(value, JSONOptions{}); err != nil || got != want {
		t.Errorf("got %s, %v; want %s", got, err, want)
	}
}

func TestDumpJSONConvertError(t *testing.T) {
	errBad := errors.New("not serializable")
	opts := JSONOptions{Convert: func(v any) (any, bool, error) {
		if _, ok := v.(special); ok {
			return nil, true, errBad
		}
		return nil, false, nil
	}}
	if _, err := DumpJSON([]any{1, special{}}, opts); !errors.Is(err, errBad) {
		t.Errorf("error %v, want %v", err, errBad)
	}
}
