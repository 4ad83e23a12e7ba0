package pytext

import (
	"reflect"
	"testing"
)

func TestStripMatchesPython(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  a b  ", "a b"},
		{" \x1c\x1d\x1e\x1fa b\u00a0\u3000\u0085", "a b"},
		{"\t\n\v\f\ra\u200b", "a\u200b"},
	}
	for _, tt := range tests {
		if got := Strip(tt.in); got != tt.want {
			t.Errorf("Strip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitLinesMatchesPython(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"a", []string{"a"}},
		{"a\n", []string{"a"}},
		{"a\n\nb", []string{"a", "", "b"}},
		{"a\r\nb\rc\n", []string{"a", "b", "c"}},
		{"a\vb\x1cc", []string{"a", "b", "c"}},
		{"a\u2028b\u0085c\x1fd", []string{"a", "b", "c\x1fd"}},
		{"\r\n", []string{""}},
		{"a\r", []string{"a"}},
		{"x\x1d\x1ey\fz", []string{"x", "", "y", "z"}},
		{"\n\n", []string{"", ""}},
		{"a\xff\nb", []string{"a\xff", "b"}},
	}
	for _, tt := range tests {
		if got := SplitLines(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
