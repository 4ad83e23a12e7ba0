package pytext

import "testing"

func TestIsIdentifierIsAnsibles(t *testing.T) {
	for s, want := range map[string]bool{"a": true, "_x1": true, "A_b": true, "": false, "1a": false,
		"a b": false, "asdf ": false, "a-b": false, "in": false, "None": false, "é": false} {
		if got := IsIdentifier(s); got != want {
			t.Errorf("IsIdentifier(%q) = %v, want %v", s, got, want)
		}
	}
}
