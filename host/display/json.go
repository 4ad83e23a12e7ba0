package display

import (
	"io"
	"strings"
	"time"

	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// JSON prints a run as one JSON document at its end, in the shape of Ansible's
// ansible.posix.json stdout callback (plays -> tasks -> hosts -> result, stats, custom_stats,
// global_custom_stats), plus the run's job_id. Like all callbacks it is called from one
// goroutine.
type JSON struct {
	w         io.Writer
	indent    int
	showStats bool
	plays     []map[string]any
	err       error
}

// NewJSON returns a JSON writing to w: indent spaces per level (0 or less: one line), with the
// set_stats data when showCustomStats is set (as ansible.posix.json's show_custom_stats).
func NewJSON(w io.Writer, indent int, showCustomStats bool) *JSON {
	return &JSON{w: w, indent: indent, showStats: showCustomStats}
}

// Name is the callback's name.
func (j *JSON) Name() string { return "json" }

// cleanExceptions are the internal keys a result keeps for callbacks (CLEAN_EXCEPTIONS).
var cleanExceptions = map[string]bool{"_ansible_verbose_always": true, "_ansible_item_label": true,
	"_ansible_no_log": true, "_ansible_verbose_override": true}

// delegatedKeys are the _ansible_delegated_vars a result keeps (TaskResult._SUB_PRESERVE).
var delegatedKeys = []string{"ansible_host", "ansible_port", "ansible_user", "ansible_connection"}

// Event records one event, and prints the document at playbook_on_stats.
func (j *JSON) Event(e *event.Event) error {
	data := &e.Data
	now := jsonTime(e.Created)
	switch e.Event {
	case event.PlaybookOnPlayStart:
		j.plays = append(j.plays, map[string]any{
			"play":  map[string]any{"name": data.Play, "id": e.UUID, "path": data.Playbook, "duration": map[string]any{"start": now}},
			"tasks": []any{},
		})
	case event.PlaybookOnTaskStart, event.PlaybookOnHandlerTaskStart:
		if len(j.plays) == 0 || data.Task == nil {
			return nil
		}
		play := j.plays[len(j.plays)-1]
		play["tasks"] = append(play["tasks"].([]any), map[string]any{
			"task":  map[string]any{"name": taskName(data.Task), "id": data.Task.UUID, "path": data.Task.Path, "duration": map[string]any{"start": now}},
			"hosts": map[string]any{},
		})
	case event.RunnerOnOK, event.RunnerOnFailed, event.RunnerOnSkipped, event.RunnerOnUnreachable:
		j.record(e, now)
	case event.PlaybookOnStats:
		j.print(e)
	}
	return j.err
}

// record is the callback's _record_task_result: the result, failed or skipped said again,
// and the action, under the host in the play's last task.
func (j *JSON) record(e *event.Event, now string) {
	if len(j.plays) == 0 || e.Data.Task == nil {
		return
	}
	play := j.plays[len(j.plays)-1]
	tasks := play["tasks"].([]any)
	if len(tasks) == 0 {
		return
	}
	res := cleanCopy(e.Data.Result, false)
	for k := range res {
		if strings.HasPrefix(k, "_ansible_") && !cleanExceptions[k] {
			delete(res, k)
		}
	}
	if vars, ok := e.Data.Result["_ansible_delegated_vars"].(map[string]any); ok {
		kept := map[string]any{}
		for _, k := range delegatedKeys {
			if v, ok := vars[k]; ok {
				kept[k] = v
			}
		}
		res["_ansible_delegated_vars"] = kept
	}
	switch e.Event {
	case event.RunnerOnFailed:
		res["failed"] = true
	case event.RunnerOnSkipped:
		res["skipped"] = true
	}
	res["action"] = e.Data.Task.Action
	task := tasks[len(tasks)-1].(map[string]any)
	task["hosts"].(map[string]any)[e.Data.Host] = res
	task["task"].(map[string]any)["duration"].(map[string]any)["end"] = now
	play["play"].(map[string]any)["duration"].(map[string]any)["end"] = now
}

func (j *JSON) print(e *event.Event) {
	s := e.Data.Stats
	if s == nil {
		s = &event.Stats{}
	}
	summary := map[string]any{}
	for h, c := range s.Hosts {
		summary[h] = map[string]any{"ok": c.OK, "failures": c.Failures, "unreachable": c.Unreachable,
			"changed": c.Changed, "skipped": c.Skipped, "rescued": c.Rescued, "ignored": c.Ignored}
	}
	custom, global := map[string]any{}, map[string]any{}
	if j.showStats {
		for h, v := range s.CustomStats {
			custom[h] = v
		}
		for k, v := range s.GlobalCustomStats {
			global[k] = v
		}
	}
	plays := make([]any, len(j.plays))
	for i, p := range j.plays {
		plays[i] = p
	}
	doc := map[string]any{"job_id": e.JobID, "plays": plays, "stats": summary, "custom_stats": custom, "global_custom_stats": global}
	out, err := pytext.DumpJSON(doc, pytext.JSONOptions{Pretty: j.indent > 0, Indent: strings.Repeat(" ", max(j.indent, 0)), EnsureASCII: true})
	if err == nil {
		_, err = io.WriteString(j.w, out+"\n")
	}
	j.err = err
}

// jsonTime is the callback's current_time(): UTC, ISO 8601 with microseconds, and a Z.
func jsonTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000") + "Z"
}

// Close does nothing: the document is printed at playbook_on_stats.
func (j *JSON) Close() error { return j.err }
