package display

import (
	"fmt"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// Ansible's default colours, shared with plugins through the SDK.
const (
	colorOK          = pluginsdk.ColorOK
	colorChanged     = pluginsdk.ColorChanged
	colorError       = pluginsdk.ColorError
	colorSkip        = pluginsdk.ColorSkip
	colorUnreachable = pluginsdk.ColorUnreachable
	colorWarn        = pluginsdk.ColorWarn
	colorDeprecate   = pluginsdk.ColorDeprecate
	colorDebug       = pluginsdk.ColorDebug
	colorVerbose     = pluginsdk.ColorVerbose
)

// stringc is ansible.utils.color.stringc.
func (d *Display) stringc(text, color string) string {
	return pluginsdk.Colorize(text, color, d.opts.Color)
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
