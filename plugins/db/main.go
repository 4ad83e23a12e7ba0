// Command db is an aggregate plugin that writes an ARA-like record of each run to the sink
// the operator grants it (docs/sinks.md), keyed by the run's job ID, in four collections:
//
//   - runs: one document per run: job_id, playbooks, status, rc, start, end, duration, hosts
//     (each host's recap counters), custom_stats, global_custom_stats, and the command line's
//     limit, tags and skip_tags when it gave them;
//   - hosts: per host: its recap counters, custom stats and facts (a summary of the facts a
//     task gathered: distribution, OS family, host name, default IPv4 address, ...);
//   - tasks: per task: uuid, name, action, path, tags, start, end, duration (first start to
//     last end over its hosts), hosts (how many ran it);
//   - results: per host per task: host, task, task_uuid, action, path, status, changed,
//     start, end, duration, msg, rc, and res, the result itself (no_log results arrive
//     censored), replaced by {"truncated": SIZE} past result_size bytes of JSON.
//
// The host buffers the records and writes them when the run ends, in one transaction per
// sink: a run is in the database whole or not at all.
//
// Options: sink (required), the sink to write to; result_size, the largest res kept.
package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

var metadata = meta.Metadata{
	Name:        "db",
	Version:     "1.0.0",
	Type:        meta.Aggregate,
	Description: "an ARA-like record of each run (runs, hosts, tasks, results) in a sink: SQLite, PostgreSQL, ...",
	Options: []meta.Option{
		{Name: "sink", Type: meta.Sink, Env: []string{"TALLY_DB_SINK"}, Required: true,
			Description: "the sink the records go to"},
		{Name: "result_size", Type: meta.Int, Default: 16384, Env: []string{"TALLY_DB_RESULT_SIZE"},
			Description: "the largest result (res, as JSON) kept in a results record; larger ones keep their size only"},
	},
}

type plugin struct {
	sink       pluginsdk.Sink
	resultSize int
	jobID      string
	line       wire.CommandLine
	playbooks  []string
	facts      map[string]map[string]any // host -> its facts summary
	doc        wire.Doc                  // a results record's document, reused
	tasks      map[string]*task
	order      []string // task uuids, in the order they started
	err        error    // the first record the sink refused
}

// task is what the tasks collection says of one task.
type task struct {
	UUID, Name, Action, Path string
	Tags                     []string
	Start, End               time.Time
	Duration                 float64
	Hosts                    int
}

func (p *plugin) Configure(c *pluginsdk.Config) error {
	p.sink, p.resultSize, p.jobID, p.line = c.Sink("sink"), c.Int("result_size"), c.JobID, c.CommandLine
	p.tasks, p.facts = map[string]*task{}, map[string]map[string]any{}
	return nil
}

// put and putDoc append a record, remembering the first refusal: the run goes on, and the
// plugin reports it when the run ends.
func (p *plugin) put(collection, key string, doc map[string]any) {
	p.refused(p.sink.Put(collection, key, doc))
}

func (p *plugin) putDoc(collection, key string, doc *wire.Doc) {
	p.refused(p.sink.PutDoc(collection, key, doc))
}

func (p *plugin) refused(err error) {
	if err != nil && p.err == nil {
		p.err = err
	}
}

func (p *plugin) PlaybookOnStart(e *event.Event) error {
	p.playbooks = append(p.playbooks, e.Data.Playbook)
	return nil
}

func (p *plugin) RunnerOnOK(e *event.Event) error          { return p.result(e) }
func (p *plugin) RunnerOnFailed(e *event.Event) error      { return p.result(e) }
func (p *plugin) RunnerOnSkipped(e *event.Event) error     { return p.result(e) }
func (p *plugin) RunnerOnUnreachable(e *event.Event) error { return p.result(e) }

// RawValues asks for results encoded (wire.Value): the plugin passes them on to its sink as
// they came, without building their maps or encoding them again.
func (p *plugin) RawValues() bool { return true }

// result records one result and counts it in its task. Its document is written straight
// into the encoding (wire.Doc), as a map built for every result would cost several times
// more in WebAssembly.
func (p *plugin) result(e *event.Event) error {
	d := e.Data
	res := wire.Value(d.RawResult)
	w := &p.doc
	w.Reset()
	w.Str("host", d.Host)
	w.Str("status", event.ResultStatus(e))
	w.Time("start", d.Start)
	w.Time("end", d.End)
	w.Float("duration", d.Duration)
	// One pass over the result for the keys the record takes out of it.
	var changed bool
	for it := res.Iter(); it.Next(); {
		switch it.Key() {
		case "changed":
			changed = it.Value().Bool()
		case "msg", "rc":
			w.Value(it.Key(), it.Value())
		case "ansible_facts":
			if e.Event == event.RunnerOnOK {
				p.keepFacts(d.Host, it.Value())
			}
		}
	}
	w.Bool("changed", changed)
	if t := d.Task; t != nil {
		w.Str("task", t.Name)
		w.Str("task_uuid", t.UUID)
		w.Str("action", t.Action)
		w.Str("path", t.Path)
		p.count(t, d)
	}
	w.Value("res", p.fitted(res))
	p.putDoc("results", e.UUID, w)
	return nil
}

