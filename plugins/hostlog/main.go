// Command hostlog is an aggregate plugin that keeps one log file per host in its granted
// directory, a line per result with its time, playbook, task, action, status and data, in the
// format of community.general.log_plays:
//
//	Nov 24 2026 01:56:10 - site.yml - Say hello - debug - OK - {"changed": false, "msg": "hello"}
//
// Differences from log_plays: times are UTC (a plugin has no time zone), the result's keys are
// sorted (Go keeps no insertion order), and the job ID starts each file's run with a line of
// its own, so that runs appended to the same file can be told apart.
//
// Options: dir (required), the directory of the per-host files.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "hostlog",
	Version:     "1.0.0",
	Type:        meta.Aggregate,
	Description: "a log file per host, a line per result, as community.general.log_plays",
	Options: []meta.Option{
		{Name: "dir", Type: meta.Dir, Env: []string{"TALLY_HOSTLOG_DIR"}, Required: true,
			Description: "the directory of the per-host log files"},
	},
}

// timeFormat is log_plays' TIME_FORMAT, "%b %d %Y %H:%M:%S".
const timeFormat = "Jan 02 2006 15:04:05"

type plugin struct {
	dir, jobID, playbook string
	started              map[string]bool // hosts whose file has this run's job line
}

func (p *plugin) Configure(c *pluginsdk.Config) error {
	p.dir, p.jobID, p.started = c.String("dir"), c.JobID, map[string]bool{}
	return nil
}

func (p *plugin) PlaybookOnStart(e *event.Event) error {
	p.playbook = filepath.Base(e.Data.Playbook)
	return nil
}

func (p *plugin) RunnerOnOK(e *event.Event) error          { return p.log(e, "OK") }
func (p *plugin) RunnerOnFailed(e *event.Event) error      { return p.log(e, "FAILED") }
func (p *plugin) RunnerOnSkipped(e *event.Event) error     { return p.log(e, "SKIPPED") }
func (p *plugin) RunnerOnUnreachable(e *event.Event) error { return p.log(e, "UNREACHABLE") }

// log appends one result to its host's file.
func (p *plugin) log(e *event.Event, category string) error {
	host := e.Data.Host
	if host == "" || strings.ContainsAny(host, "/\x00") || host == "." || host == ".." {
		return fmt.Errorf("host name %q cannot be a file name", host)
	}
	var b strings.Builder
	if !p.started[host] {
		p.started[host] = true
		fmt.Fprintf(&b, "%s - job %s\n\n", e.Created.UTC().Format(timeFormat), p.jobID)
	}
	task := e.Data.Task
	if task == nil {
		task = &event.Task{}
	}
	fmt.Fprintf(&b, "%s - %s - %s - %s - %s - %s\n\n", e.Created.UTC().Format(timeFormat), p.playbook, task.Name, task.Action, category, data(e.Data.Result))
	f, err := os.OpenFile(filepath.Join(p.dir, host), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open the log of %s: %w", host, err)
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// data is log_plays' rendering of a result: its JSON, the invocation first when there is one,
// "omitted" for fact gathering.
func data(res map[string]any) string {
	if _, ok := res["_ansible_verbose_override"]; ok {
		return "omitted"
	}
	dump := func(v any) string {
		s, _ := pytext.DumpJSON(v, pytext.JSONOptions{EnsureASCII: true})
		return s
	}
	rest := make(map[string]any, len(res))
	for k, v := range res {
		if k != "invocation" {
			rest[k] = v
		}
	}
	out := dump(rest)
	if inv, ok := res["invocation"]; ok {
		out = dump(inv) + " => " + out + " "
	}
	return out
}

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
