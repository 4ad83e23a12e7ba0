package pytext

import (
	"reflect"
	"testing"
)

func TestShlexSplitMatchesPython(t *testing.T) {
	tests := []struct {
		in       string
		comments bool
		want     []string
		wantErr  error
	}{
		{in: `echo hi`, want: []string{"echo", "hi"}},
		{in: "  a \t b\r\n", want: []string{"a", "b"}},
		{in: `echo "a  b" c\ d "e\"f" 'g h'`, want: []string{"echo", "a  b", "c d", `e"f`, "g h"}},
		{in: `a"b c"d ''`, want: []string{"ab cd", ""}},
		{in: `"a\nb" 'a\nb' a\nb`, want: []string{`a\nb`, `a\nb`, "anb"}},
		{in: `"$HOME"`, want: []string{"$HOME"}},
		{in: `h1 x=1 # comment`, want: []string{"h1", "x=1", "#", "comment"}},
		{in: `h1 x=1 # comment`, comments: true, want: []string{"h1", "x=1"}},
		{in: `h1 x="a # b" y='#' z=a#b`, comments: true, want: []string{"h1", "x=a # b", "y=#", "z=a"}},
		{in: `#all`, comments: true, want: nil},
		{in: "a #c\nb", comments: true, want: []string{"a", "b"}},
		{in: `"a\#b" \"c`, comments: true, want: []string{`a\#b`, `"c`}},
		{in: `h1 x='open`, comments: true, wantErr: ErrNoClosingQuotation},
		{in: `"open`, wantErr: ErrNoClosingQuotation},
		{in: `"abc\`, wantErr: ErrNoEscapedCharacter},
		{in: `a\`, wantErr: ErrNoEscapedCharacter},
	}
	for _, tt := range tests {
		got, err := ShlexSplit(tt.in, tt.comments)
		if err != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ShlexSplit(%q, %v) = %q, %v; want %q, %v", tt.in, tt.comments, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestShellSplitReadsWhatShellsQuote(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr error
	}{
		{in: `export A='it'"'"'s'`, want: []string{"export", "A=it's"}},
		{in: `export A="b\"c\\d\` + "`" + `e\$f"`, want: []string{"export", "A=b\"c\\d`e$f"}},
		{in: `export A=$'x\ny \'q\' \303\251 \x41\u00e9 \z'`, want: []string{"export", "A=x\ny 'q' é Aé \\z"}},
		{in: "export A='multi\nline'\nexport B", want: []string{"export", "A=multi\nline", "export", "B"}},
		{in: "A=\"one\\\ntwo\" B=x\\\ny", want: []string{"A=onetwo", "B=xy"}},
		{in: `A=$'open`, wantErr: ErrNoClosingQuotation},
	}
	for _, tt := range tests {
		got, err := ShellSplit(tt.in)
		if err != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ShellSplit(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
