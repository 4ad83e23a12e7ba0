package pytext

import "testing"

// TestUnescapeMatchesPython pins Unescape against Python's unicode_escape codec and
// codecs.escape_decode (values taken from Python 3.11).
func TestUnescapeMatchesPython(t *testing.T) {
	for _, tc := range []struct {
		in    string
		bytes bool
		want  string
	}{
		{in: `a\tb\n\\\'\"`, want: "a\tb\n\\'\""},
		{in: `\x41\u00e9\U0001F600`, want: "Aé😀"},
		{in: `\x41\u00e9`, bytes: true, want: `A\u00e9`},
		{in: `\xe9`, want: "é"},
		{in: `\xe9`, bytes: true, want: "\xe9"},
		{in: `\101\7`, want: "A\a"},
		{in: `\q\x4`, want: `\q\x4`},
		{in: "line\\\nnext", want: "linenext"},
		{in: `ends\`, want: `ends\`},
	} {
		if got := Unescape(tc.in, tc.bytes); got != tc.want {
			t.Errorf("Unescape(%q, %v) = %q, want %q", tc.in, tc.bytes, got, tc.want)
		}
	}
}
