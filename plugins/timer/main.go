// Command timer is an aggregate plugin that says how long the run took, as ansible.posix.timer:
// "Playbook run took 0 days, 0 hours, 0 minutes, 2 seconds", from the run's start and end in
// the final stats. Only the stdout plugin draws on the terminal: the line goes to tally's log
// (standard error, prefixed [callback timer]).
package main

import (
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "timer",
	Version:     "1.0.0",
	Type:        meta.Aggregate,
	Description: "the run's total time, as ansible.posix.timer",
}

type plugin struct{ c *pluginsdk.Config }

func (p *plugin) Configure(c *pluginsdk.Config) error { p.c = c; return nil }

func (p *plugin) PlaybookOnStats(e *event.Event) error {
	s := e.Data.Stats
	if s == nil || s.Start.IsZero() {
		return nil
	}
	secs := int64(s.End.Sub(s.Start).Seconds())
	p.c.Logf("Playbook run took %d days, %d hours, %d minutes, %d seconds", secs/86400, secs%86400/3600, secs%3600/60, secs%60)
	return nil
}

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
