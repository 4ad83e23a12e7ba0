package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// Listing is a plugin on the search path, loaded to read what it is.
type Listing struct {
	Found
	// Plugin is the loaded plugin; nil when it could not be loaded (Err says why).
	Plugin *Plugin
	Err    error
}

// List loads every plugin on the search path, a few at a time, to describe it. Close each
// listing's Plugin when done.
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
			listings[i].Plugin, listings[i].Err = h.Load(ctx, f.Path)
		})
	}
	wg.Wait()
	return listings, err
}

// WriteList writes listings as a table: name, type, version, file and the files it shadows;
// then why the plugins that could not be loaded could not.
func WriteList(w io.Writer, listings []Listing) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tVERSION\tFILE\tSHADOWS")
	var problems []string
	for _, l := range listings {
		typ, version := "-", "-"
		if l.Plugin != nil {
			typ, version = string(l.Plugin.Meta.Type), l.Plugin.Meta.Version
		}
		shadows := strings.Join(l.Shadows, ", ")
		if shadows == "" {
			shadows = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Name, typ, version, l.Path, shadows)
		if l.Err != nil {
			problems = append(problems, l.Err.Error())
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range problems {
		if _, err := fmt.Fprintf(w, "\nerror: %s\n", p); err != nil {
			return err
		}
	}
	return nil
}

// WriteInspect writes everything p says about itself, and the files it shadows.
func WriteInspect(w io.Writer, p *Plugin, shadows []string) error {
	m := &p.Meta
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("name", m.Name)
	row("version", m.Version)
	row("type", string(m.Type))
	row("description", orNone(m.Description))
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
			fmt.Fprintf(w, "      %s\n", o.Description)
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
// settings, and delivers it a run of one event of each type it subscribes to. It writes each
// step to w and returns the first failure.
func (h *Host) Check(ctx context.Context, path string, w io.Writer) error {
	step := func(what string, err error) error {
		if err != nil {
			fmt.Fprintf(w, "FAIL  %s: %v\n", what, err)
			return err
		}
		fmt.Fprintf(w, "ok    %s\n", what)
		return nil
	}
	p, err := h.Load(ctx, path)
	if err := step("load: WebAssembly module, ABI version, exports, imports, metadata", err); err != nil {
		return err
	}
	err = h.configure(ctx, p, Output{JobID: "check"})
	if err := step("configure with the options' defaults and the ones given", err); err != nil {
		p.Close()
		return err
	}
	run := &Run{host: h, warn: func(string) {}}
	cb := newCallback(p, run, nil)
	for _, e := range sampleRun() {
		_ = cb.Event(e) // never fails: the run records failures
	}
	_ = cb.Close()
	return step(fmt.Sprintf("deliver one event of each type %s subscribes to, then close", p.Name), errors.Join(run.failed...))
}

// sampleRun is a small run with one event of every type, for Check.
func sampleRun() []*event.Event {
	now := time.Now()
	task := &event.Task{Name: "check", Action: "command", Path: "check.yml:1", UUID: "task", Args: map[string]any{"cmd": "true"}}
	res := map[string]any{"changed": false, "msg": "checked", "rc": 0, "stdout_lines": []any{}}
	var events []*event.Event
	for i, t := range meta.AllEvents {
		e := &event.Event{JobID: "check", Seq: uint64(i + 1), UUID: fmt.Sprintf("event-%d", i+1), Created: now, Event: t,
			Data: event.Data{Playbook: "check.yml", Play: "check", PlayPattern: "all", Host: "localhost", Task: task,
				Start: now, End: now, Result: res, Handler: "handler", Included: "tasks.yml"}}
		if t == event.PlaybookOnStats {
			e.Data = event.Data{Stats: &event.Stats{Status: "successful", Start: now, End: now,
				Hosts: map[string]event.HostStats{"localhost": {OK: 1, Processed: 1}}}}
		}
		events = append(events, e)
	}
	return events
}
