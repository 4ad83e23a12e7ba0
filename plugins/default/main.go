// Command default is tally's stdout plugin: Ansible's default output, line for line, drawn by
// the same code as tally's built-in display (host/display), which stands in for it when no
// stdout plugin can be loaded. The job ID is its first line.
//
// Options (as Ansible's default callback): display_skipped_hosts, display_ok_hosts,
// show_custom_stats.
package main

import (
	"github.com/tallyrun/tally/host/display"
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "default",
	Version:     "1.0.0",
	Type:        meta.Stdout,
	Description: "Ansible's default output: PLAY and TASK banners, a line per result, the PLAY RECAP",
	Options: []meta.Option{
		{Name: "display_skipped_hosts", Type: meta.Bool, Default: true, Env: []string{"TALLY_DEFAULT_DISPLAY_SKIPPED_HOSTS"},
			Description: "show skipped results"},
		{Name: "display_ok_hosts", Type: meta.Bool, Default: true, Env: []string{"TALLY_DEFAULT_DISPLAY_OK_HOSTS"},
			Description: "show ok and changed results"},
		{Name: "show_custom_stats", Type: meta.Bool, Default: false, Env: []string{"TALLY_DEFAULT_SHOW_CUSTOM_STATS"},
			Description: "show the set_stats data after the recap"},
	},
}

// plugin hands every event to a display.
type plugin struct{ d *display.Display }

func (p *plugin) Configure(c *pluginsdk.Config) error {
	p.d = display.New(c.Terminal, display.Options{
		Verbosity:           c.Verbosity,
		DisplaySkippedHosts: c.Bool("display_skipped_hosts"),
		DisplayOKHosts:      c.Bool("display_ok_hosts"),
		ShowCustomStats:     c.Bool("show_custom_stats"),
		Color:               c.Color,
	})
	return nil
}

func (p *plugin) Event(e *event.Event) error { return p.d.Event(e) }

func (p *plugin) Close() error { return p.d.Close() }

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
