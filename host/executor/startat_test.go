package executor

import (
	"testing"

	"github.com/tallyrun/tally/host/playbook"
)

func TestNameMatchesAsFnmatch(t *testing.T) {
	tests := []struct {
		name, action, pattern string
		want                  bool
	}{
		{"start here", "debug", "start here", true},
		{"start here", "debug", "start*", true},
		{"start here", "debug", "st?rt here", true},
		{"start here", "debug", "[rs]tart here", true},
		{"start here", "debug", "[!s]tart here", false},
		{"a/b c", "debug", "a*c", true}, // * matches / too, as in fnmatch
		{"start here", "debug", "here", false},
		{"", "debug", "debug", true},
		{"", "ansible.builtin.debug", "*debug", true},
		{"x[", "debug", "x[", true},
		{"{{ templated }}", "debug", "{{ templated }}", true},
	}
	for _, tt := range tests {
		got := nameMatches(&playbook.Task{Name: tt.name, Action: tt.action}, tt.pattern)
		if got != tt.want {
			t.Errorf("nameMatches(%q/%q, %q) = %v, want %v", tt.name, tt.action, tt.pattern, got, tt.want)
		}
	}
}
