package template

import (
	"strings"
	"testing"
)

// TestToJSONFailsCleanly pins that to_json gives Python's output for a negative indent and an
// error, not a panic, for the engine's own objects.
func TestToJSONFailsCleanly(t *testing.T) {
	e := New()
	tests := []struct{ src, want, wantErr string }{
		{src: "{{ [1, 2] | to_json(indent=-1) }}", want: "[\n1,\n2\n]"}, // json.dumps indents by " " * -1
		{src: "{{ range | to_json }}", wantErr: "object of type builtin_function_or_method is not JSON serializable"},
		{src: "{% for x in [1] %}{{ loop | to_json }}{% endfor %}", wantErr: "object of type LoopContext is not JSON serializable"},
	}
	for _, tt := range tests {
		got, err := e.Render(tt.src, nil)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Render(%q) error = %v, want %q", tt.src, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
}
