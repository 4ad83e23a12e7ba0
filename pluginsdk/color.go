package pluginsdk

import (
	"fmt"
	"strings"
)

// Ansible's default colours (its COLOR_* settings) as ANSI SGR parameters, for Colorize.
const (
	ColorOK          = "0;32" // green
	ColorChanged     = "0;33" // yellow
	ColorError       = "0;31" // red
	ColorSkip        = "0;36" // cyan
	ColorUnreachable = "1;31" // bright red
	ColorWarn        = "1;35" // bright purple
	ColorDeprecate   = "0;35" // purple
	ColorDebug       = "1;30" // dark gray
	ColorVerbose     = "0;34" // blue
)

// Colorize returns text in the colour when on is set, each line wrapped on its own as
// Ansible's stringc does (so that a line cut by a terminal or a pager keeps its colour).
func Colorize(text, color string, on bool) string {
	if !on {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = "\033[" + color + "m" + l + "\033[0m"
	}
	return strings.Join(lines, "\n")
}

// Colorize returns text in the colour if the terminal wants colour: the host says so when
// standard output is a terminal and NO_COLOR is not set.
func (c *Config) Colorize(text, color string) string { return Colorize(text, color, c.Color) }

// Printf writes to the terminal: the run's output for a stdout plugin, the log for the others.
func (c *Config) Printf(format string, args ...any) {
	fmt.Fprintf(c.Terminal, format, args...)
}
