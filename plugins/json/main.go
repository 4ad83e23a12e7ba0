// Command json is a stdout plugin that prints a run as one JSON document at its end, in the
// shape of Ansible's ansible.posix.json callback (plays, tasks, hosts, stats, custom_stats,
// global_custom_stats), plus the run's job_id.
//
// Options (as ansible.posix.json's): json_indent, show_custom_stats.
package main

import (
	"github.com/tallyrun/tally/host/display"
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "json",
	Version:     "1.0.0",
	Type:        meta.Stdout,
	Description: "the run as one JSON document, in the shape of ansible.posix.json, with the job ID",
	Options: []meta.Option{
		{Name: "json_indent", Type: meta.Int, Default: 4, Env: []string{"TALLY_JSON_INDENT"},
			Description: "spaces of indent per level; 0 or less writes one line"},
		{Name: "show_custom_stats", Type: meta.Bool, Default: false, Env: []string{"TALLY_JSON_SHOW_CUSTOM_STATS"},
			Description: "fill custom_stats and global_custom_stats with the set_stats data"},
	},
}

type plugin struct{ j *display.JSON }

func (p *plugin) Configure(c *pluginsdk.Config) error {
	p.j = display.NewJSON(c.Terminal, c.Int("json_indent"), c.Bool("show_custom_stats"))
	return nil
}

func (p *plugin) PlaybookOnPlayStart(e *event.Event) error        { return p.j.Event(e) }
func (p *plugin) PlaybookOnTaskStart(e *event.Event) error        { return p.j.Event(e) }
func (p *plugin) PlaybookOnHandlerTaskStart(e *event.Event) error { return p.j.Event(e) }
func (p *plugin) RunnerOnOK(e *event.Event) error                 { return p.j.Event(e) }
func (p *plugin) RunnerOnFailed(e *event.Event) error             { return p.j.Event(e) }
func (p *plugin) RunnerOnSkipped(e *event.Event) error            { return p.j.Event(e) }
func (p *plugin) RunnerOnUnreachable(e *event.Event) error        { return p.j.Event(e) }
func (p *plugin) PlaybookOnStats(e *event.Event) error            { return p.j.Event(e) }

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
