package display

import (
	"fmt"
	"strings"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// Ansible's default colours (config/base.yml COLOR_*) as SGR parameters (constants.COLOR_CODES).
const (
	colorOK          = "0;32" // green
	colorChanged     = "0;33" // yellow
	colorError       = "0;31" // red
	colorSkip        = "0;36" // cyan
	colorUnreachable = "1;31" // bright red
	colorWarn        = "1;35" // bright purple
	colorDeprecate   = "0;35" // purple
	colorDebug       = "1;30" // dark gray
	colorVerbose     = "0;34" // blue
)

// stringc is ansible.utils.color.stringc: each line wrapped in the colour on its own.
func (d *Display) stringc(text, color string) string {
	if !d.opts.Color {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = "\033[" + color + "m" + l + "\033[0m"
	}
	return strings.Join(lines, "\n")
}

// colorize is ansible.utils.color.colorize, one "name=count" of the recap.
func (d *Display) colorize(lead string, num int, color string) string {
	s := fmt.Sprintf("%s=%-4d", lead, num)
	if num != 0 {
		s = d.stringc(s, color)
	}
	return s
}

// hostColor is ansible.utils.color.hostcolor: the recap's host column, padded so that the
// colour escapes (11 bytes) do not shift the columns.
func (d *Display) hostColor(host string, t event.HostStats) string {
	if !d.opts.Color {
		return fmt.Sprintf("%-26s", host)
	}
	color := colorOK
	switch {
	case t.Failures != 0 || t.Unreachable != 0:
		color = colorError
	case t.Changed != 0:
		color = colorChanged
	}
	return fmt.Sprintf("%-37s", d.stringc(host, color))
}
