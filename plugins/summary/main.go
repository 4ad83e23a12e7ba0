// Command summary is an aggregate plugin that writes, at the end of a run, one file
// <job_id>.json in its granted directory: the run's record for a single database insert.
//
//	{"job_id": "...", "task_summary": {"web1": {"changed": [result, ...], "failed": [...], "ok": [...]}},
//	 "summary": {"web1": {"ok": 3, "changed": 1, "unreachable": 0, "failures": 1,
//	                      "skipped": 0, "rescued": 0, "ignored": 0}},
//	 "status": "failed", "rc": 2, "start": "...", "end": "..."}
//
// Each result is {"task", "action", "path", "uuid", "start", "end", "duration", "res"}; the
// statuses are event.ResultStatus's (ok, changed, failed, ignored, rescued, skipped,
// unreachable). The results are the collector's consolidated results (pluginsdk.ResultsHook),
// which tally keeps on disk during the run and hands over host by host before the final stats:
// the plugin holds one host's results at a time, and writes the file as they come. The file
// is written once, whole or not at all (a temporary file renamed at the stats call).
//
// Options: dir (required), the directory of the files.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "summary",
	Version:     "1.0.0",
	Type:        meta.Aggregate,
	Description: "one <job_id>.json at the end of the run: job ID, per-host counters and every result by host and status",
	Options: []meta.Option{
		{Name: "dir", Type: meta.Dir, Env: []string{"TALLY_SUMMARY_DIR"}, Required: true,
			Description: "the directory of the <job_id>.json files"},
	},
}

type plugin struct {
	dir, jobID string
	f          *os.File
	w          *bufio.Writer
	hosts      int                 // hosts written to task_summary so far
	host       string              // the host whose results are being gathered
	byStatus   map[string][][]byte // its results, encoded, by status
	written    bool
}

// result is one entry of task_summary.
type result struct {
	Task     string         `json:"task"`
	Action   string         `json:"action"`
	Path     string         `json:"path"`
	UUID     string         `json:"uuid"`
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	Duration float64        `json:"duration"`
	Res      map[string]any `json:"res"`
}

func (p *plugin) Configure(c *pluginsdk.Config) error {
	p.dir, p.jobID = c.String("dir"), c.JobID
	f, err := os.OpenFile(p.tmp(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	p.f, p.w = f, bufio.NewWriterSize(f, 64<<10)
	data, _ := json.Marshal(p.jobID)
	fmt.Fprintf(p.w, `{"job_id":%s,"task_summary":{`, data)
	return nil
}

// tmp is the file the summary is written to until it is whole; the name is hidden.
func (p *plugin) tmp() string { return filepath.Join(p.dir, "."+p.jobID+".json~") }

// Result receives the consolidated results, host by host.
func (p *plugin) Result(e *event.Event) error {
	if e.Data.Host != p.host {
		p.writeHost()
		p.host, p.byStatus = e.Data.Host, map[string][][]byte{}
	}
	r := result{UUID: e.UUID, Start: e.Data.Start, End: e.Data.End, Duration: e.Data.Duration, Res: e.Data.Result}
	if t := e.Data.Task; t != nil {
		r.Task, r.Action, r.Path = t.Name, t.Action, t.Path
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("result of %s: %w", e.Data.Host, err)
	}
	status := event.ResultStatus(e)
	p.byStatus[status] = append(p.byStatus[status], data)
	return nil
}

// writeHost writes the gathered host's results.
func (p *plugin) writeHost() {
	if p.byStatus == nil {
		return
	}
	if p.hosts > 0 {
		p.w.WriteByte(',')
	}
	p.hosts++
	writeKey(p.w, p.host)
	p.w.WriteByte('{')
	for i, status := range slices.Sorted(maps.Keys(p.byStatus)) {
		if i > 0 {
			p.w.WriteByte(',')
		}
		writeKey(p.w, status)
		p.w.WriteByte('[')
		for j, r := range p.byStatus[status] {
			if j > 0 {
				p.w.WriteByte(',')
			}
			p.w.Write(r)
		}
		p.w.WriteByte(']')
	}
	p.w.WriteByte('}')
	p.byStatus = nil
}

func writeKey(w *bufio.Writer, k string) {
	data, _ := json.Marshal(k)
	w.Write(data)
	w.WriteByte(':')
}

// counters are the seven recap counters of a host, in Ansible's names.
type counters struct {
	OK          int `json:"ok"`
	Changed     int `json:"changed"`
	Unreachable int `json:"unreachable"`
	Failures    int `json:"failures"`
	Skipped     int `json:"skipped"`
	Rescued     int `json:"rescued"`
	Ignored     int `json:"ignored"`
}

// PlaybookOnStats ends the document with the counters and the run's outcome, and puts it in
// place.
func (p *plugin) PlaybookOnStats(e *event.Event) error {
	if p.written {
		return nil
	}
	p.written = true
	p.writeHost()
	s := e.Data.Stats
	if s == nil {
		s = &event.Stats{}
	}
	summary := map[string]counters{}
	for h, c := range s.Hosts {
		summary[h] = counters{c.OK, c.Changed, c.Unreachable, c.Failures, c.Skipped, c.Rescued, c.Ignored}
	}
	tail, err := json.Marshal(map[string]any{"summary": summary, "status": s.Status, "rc": s.RC, "start": s.Start, "end": s.End})
	if err != nil {
		return err
	}
	p.w.WriteString("},")
	p.w.Write(tail[1:]) // the rest of the object, without its opening brace
	p.w.WriteByte('\n')
	err = p.w.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	if err == nil {
		err = os.Rename(p.tmp(), filepath.Join(p.dir, p.jobID+".json"))
	}
	if err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	return nil
}

// Close removes an unfinished file: a run that never reached its stats call leaves none.
func (p *plugin) Close() error {
	if p.f != nil {
		p.f.Close()
		return os.Remove(p.tmp())
	}
	return nil
}

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
