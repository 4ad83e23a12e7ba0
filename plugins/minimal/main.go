// Command minimal is a stdout plugin that prints a run as Ansible's minimal callback does:
// `host | STATUS => {json}` per result, the output of command, shell and raw after
// `host | STATUS | rc=N >>`, and no banners or recap. It shares its drawing code with the
// default plugin (host/display).
package main

import (
	"github.com/tallyrun/tally/host/display"
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "minimal",
	Version:     "1.0.0",
	Type:        meta.Stdout,
	Description: "Ansible's minimal output: host | STATUS => {json}, a line per result",
}

type plugin struct{ m *display.Minimal }

func (p *plugin) Configure(c *pluginsdk.Config) error {
	p.m = display.NewMinimal(c.Terminal, display.Options{Verbosity: c.Verbosity, Color: c.Color})
	return nil
}

func (p *plugin) RunnerOnOK(e *event.Event) error          { return p.m.Event(e) }
func (p *plugin) RunnerItemOnOK(e *event.Event) error      { return p.m.Event(e) } // a loop item's diff
func (p *plugin) RunnerOnFailed(e *event.Event) error      { return p.m.Event(e) }
func (p *plugin) RunnerOnSkipped(e *event.Event) error     { return p.m.Event(e) }
func (p *plugin) RunnerOnUnreachable(e *event.Event) error { return p.m.Event(e) }

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
