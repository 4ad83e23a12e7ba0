package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// Listing is a plugin on the search path and what it says it is.
type Listing struct {
	Found
	// Description is what the plugin says it is; nil when it could not be loaded (Err says
	// why).
	Description *Description
	Err         error
}

// List describes every plugin on the search path, a few at a time: from the metadata cache,
// else by loading it (Describe).
func (h *Host) List(ctx context.Context) ([]Listing, error) {
	found, err := Discover(h.settings.Path)
	listings := make([]Listing, len(found))
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, f := range found {
		listings[i].Found = f
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			listings[i].Description, listings[i].Err = h.Describe(ctx, f.Path)
		})
	}
	wg.Wait()
	return listings, err
}

// WriteList writes listings as a table: name, type, version, the use the settings s make of
// it (the stdout plugin, enabled, or not used), file and the files it shadows; then why the
// plugins that could not be loaded could not, where it looked, and, when it found nothing,
// how to get plugins.
func WriteList(w io.Writer, listings []Listing, s Settings) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tVERSION\tUSE\tFILE\tSHADOWS")
	var problems []string
	stdoutFound := false
	for _, l := range listings {
		typ, version := "-", "-"
		if l.Description != nil {
			typ, version = string(l.Description.Meta.Type), oneLine(l.Description.Meta.Version)
		}
		use := "-"
		switch {
		case l.Name == s.Stdout:
			use, stdoutFound = "stdout", true
		case slices.Contains(s.Enabled, l.Name):
			use = "enabled"
		}
		shadows := strings.Join(l.Shadows, ", ")
		if shadows == "" {
			shadows = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, typ, version, use, l.Path, shadows)
		if l.Err != nil {
			problems = append(problems, oneLine(l.Err.Error()))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(w, "\nerror: %s\n", p)
	}
	fmt.Fprintf(w, "\nsearched, in order: %s\n", strings.Join(s.Path, ", "))
	if !stdoutFound && s.Stdout == DefaultStdout {
		fmt.Fprintf(w, "stdout plugin: %s is not there; tally's built-in display draws the run\n", DefaultStdout)
	}
	if len(listings) == 0 {
		_, err := fmt.Fprintln(w, "no callback plugins found. In tally's source tree, `make plugins` builds the bundled ones into build/plugins:"+
			" pass --callback-path build/plugins, or `make install` them into "+DefaultPath[len(DefaultPath)-1]+".")
		return err
	}
	return nil
}

