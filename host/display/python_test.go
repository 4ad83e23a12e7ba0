package display

import (
	"encoding/json"
	"strings"
	"testing"
)

// The expected values below were printed by Python 3.11 (json.dumps, str, textwrap.wrap) and
// ansible.utils.display.get_text_width.

func TestDumpJSONMatchesPythonJSONDumps(t *testing.T) {
	value := map[string]any{
		"_ansible_no_log": false,
		"a":               map[string]any{"_ansible_x": 1, "c": "é\n\x01\"\\\x7f\u2028"},
		"b":               []any{1, 2.5, nil, true, 1e-05, 1.5e+16, 0.1, 123.456, int64(-7)},
		"e":               map[string]any{},
		"f":               []any{},
		"g":               []any{map[string]any{"_ansible_item_label": "x", "item": "日本"}},
	}
	tests := []struct {
		indent int
		want   string
	}{
		{0, `{"a": {"c": "é\n\u0001\"\\` + "\x7f\u2028" + `"}, "b": [1, 2.5, null, true, 1e-05, 1.5e+16, 0.1, 123.456, -7], "e": {}, "f": [], "g": [{"item": "日本"}]}`},
		{4, "{\n    \"a\": {\n        \"c\": \"é\\n\\u0001\\\"\\\\\x7f\u2028\"\n    },\n    \"b\": [\n        1,\n        2.5,\n        null,\n        true,\n        1e-05,\n        1.5e+16,\n        0.1,\n        123.456,\n        -7\n    ],\n    \"e\": {},\n    \"f\": [],\n    \"g\": [\n        {\n            \"item\": \"日本\"\n        }\n    ]\n}"},
		{1, "{\n \"a\": {\n  \"c\": \"é\\n\\u0001\\\"\\\\\x7f\u2028\"\n },\n \"b\": [\n  1,\n  2.5,\n  null,\n  true,\n  1e-05,\n  1.5e+16,\n  0.1,\n  123.456,\n  -7\n ],\n \"e\": {},\n \"f\": [],\n \"g\": [\n  {\n   \"item\": \"日本\"\n  }\n ]\n}"},
	}
	for _, tt := range tests {
		if got := dumpJSON(value, tt.indent); got != tt.want {
			t.Errorf("indent %d:\n got: %s\nwant: %s", tt.indent, got, tt.want)
		}
	}
}