// fitted is the result res, or {"truncated": SIZE} when its JSON is over result_size bytes.
// JSON takes at most 6 bytes for one of the encoding (a control character in a string,
// \u0000), so a result that small cannot pass result_size, and only a larger one is measured.
func (p *plugin) fitted(res wire.Value) any {
	if len(res)*6 <= p.resultSize {
		return res
	}
	v, err := res.Decode()
	if err != nil {
		return res
	}
	if data, err := json.Marshal(v); err == nil && len(data) > p.resultSize {
		return map[string]any{"truncated": len(data)}
	}
	return res
}

// summaryFacts are the facts a hosts record keeps, of those a task (setup, gather_facts, ...)
// returns in ansible_facts.
var summaryFacts = []string{"ansible_hostname", "ansible_fqdn", "ansible_distribution", "ansible_distribution_version",
	"ansible_distribution_release", "ansible_os_family", "ansible_system", "ansible_kernel", "ansible_architecture",
	"ansible_default_ipv4", "ansible_processor_vcpus", "ansible_memtotal_mb"}

// keepFacts adds the summary facts of a successful result, its ansible_facts, to its host's.
// They are copied: an event's encoded values last only as long as the event.
func (p *plugin) keepFacts(host string, facts wire.Value) {
	if facts.Kind() != wire.Map {
		return
	}
	for _, k := range summaryFacts {
		v := facts.Get(k)
		if v == nil {
			continue
		}
		var kept any = wire.Value(bytes.Clone(v))
		if k == "ansible_default_ipv4" {
			// The interface's address, not every detail of it.
			a := v.Get("address")
			if a == nil {
				continue
			}
			kept = map[string]any{"address": wire.Value(bytes.Clone(a))}
		}
		if p.facts[host] == nil {
			p.facts[host] = map[string]any{}
		}
		p.facts[host][k] = kept
	}
}

// count adds a result to its task's span and number of hosts.
func (p *plugin) count(t *event.Task, d event.Data) {
	k := p.tasks[t.UUID]
	if k == nil {
		k = &task{UUID: t.UUID, Name: t.Name, Action: t.Action, Path: t.Path, Tags: t.Tags}
		p.tasks[t.UUID] = k
		p.order = append(p.order, t.UUID)
	}
	k.Hosts++
	if !d.Start.IsZero() && (k.Start.IsZero() || d.Start.Before(k.Start)) {
		k.Start = d.Start
	}
	if d.End.After(k.End) {
		k.End = d.End
	}
	if !k.Start.IsZero() {
		k.Duration = k.End.Sub(k.Start).Seconds()
	}
}

// PlaybookOnStats writes the run, its hosts and its tasks.
func (p *plugin) PlaybookOnStats(e *event.Event) error {
	st := e.Data.Stats
	if st == nil {
		return nil
	}
	hosts := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(st.Hosts)) {
		h := counters(st.Hosts[name])
		hosts[name] = h
		doc := map[string]any{"host": name}
		for k, v := range h {
			doc[k] = v
		}
		if cs := st.CustomStats[name]; cs != nil {
			doc["custom_stats"] = cs
		}
		if f := p.facts[name]; f != nil {
			doc["facts"] = f
		}
		p.put("hosts", name, doc)
	}
	for _, uuid := range p.order {
		k := p.tasks[uuid]
		p.put("tasks", uuid, map[string]any{"uuid": k.UUID, "name": k.Name, "action": k.Action, "path": k.Path,
			"tags": k.Tags, "start": k.Start, "end": k.End, "duration": k.Duration, "hosts": k.Hosts})
	}
	run := map[string]any{"job_id": p.jobID, "playbooks": p.playbooks, "status": st.Status, "rc": st.RC,
		"start": st.Start, "end": st.End, "duration": st.End.Sub(st.Start).Seconds(), "hosts": hosts}
	if st.CustomStats != nil {
		run["custom_stats"] = st.CustomStats
	}
	if st.GlobalCustomStats != nil {
		run["global_custom_stats"] = st.GlobalCustomStats
	}
	if p.line.Limit != "" {
		run["limit"] = p.line.Limit
	}
	if p.line.Tags != nil {
		run["tags"] = p.line.Tags
	}
	if p.line.SkipTags != nil {
		run["skip_tags"] = p.line.SkipTags
	}
	p.put("runs", p.jobID, run)
	return p.err
}

// counters are a host's recap counters under their names in events.md.
func counters(h event.HostStats) map[string]any {
	return map[string]any{"ok": h.OK, "changed": h.Changed, "failures": h.Failures, "unreachable": h.Unreachable,
		"skipped": h.Skipped, "rescued": h.Rescued, "ignored": h.Ignored, "processed": h.Processed}
}

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
