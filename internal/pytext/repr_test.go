package pytext

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// The expected values in this package's tests were printed by Python 3.11 (repr, str,
// json.dumps, str.strip, str.splitlines, shlex.split), strings with bytes that are not UTF-8
// decoded with errors="surrogateescape" as Ansible decodes them.

func TestQuoteMatchesPythonRepr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"it's", `"it's"`},
		{`say "hi"`, `'say "hi"'`},
		{`both ' and "`, `'both \' and "'`},
		{`\'`, `"\\'"`},
		{"\u200b\x7f\t\n\\", `'\u200b\x7f\t\n\\'`},
		{"é\u00a0", `'é\xa0'`},
		{"\U0001F600\U000E0001", `'` + "\U0001F600" + `\U000e0001'`},
		{"\x00\x1f\x1b", `'\x00\x1f\x1b'`},
		{"\u0085\u2028", `'\x85\u2028'`},
		{"\ufffd", "'\ufffd'"},
		{"a\xffb", `'a\udcffb'`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// stringer is a fmt.Stringer that is not a string.
type stringer struct{ n int }

func (s stringer) String() string { return strings.Repeat("*", s.n) }

func TestStrAndReprMatchPython(t *testing.T) {
	tests := []struct {
		in        any
		str, repr string
	}{
		{nil, "None", "None"},
		{true, "True", "True"},
		{false, "False", "False"},
		{3, "3", "3"},
		{int64(-7), "-7", "-7"},
		{uint8(255), "255", "255"},
		{1.0, "1.0", "1.0"},
		{0.5, "0.5", "0.5"},
		{float32(0.5), "0.5", "0.5"},
		{1e20, "1e+20", "1e+20"},
		{json.Number("1.0"), "1.0", "1.0"},
		{"plain é", "plain é", "'plain é'"},
		{"it's", "it's", `"it's"`},
		{"a'\"b", "a'\"b", `'a\'"b'`},
		{"tab\t", "tab\t", `'tab\t'`},
		{[]any{1, "a", nil}, "[1, 'a', None]", "[1, 'a', None]"},
		{[]any{}, "[]", "[]"},
		{map[string]any{"b": 1, "a": []any{}}, "{'a': [], 'b': 1}", "{'a': [], 'b': 1}"},
		{map[string]any{"a": "x", "b": []any{nil, true, false, 1.5, 2}}, "{'a': 'x', 'b': [None, True, False, 1.5, 2]}", "{'a': 'x', 'b': [None, True, False, 1.5, 2]}"},
		{
			[]any{"it's", `say "hi"`, `both ' and "`, "\u200b\x7f\t\n\\", "é\u00a0", "\U0001F600\U000E0001"},
			`["it's", 'say "hi"', 'both \' and "', '\u200b\x7f\t\n\\', 'é\xa0', '` + "\U0001F600" + `\U000e0001']`,
			`["it's", 'say "hi"', 'both \' and "', '\u200b\x7f\t\n\\', 'é\xa0', '` + "\U0001F600" + `\U000e0001']`,
		},
		{Tuple{}, "()", "()"},
		{Tuple{1}, "(1,)", "(1,)"},
		{Tuple{1, "a", Tuple{nil}}, "(1, 'a', (None,))", "(1, 'a', (None,))"},
		{Raw("<built-in function range>"), "<built-in function range>", "<built-in function range>"},
		// Other Go types show as what Normalize makes of them.
		{[]string{"a", "b"}, "['a', 'b']", "['a', 'b']"},
		{map[string]string{"K": "v"}, "{'K': 'v'}", "{'K': 'v'}"},
		{stringer{2}, "**", "'**'"},
	}
	for _, tt := range tests {
		if got := Str(tt.in); got != tt.str {
			t.Errorf("Str(%#v) = %s, want %s", tt.in, got, tt.str)
		}
		if got := Repr(tt.in); got != tt.repr {
			t.Errorf("Repr(%#v) = %s, want %s", tt.in, got, tt.repr)
		}
	}
}

func TestPrinterIntegralFloatsAsInts(t *testing.T) {
	p := Printer{IntegralFloatsAsInts: true}
	tests := []struct {
		in   any
		want string
	}{
		{0.0, "0"}, {-3.0, "-3"}, {float32(2), "2"}, {1.5, "1.5"}, {9999999999999998.0, "9999999999999998"},
		{1e16, "1e+16"}, {1e20, "1e+20"}, {math.NaN(), "nan"}, {json.Number("1.0"), "1.0"},
		{[]any{1.0, map[string]any{"rc": 0.0}}, "[1, {'rc': 0}]"},
	}
	for _, tt := range tests {
		if got, err := p.Str(tt.in); err != nil || got != tt.want {
			t.Errorf("Str(%#v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// special stands for a type only a Printer's Converter knows.
type special struct{ name string }

func TestPrinterConvertGoesFirstForOtherTypes(t *testing.T) {
	errBad := errors.New("bad value")
	p := Printer{Convert: func(v any) (any, bool, error) {
		s, ok := v.(special)
		switch {
		case !ok:
			return nil, false, nil
		case s.name == "bad":
			return nil, true, errBad
		}
		return Raw("<" + s.name + ">"), true, nil
	}}
	got, err := p.Repr([]any{special{"f"}, "s", []string{"x"}})
	if want := "[<f>, 's', ['x']]"; err != nil || got != want {
		t.Errorf("Repr = %s, %v; want %s", got, err, want)
	}
	if _, err := p.Str(map[string]any{"k": special{"bad"}}); !errors.Is(err, errBad) {
		t.Errorf("Str of a value Convert fails on: error %v, want %v", err, errBad)
	}
}