func TestDumpJSONPrintsIntegralFloatsAsIntegers(t *testing.T) {
	// Events reach plugins as JSON, which turns 0 into a float64: it must still print as 0.
	var decoded any
	if err := json.Unmarshal([]byte(`{"rc": 0, "n": -3, "f": 1.25, "big": 1e20}`), &decoded); err != nil {
		t.Fatal(err)
	}
	want := `{"big": 1e+20, "f": 1.25, "n": -3, "rc": 0}`
	if got := dumpJSON(decoded, 0); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestDumpJSONNormalizesOtherGoTypes(t *testing.T) {
	value := map[string]any{"lines": []string{"a", "b"}, "env": map[string]string{"K": "v"}, "n": json.Number("1.0")}
	want := `{"env": {"K": "v"}, "lines": ["a", "b"], "n": 1.0}`
	if got := dumpJSON(value, 0); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestPyStrMatchesPythonStr(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"plain é", "plain é"},
		{nil, "None"},
		{true, "True"},
		{3, "3"},
		{map[string]any{"a": "x", "b": []any{nil, true, false, 1.5, 2}}, "{'a': 'x', 'b': [None, True, False, 1.5, 2]}"},
		{
			[]any{"it's", `say "hi"`, `both ' and "`, "\u200b\x7f\t\n\\", "é\u00a0", "\U0001F600\U000E0001"},
			`["it's", 'say "hi"', 'both \' and "', '\u200b\x7f\t\n\\', 'é\xa0', '` + "\U0001F600" + `\U000e0001']`,
		},
	}
	for _, tt := range tests {
		if got := pyStr(tt.in); got != tt.want {
			t.Errorf("pyStr(%#v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestTextWidthMatchesAnsible(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"abc", 3}, {"日本", 4}, {"e\u0301", 1}, {"a\x1bb", 1}, {"\x1b", 0}, {"tab\there", 7},
		{"ü 日本語", 8}, {"\x00", 0}, {"\u200b", 0},
	}
	for _, tt := range tests {
		if got := textWidth(tt.in); got != tt.want {
			t.Errorf("textWidth(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestWrapTextMatchesPythonTextwrap(t *testing.T) {
	y := func(n int) string { return strings.Repeat("y", n) }
	z := strings.Repeat("z", 79)
	tests := []struct {
		in   string
		drop bool
		want []string
	}{
		{"", true, nil},
		{"short", true, []string{"short"}},
		{
			"[WARNING]: a well-known self-contained x-ray of the multi-line co-operative re-entry, and some other hyphen-ated words-here to wrap", true,
			[]string{"[WARNING]: a well-known self-contained x-ray of the multi-line co-operative re-", "entry, and some other hyphen-ated words-here to wrap"},
		},
		{
			"[WARNING]: path /very/long-path/with-hyphens-in-it/and-more-of-them/to-make-it-longer-than-a-line/file.txt end", true,
			[]string{"[WARNING]: path /very/long-path/with-hyphens-in-it/and-more-of-them/to-make-it-", "longer-than-a-line/file.txt end"},
		},
		{
			"[WARNING]: tabs\there and\nnewlines\r\nand   multiple   spaces   kept  " + strings.Repeat("word ", 12), true,
			[]string{"[WARNING]: tabs here and newlines  and   multiple   spaces   kept  word word", "word word word word word word word word word word"},
		},
		{
			strings.Repeat("[WARNING]: ünïcödé wörds ñ 日本語のテキスト ", 3), true,
			[]string{"[WARNING]: ünïcödé wörds ñ 日本語のテキスト [WARNING]: ünïcödé wörds ñ 日本語のテキスト", "[WARNING]: ünïcödé wörds ñ 日本語のテキスト"},
		},
		{y(66) + " alpha--beta gamma--delta", true, []string{y(66) + " alpha--beta", "gamma--delta"}},
		{y(70) + " under_score-word re-enter", true, []string{y(70), "under_score-word re-enter"}},
		{y(64) + " x-ray a-b-c ab-cd-ef -dash- 12-34 é-ü", true, []string{y(64) + " x-ray a-b-c", "ab-cd-ef -dash- 12-34 é-ü"}},
		{y(75) + " ---- --a", true, []string{y(75), "---- --a"}},
		{z + "zzzzzz-hyphen", true, []string{z, "zzzzzz-hyphen"}},
		{"--" + strings.Repeat("z", 90), true, []string{"--" + z[:77], strings.Repeat("z", 13)}},
		{
			strings.Repeat("a", 70) + " bbbbb-1" + strings.Repeat("c", 80), true,
			[]string{strings.Repeat("a", 70) + " bbbbb-", "1" + strings.Repeat("c", 78), "cc"},
		},
		{"---" + strings.Repeat("-1", 50), true, []string{"---" + strings.Repeat("-1", 37) + "-", "1" + strings.Repeat("-1", 12)}},
		{
			strings.Repeat(`word,--next and "q"--x `, 5), true,
			[]string{`word,--next and "q"--x word,--next and "q"--x word,--next and "q"--x word,--`, `next and "q"--x word,--next and "q"--x`},
		},
		{
			strings.Repeat("keep   trailing   spaces   ", 5), false,
			[]string{"keep   trailing   spaces   keep   trailing   spaces   keep   trailing   spaces", "   keep   trailing   spaces   keep   trailing   spaces   "},
		},
	}
	for _, tt := range tests {
		got := wrapText(tt.in, columns, tt.drop)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || len(got) != len(tt.want) {
			t.Errorf("wrapText(%q, %v):\n got: %q\nwant: %q", tt.in, tt.drop, got, tt.want)
		}
	}
}
