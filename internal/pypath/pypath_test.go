package pypath

import "testing"

func TestExpandAsPythonOsPath(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("X", "x")
	tests := []struct{ in, user, vars string }{
		{"~", "/home/u", "~"},
		{"~/a/b", "/home/u/a/b", "~/a/b"},
		{"~root/a", "/root/a", "~root/a"},
		{"~nosuchuser-tally/a", "~nosuchuser-tally/a", "~nosuchuser-tally/a"},
		{"a/~", "a/~", "a/~"},
		{"$X/${X}/$NOSUCH_TALLY", "$X/${X}/$NOSUCH_TALLY", "x/x/$NOSUCH_TALLY"},
	}
	for _, tt := range tests {
		if got := ExpandUser(tt.in); got != tt.user {
			t.Errorf("ExpandUser(%q) = %q, want %q", tt.in, got, tt.user)
		}
		if got := ExpandVars(tt.in); got != tt.vars {
			t.Errorf("ExpandVars(%q) = %q, want %q", tt.in, got, tt.vars)
		}
	}
}
