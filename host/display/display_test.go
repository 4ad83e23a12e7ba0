package display

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// readEvents loads a run's events from a testdata/cases JSON-lines file.
func readEvents(t *testing.T, path string) []*event.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []*event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e event.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: event %d: %v", path, len(events)+1, err)
		}
		events = append(events, &e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

// eventsFile holds the events of a real ansible-playbook run; each cases/NAME.golden is what
// Ansible's default callback printed in that run with the case's settings (testdata/gen.sh).
var eventsFile = filepath.Join("testdata", "cases", "events.jsonl")

// TestMatchesAnsibleOutput replays the recorded run and compares the output with Ansible's.
func TestMatchesAnsibleOutput(t *testing.T) {
	withOpts := func(f func(*Options)) Options {
		o := DefaultOptions()
		f(&o)
		return o
	}
	tests := []struct {
		name string
		opts Options
	}{
		{"v0", DefaultOptions()},
		{"v1", withOpts(func(o *Options) { o.Verbosity = 1 })},
		{"v2", withOpts(func(o *Options) { o.Verbosity = 2 })},
		{"v3", withOpts(func(o *Options) { o.Verbosity = 3 })},
		{"hidden", withOpts(func(o *Options) { o.DisplaySkippedHosts, o.DisplayOKHosts = false, false })},
		{"custom_stats", withOpts(func(o *Options) { o.ShowCustomStats = true })},
		{"color", withOpts(func(o *Options) { o.Color = true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Fresh events per case: a display must not depend on another having seen them.
			events := readEvents(t, eventsFile)
			want, err := os.ReadFile(filepath.Join("testdata", "cases", tt.name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			d := New(&out, tt.opts)
			for _, e := range events {
				if err := d.Event(e); err != nil {
					t.Fatalf("event %d (%s): %v", e.Seq, e.Event, err)
				}
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			compareLines(t, out.String(), string(want))
		})
	}
}

// compareLines reports the first lines where got and want differ.
func compareLines(t *testing.T, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	reported := 0
	for i := 0; i < max(len(g), len(w)) && reported < 5; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("line %d:\n got: %q\nwant: %q", i+1, gl, wl)
			reported++
		}
	}
	if reported == 0 {
		t.Errorf("output differs: got %d bytes, want %d", len(got), len(want))
	}
}

// TestEventSequences pins behaviour the Ansible runs do not exercise: tally's own event forms
// and the callback's contract with the collector.
func TestEventSequences(t *testing.T) {
	task := &event.Task{Name: "t", Action: "command", UUID: "u1"}
	ok := func(host string, res map[string]any) *event.Event {
		return &event.Event{JobID: "j", Event: event.RunnerOnOK, Data: event.Data{Host: host, Task: task, Result: res}}
	}
	include := func(host, item string) *event.Event {
		e := &event.Event{JobID: "j", Event: event.PlaybookOnInclude, Data: event.Data{Host: host, Included: "/p/inc.yml"}}
		if item != "" {
			e.Data.Result = map[string]any{"item": item, "ansible_loop_var": "item"}
		}
		return e
	}
	taskStart := &event.Event{JobID: "j", Event: event.PlaybookOnTaskStart, Data: event.Data{Task: task}}
	banner := "\nTASK [t] ***********************************************************************\n"
	tests := []struct {
		name   string
		events []*event.Event
		want   string
	}{
		{
			name:   "delegation named by ansible_host only",
			events: []*event.Event{taskStart, ok("h1", map[string]any{"_ansible_delegated_vars": map[string]any{"ansible_host": "localhost"}})},
			want:   "JOB [j]\n" + banner + "ok: [h1 -> localhost]\n",
		},
		{
			name:   "delegation to the host itself",
			events: []*event.Event{taskStart, ok("h1", map[string]any{"_ansible_delegated_vars": map[string]any{"ansible_host": "h1"}})},
			want:   "JOB [j]\n" + banner + "ok: [h1]\n",
		},
		{
			name: "no job line without a job id",
			events: []*event.Event{
				{Event: event.PlaybookOnPlayStart, Data: event.Data{PlayPattern: "all"}},
			},
			want: "\nPLAY [all] *********************************************************************\n",
		},
		{
			name: "includes grouped by file and item, held until the next event",
			events: []*event.Event{
				include("h1", "x"), include("h1", "y"), include("h2", "x"), include("h2", "y"),
				include("h1", ""), include("h2", ""),
				taskStart,
			},
			want: "JOB [j]\n" +
				"included: /p/inc.yml for h1, h2 => (item=x)\n" +
				"included: /p/inc.yml for h1, h2 => (item=y)\n" +
				"included: /p/inc.yml for h1, h2\n" + banner,
		},
		{
			name:   "includes printed on close",
			events: []*event.Event{include("h1", "")},
			want:   "JOB [j]\nincluded: /p/inc.yml for h1\n",
		},
		{
			name: "a play without name or pattern",
			events: []*event.Event{
				{JobID: "j", Event: event.PlaybookOnPlayStart},
			},
			want: "JOB [j]\n\nPLAY ***************************************************************************\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			d := New(&out, DefaultOptions())
			for _, e := range tt.events {
				if err := d.Event(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tt.want)
			}
		})
	}
}

// TestLeavesEventsUnchanged: the collector hands the same event to every callback, so printing
// one (which drops warnings, loop results and debug keys from what it shows) must not change it.
func TestLeavesEventsUnchanged(t *testing.T) {
	for _, verbosity := range []int{0, 3} {
		events := readEvents(t, eventsFile)
		before, err := json.Marshal(events)
		if err != nil {
			t.Fatal(err)
		}
		opts := DefaultOptions()
		opts.Verbosity = verbosity
		d := New(io.Discard, opts)
		for _, e := range events {
			if err := d.Event(e); err != nil {
				t.Fatal(err)
			}
		}
		after, err := json.Marshal(events)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Errorf("verbosity %d: events changed while printing", verbosity)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReturnsWriteErrors(t *testing.T) {
	d := New(failingWriter{}, DefaultOptions())
	err := d.Event(&event.Event{JobID: "j", Event: event.PlaybookOnStart})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Event error = %v, want the write error", err)
	}
	if err := d.Close(); err == nil {
		t.Error("Close after a write error returned nil")
	}
}
