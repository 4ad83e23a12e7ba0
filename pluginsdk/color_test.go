package pluginsdk

import (
	"strings"
	"testing"
)

func TestColorizeWrapsEachLineWhenTheTerminalWantsColour(t *testing.T) {
	tests := []struct {
		name, text string
		on         bool
		want       string
	}{
		{"off", "ok: [h1]", false, "ok: [h1]"},
		{"one line", "ok: [h1]", true, "\033[0;32mok: [h1]\033[0m"},
		{"each line", "a\nb", true, "\033[0;32ma\033[0m\n\033[0;32mb\033[0m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Color: tt.on}
			if got := c.Colorize(tt.text, ColorOK); got != tt.want {
				t.Errorf("Colorize(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestPrintfWritesToTheTerminal(t *testing.T) {
	var terminal, log strings.Builder
	c := &Config{Terminal: &terminal, Log: &log}
	c.Printf("%s | %s\n", "h1", "SUCCESS")
	if terminal.String() != "h1 | SUCCESS\n" || log.Len() != 0 {
		t.Errorf("terminal %q, log %q", terminal.String(), log.String())
	}
}
