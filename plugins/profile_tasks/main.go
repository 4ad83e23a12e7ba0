// Command profile_tasks is an aggregate plugin that times each task, as
// ansible.posix.profile_tasks, and at the end of the run lists the slowest tasks:
//
//	Gathering Facts --------------------------------------------------------- 1.02s
//
// A task's time runs from its start to the next task's start (or the end of the run), summed
// over the batches of a serial play, as profile_tasks measures it; tally takes the times from
// the events, so they are the collector's. Only the stdout plugin draws on the terminal: the
// list goes to tally's log (standard error, prefixed [callback profile_tasks]), and profile_tasks'
// line at each task start is left out.
//
// Options: output_limit (default 20; "all" lists every task), sort_order (descending, the
// default, ascending, or none: the order the tasks ran).
package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "profile_tasks",
	Version:     "1.0.0",
	Type:        meta.Aggregate,
	Description: "each task's time, and the slowest tasks at the end, as ansible.posix.profile_tasks",
	Options: []meta.Option{
		{Name: "output_limit", Type: meta.Str, Default: "20", Env: []string{"TALLY_PROFILE_TASKS_OUTPUT_LIMIT"},
			Description: "how many tasks to list, or all"},
		{Name: "sort_order", Type: meta.Str, Default: "descending", Env: []string{"TALLY_PROFILE_TASKS_SORT_ORDER"},
			Description: "descending, ascending or none"},
	},
}

// columns is the width profile_tasks fills lines to (the display's columns).
const columns = 79

type task struct {
	name    string
	elapsed time.Duration
}

type plugin struct {
	c       *pluginsdk.Config
	limit   int // -1: all
	order   string
	tasks   []*task
	byUUID  map[string]*task
	current *task
	started time.Time
}

func (p *plugin) Configure(c *pluginsdk.Config) error {
	p.c, p.byUUID, p.limit = c, map[string]*task{}, -1
	if l := c.String("output_limit"); l != "all" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return fmt.Errorf("option output_limit is %q: want a number or all", l)
		}
		p.limit = n
	}
	switch p.order = c.String("sort_order"); p.order {
	case "descending", "ascending", "none":
	default:
		return fmt.Errorf("option sort_order is %q: want descending, ascending or none", p.order)
	}
	return nil
}

func (p *plugin) PlaybookOnTaskStart(e *event.Event) error        { p.start(e); return nil }
func (p *plugin) PlaybookOnHandlerTaskStart(e *event.Event) error { p.start(e); return nil }

// start ends the running task's time and starts the next one's.
func (p *plugin) start(e *event.Event) {
	p.stop(e.Created)
	if e.Data.Task == nil {
		return
	}
	t := p.byUUID[e.Data.Task.UUID]
	if t == nil {
		name := e.Data.Task.Name
		if name == "" {
			name = e.Data.Task.Action
		}
		t = &task{name: strings.TrimSpace(name)}
		p.byUUID[e.Data.Task.UUID] = t
		p.tasks = append(p.tasks, t)
	}
	p.current, p.started = t, e.Created
}

func (p *plugin) stop(now time.Time) {
	if p.current != nil {
		p.current.elapsed += now.Sub(p.started)
		p.current = nil
	}
}

func (p *plugin) PlaybookOnStats(e *event.Event) error {
	p.stop(e.Created)
	tasks := slices.Clone(p.tasks)
	switch p.order {
	case "descending":
		slices.SortStableFunc(tasks, func(a, b *task) int { return int(b.elapsed - a.elapsed) })
	case "ascending":
		slices.SortStableFunc(tasks, func(a, b *task) int { return int(a.elapsed - b.elapsed) })
	}
	if p.limit >= 0 && len(tasks) > p.limit {
		tasks = tasks[:p.limit]
	}
	var b strings.Builder
	b.WriteString(strings.Repeat("=", columns) + "\n")
	for _, t := range tasks {
		secs := fmt.Sprintf(" %.2fs", t.elapsed.Seconds())
		b.WriteString(fill(t.name+" ", columns-9) + fill9(secs) + "\n")
	}
	_, err := fmt.Fprint(p.c.Log, b.String())
	return err
}

// fill pads s with dashes to width, as Python's "{0:-<width}".
func fill(s string, width int) string {
	if n := width - len([]rune(s)); n > 0 {
		return s + strings.Repeat("-", n)
	}
	return s
}

// fill9 right-aligns s in 9 columns with dashes, as "{1:->9}".
func fill9(s string) string {
	if n := 9 - len([]rune(s)); n > 0 {
		return strings.Repeat("-", n) + s
	}
	return s
}

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
