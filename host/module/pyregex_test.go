package module

import (
	"slices"
	"testing"
)

// TestPythonRegexpBeyondRE2: patterns RE2 refuses (backreferences, lookarounds, (?P=name))
// match as in Python, with byte offsets in multi-byte text.
func TestPythonRegexpBeyondRE2(t *testing.T) {
	for _, tt := range []struct {
		pattern, text string
		want          []int
	}{
		{`^(\w+) bar \1$`, "foo bar foo", []int{0, 11, 0, 3}},
		{`^(\w+) bar \1$`, "foo bar baz", nil},
		{`(?P<w>é+)-(?P=w)`, "xéé-éé", []int{1, 10, 1, 5}},
		{`alpha(?==)`, "alpha=1", []int{0, 5}},
		{`(?<!x)b`, "xbab", []int{3, 4}},
		{`a\Z`, "ba", []int{1, 2}},
		{`(a)|(b)`, "b", []int{0, 1, -1, -1, 0, 1}},
	} {
		re, err := compilePython(tt.pattern)
		if err != nil {
			t.Fatalf("compilePython(%q): %v", tt.pattern, err)
		}
		if got := re.FindSubmatchIndex([]byte(tt.text)); !slices.Equal(got, tt.want) {
			t.Errorf("%q on %q: %v, want %v", tt.pattern, tt.text, got, tt.want)
		}
		if got := re.Match([]byte(tt.text)); got != (tt.want != nil) {
			t.Errorf("%q on %q: Match %v", tt.pattern, tt.text, got)
		}
	}
	re, err := compilePython(`(?P<first>\w)(?P<second>\w)\1`)
	if err != nil {
		t.Fatal(err)
	}
	if n := re.SubexpIndex("second"); n != 2 {
		t.Errorf("SubexpIndex(second) = %d, want 2 (Python numbers groups in order)", n)
	}
}
