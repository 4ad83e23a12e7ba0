// Command summary is an aggregate plugin that writes, at the end of a run, one file
// <job_id>.json in its granted directory: the run's record for a single database insert.
//
//	{"job_id": "...", "status": "failed", "rc": 2, "start": "...", "end": "...",
//	 "summary": {"web1": {"ok": 3, "changed": 1, "unreachable": 0, "failures": 1,
//	                      "skipped": 0, "rescued": 0, "ignored": 0}},
//	 "task_summary": {"web1": {"ok": [result, ...], "changed": [...], "failed": [...]}}}
//
// Each result is {"task", "action", "path", "uuid", "start", "end", "duration", "res"}; the
// statuses are event.ResultStatus's (ok, changed, failed, ignored, rescued, skipped,
// unreachable). The file is written once, whole or not at all (a temporary file renamed).
// Results are kept on disk while the run goes, in a hidden file in the same directory, so the
// plugin's memory does not grow with the run.
//
// Options: dir (required), the directory of the files.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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

// span is where one result's JSON is in the spill file.
type span struct {
	off int64
	n   int
}

type plugin struct {
	dir, jobID string
	spill      *os.File
	w          *bufio.Writer
	off        int64
	results    map[string]map[string][]span // host -> status -> results
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
	p.dir, p.jobID, p.results = c.String("dir"), c.JobID, map[string]map[string][]span{}
	f, err := os.OpenFile(p.path(".results~"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("open the results file: %w", err)
	}
	p.spill, p.w = f, bufio.NewWriterSize(f, 64<<10)
	return nil
}

// path names a file of this run in the directory; the spill file is hidden.
func (p *plugin) path(suffix string) string {
	if suffix == ".json" {
		return filepath.Join(p.dir, p.jobID+suffix)
	}
	return filepath.Join(p.dir, "."+p.jobID+suffix)
}

func (p *plugin) RunnerOnOK(e *event.Event) error          { return p.keep(e) }
func (p *plugin) RunnerOnFailed(e *event.Event) error      { return p.keep(e) }
func (p *plugin) RunnerOnSkipped(e *event.Event) error     { return p.keep(e) }
func (p *plugin) RunnerOnUnreachable(e *event.Event) error { return p.keep(e) }

// keep appends a result to the spill file and remembers where it is.
func (p *plugin) keep(e *event.Event) error {
	r := result{UUID: e.UUID, Start: e.Data.Start, End: e.Data.End, Duration: e.Data.Duration, Res: e.Data.Result}
	if t := e.Data.Task; t != nil {
		r.Task, r.Action, r.Path = t.Name, t.Action, t.Path
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("result of %s: %w", e.Data.Host, err)
	}
	if _, err := p.w.Write(data); err != nil {
		return fmt.Errorf("keep a result: %w", err)
	}
	host, status := e.Data.Host, event.ResultStatus(e)
	if p.results[host] == nil {
		p.results[host] = map[string][]span{}
	}
	p.results[host][status] = append(p.results[host][status], span{p.off, len(data)})
	p.off += int64(len(data))
	return nil
}

func (p *plugin) PlaybookOnStats(e *event.Event) error {
	if p.written {
		return nil
	}
	p.written = true
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("keep the results: %w", err)
	}
	tmp := p.path(".json~")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	err = p.write(bufio.NewWriterSize(f, 64<<10), e)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p.path(".json"))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write the summary: %w", err)
	}
	return nil
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

// write streams the document to w: the results are copied from the spill file one by one.
func (p *plugin) write(w *bufio.Writer, e *event.Event) error {
	s := e.Data.Stats
	if s == nil {
		s = &event.Stats{}
	}
	head := map[string]any{"job_id": e.JobID, "status": s.Status, "rc": s.RC, "start": s.Start, "end": s.End}
	summary := map[string]counters{}
	for h, c := range s.Hosts {
		summary[h] = counters{c.OK, c.Changed, c.Unreachable, c.Failures, c.Skipped, c.Rescued, c.Ignored}
	}
	head["summary"] = summary
	data, err := json.Marshal(head)
	if err != nil {
		return err
	}
	w.Write(data[:len(data)-1]) // the object stays open for task_summary
	w.WriteString(`,"task_summary":{`)
	buf := make([]byte, 0, 4096)
	for i, host := range slices.Sorted(maps.Keys(p.results)) {
		if i > 0 {
			w.WriteByte(',')
		}
		writeKey(w, host)
		w.WriteByte('{')
		for j, status := range slices.Sorted(maps.Keys(p.results[host])) {
			if j > 0 {
				w.WriteByte(',')
			}
			writeKey(w, status)
			w.WriteByte('[')
			for k, sp := range p.results[host][status] {
				if k > 0 {
					w.WriteByte(',')
				}
				buf = slices.Grow(buf[:0], sp.n)[:sp.n]
				if _, err := p.spill.ReadAt(buf, sp.off); err != nil && err != io.EOF {
					return fmt.Errorf("read a kept result: %w", err)
				}
				w.Write(buf)
			}
			w.WriteByte(']')
		}
		w.WriteByte('}')
	}
	w.WriteString("}}\n")
	return w.Flush()
}

func writeKey(w *bufio.Writer, k string) {
	data, _ := json.Marshal(k)
	w.Write(data)
	w.WriteByte(':')
}

// Close removes the spill file.
func (p *plugin) Close() error {
	if p.spill == nil {
		return nil
	}
	p.spill.Close()
	return os.Remove(p.path(".results~"))
}

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