// WriteInspect writes everything p says about itself, and the files it shadows.
func WriteInspect(w io.Writer, p *Description, shadows []string) error {
	m := &p.Meta
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("name", m.Name)
	row("version", oneLine(m.Version))
	row("type", string(m.Type))
	row("description", orNone(oneLine(m.Description)))
	row("file", p.Path)
	row("sha256", p.SHA256)
	row("shadows", orNone(strings.Join(shadows, ", ")))
	row("abi version", fmt.Sprint(wire.ABIVersion))
	row("event schema", fmt.Sprint(m.EventSchema))
	events := make([]string, len(m.Events))
	for i, e := range m.Events {
		events[i] = string(e)
	}
	row("events", strings.Join(events, ", "))
	caps := make([]string, len(m.Capabilities))
	for i, c := range m.Capabilities {
		caps[i] = string(c)
	}
	row("capabilities", orNone(strings.Join(caps, ", ")))
	if len(m.Options) == 0 {
		row("options", "none")
	} else {
		row("options", "")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range m.Options {
		details := []string{string(o.Type)}
		if o.Default != nil {
			details = append(details, fmt.Sprintf("default %v", o.Default))
		}
		if o.Required {
			details = append(details, "required")
		}
		if len(o.Env) > 0 {
			details = append(details, "env "+strings.Join(o.Env, ", "))
		}
		fmt.Fprintf(w, "  %s (%s)\n", o.Name, strings.Join(details, "; "))
		if o.Description != "" {
			fmt.Fprintf(w, "      %s\n", oneLine(o.Description))
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Check checks the plugin file against the ABI, for plugin authors: it loads it (exports,
// imports, ABI version, metadata), configures it with its defaults and the options in the
// settings, each dir option a temporary directory of its own (so that a sample run writes
// nothing where real records are kept), and delivers it a run of one event of each type it
// subscribes to. It writes each step to w, then what the plugin wrote in its directories, and
// returns the first failure.
func (h *Host) Check(ctx context.Context, path string, w io.Writer) error {
	step := func(what string, err error) error {
		if err != nil {
			fmt.Fprintf(w, "FAIL  %s: %s\n", what, oneLine(err.Error()))
			return err
		}
		fmt.Fprintf(w, "ok    %s\n", what)
		return nil
	}
	p, err := h.Load(ctx, path)
	if err := step("load: WebAssembly module, ABI version, exports, imports, metadata", err); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "tally-check-")
	if err != nil {
		p.Close()
		return err
	}
	defer os.RemoveAll(tmp)
	checking, dirs := h.withTempDirs(p, tmp)
	what := "configure with the options' defaults and the ones given"
	if len(dirs) > 0 {
		what += ", each dir option a temporary directory"
	}
	if checking.sinks != nil {
		what += ", each sink option a file sink in one"
	}
	if err := step(what, checking.configure(ctx, p, Output{JobID: "check"})); err != nil {
		p.Close()
		return err
	}
	run := &Run{host: h, warn: func(string) {}}
	cb := newCallback(p, run, nil)
	for _, e := range sampleRun() {
		_ = cb.Event(e) // never fails: the run records failures
	}
	_ = cb.Close()
	if checking.sinks != nil {
		checking.sinks.Commit(ctx, func(w string) { run.failed = append(run.failed, errors.New(w)) })
	}
	err = step(fmt.Sprintf("deliver one event of each type %s subscribes to, then close", p.Name), errors.Join(run.failed...))
	for _, o := range p.Meta.Options {
		if d, ok := dirs[o.Name]; ok {
			writeWritten(w, o.Name, d)
		}
	}
	return err
}

// withTempDirs returns a copy of h whose settings give each of p's dir options a new
// directory in tmp, and those directories by option.
func (h *Host) withTempDirs(p *Plugin, tmp string) (*Host, map[string]string) {
	dirs := map[string]string{}
	given := maps.Clone(h.settings.Flags[p.Name])
	if given == nil {
		given = map[string]meta.Setting{}
	}
	c := *h
	for _, o := range p.Meta.Options {
		d := filepath.Join(tmp, o.Name)
		if o.Type == meta.Sink && os.Mkdir(d, 0o755) == nil {
			// A file sink in the temporary directory: what the plugin appends is shown as
			// what it wrote there.
			file := config.Sink{Type: "file", Params: map[string]any{"path": filepath.Join(d, "records.jsonl")}, Source: "tally plugins check"}
			c.settings.Sinks = map[string]config.Sink{"check": file}
			c.sinks = sink.NewRun("check", c.settings.Sinks, sink.Spool{Dir: filepath.Join(tmp, "spool")}, tmp, func(string) string { return "" })
			dirs[o.Name] = d
			given[o.Name] = meta.Setting{Value: "check", Source: "tally plugins check"}
			continue
		}
		if o.Type != meta.Dir || os.Mkdir(d, 0o755) != nil {
			continue
		}
		dirs[o.Name] = d
		given[o.Name] = meta.Setting{Value: d, Source: "tally plugins check"}
	}
	c.settings.Flags = maps.Clone(h.settings.Flags)
	if c.settings.Flags == nil {
		c.settings.Flags = map[string]map[string]meta.Setting{}
	}
	c.settings.Flags[p.Name] = given
	return &c, dirs
}

// writeWritten writes what the plugin wrote in the directory of its option name.
func writeWritten(w io.Writer, name, dir string) {
	var files []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			if info, err := d.Info(); err == nil {
				files = append(files, fmt.Sprintf("%s (%d bytes)", oneLine(rel), info.Size()))
			}
		}
		return nil
	})
	if len(files) == 0 {
		fmt.Fprintf(w, "      %s: wrote nothing\n", name)
		return
	}
	fmt.Fprintf(w, "      %s: wrote %s\n", name, strings.Join(files, ", "))
}

// sampleRun is a small run with one event of every type, for Check: each result is what its
// type says (a failed one failed), and the stats count them.
func sampleRun() []*event.Event {
	now := time.Now()
	task := &event.Task{Name: "check", Action: "command", Path: "check.yml:1", UUID: "task", Args: map[string]any{"cmd": "true"}}
	var events []*event.Event
	var counts event.HostStats
	for i, t := range meta.AllEvents {
		res := map[string]any{"changed": false, "msg": "checked", "rc": 0, "stdout_lines": []any{}}
		switch t {
		case event.RunnerOnOK:
			counts.OK++
		case event.RunnerOnFailed, event.RunnerItemOnFailed:
			res["failed"], res["rc"], res["msg"] = true, 1, "a failed result, as tally plugins check sends it"
			if t == event.RunnerOnFailed {
				counts.Failures++
			}
		case event.RunnerOnSkipped, event.RunnerItemOnSkipped:
			res = map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}
			if t == event.RunnerOnSkipped {
				counts.Skipped++
			}
		case event.RunnerOnUnreachable:
			res = map[string]any{"changed": false, "unreachable": true, "msg": "an unreachable host, as tally plugins check sends it"}
			counts.Unreachable++
		}
		e := &event.Event{JobID: "check", Seq: uint64(i + 1), UUID: fmt.Sprintf("event-%d", i+1), Created: now, Event: t,
			Data: event.Data{Playbook: "check.yml", Play: "check", PlayPattern: "all", Host: "localhost", Task: task,
				Start: now, End: now, Result: res, Handler: "handler", Included: "tasks.yml"}}
		if t == event.PlaybookOnStats {
			counts.Processed = 1
			e.Data = event.Data{Stats: &event.Stats{Status: "unreachable", RC: 4, Start: now, End: now,
				Hosts: map[string]event.HostStats{"localhost": counts}}}
		}
		events = append(events, e)
	}
	return events
}
