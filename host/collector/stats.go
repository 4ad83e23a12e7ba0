package collector

import (
	"maps"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// tally keeps the recap counters and custom stats with Ansible's counting rules
// (ansible/plugins/strategy/__init__.py, _process_pending_results). Only the collecting
// goroutine touches it.
type tally struct {
	hosts  map[string]*event.HostStats
	custom map[string]map[string]any // host, or "_run" for run-wide stats
}

func newTally() *tally {
	return &tally{hosts: map[string]*event.HostStats{}, custom: map[string]map[string]any{}}
}

func (t *tally) host(name string) *event.HostStats {
	h := t.hosts[name]
	if h == nil {
		h = &event.HostStats{Processed: 1}
		t.hosts[name] = h
	}
	return h
}

func (t *tally) apply(e *event.Event) {
	d := &e.Data
	switch e.Event {
	case event.PlaybookOnInclude:
		// Ansible counts an include_tasks once per host and file included, not by its result.
		t.host(d.Host).OK++
	case event.RunnerOnOK:
		if d.Task != nil && isInclude(d.Task.Action) {
			return
		}
		h := t.host(d.Host)
		h.OK++
		if changed(d.Result) {
			h.Changed++
		}
		t.customStats(d)
	case event.RunnerOnFailed:
		h := t.host(d.Host)
		switch {
		case d.IgnoreErrors:
			h.OK++
			h.Ignored++
			if changed(d.Result) {
				h.Changed++
			}
		case d.Rescued:
			h.Rescued++
		default:
			h.Failures++
		}
	case event.RunnerOnUnreachable:
		h := t.host(d.Host)
		if d.IgnoreUnreachable {
			h.OK++
			h.Ignored++
		} else {
			h.Unreachable++
		}
	case event.RunnerOnSkipped:
		// Ansible reports a meta task whose when is false as skipped to the callbacks, but its
		// strategy counts nothing for it (_execute_meta).
		if d.Task != nil && isMeta(d.Task.Action) {
			return
		}
		t.host(d.Host).Skipped++
	}
}

func isMeta(action string) bool {
	return action == "meta" || action == "ansible.builtin.meta" || action == "ansible.legacy.meta"
}

func isInclude(action string) bool {
	switch action {
	case "include_tasks", "ansible.builtin.include_tasks", "ansible.legacy.include_tasks",
		"include_role", "ansible.builtin.include_role", "ansible.legacy.include_role":
		return true
	}
	return false
}

func changed(r map[string]any) bool {
	c, _ := r["changed"].(bool)
	return c
}

// customStats records set_stats data carried by a result (or by a loop's item results).
func (t *tally) customStats(d *event.Data) {
	results := []any{d.Result}
	if items, ok := d.Result["results"].([]any); ok {
		results = items
	}
	for _, r := range results {
		rm, _ := r.(map[string]any)
		st, _ := rm["ansible_stats"].(map[string]any)
		data, _ := st["data"].(map[string]any)
		if len(data) == 0 {
			continue
		}
		host := "_run"
		if perHost, _ := st["per_host"].(bool); perHost {
			host = d.Host
		}
		aggregate, _ := st["aggregate"].(bool)
		for k, v := range data {
			t.setCustom(host, k, v, aggregate)
		}
	}
}

// setCustom stores a custom stat; with aggregate it adds to the value already there as Ansible
// does: dicts merge, lists and numbers and strings add, and a value of another type is ignored.
func (t *tally) setCustom(host, key string, v any, aggregate bool) {
	m := t.custom[host]
	if m == nil {
		m = map[string]any{}
		t.custom[host] = m
	}
	old, ok := m[key]
	if !aggregate || !ok {
		m[key] = v
		return
	}
	switch o := old.(type) {
	case map[string]any:
		if n, ok := v.(map[string]any); ok {
			m[key] = mergeHash(o, n)
		}
	case []any:
		if n, ok := v.([]any); ok {
			m[key] = append(append([]any{}, o...), n...)
		}
	case string:
		if n, ok := v.(string); ok {
			m[key] = o + n
		}
	case int:
		if n, ok := v.(int); ok {
			m[key] = o + n
		}
	case float64:
		if n, ok := v.(float64); ok {
			m[key] = o + n
		}
	}
}

// mergeHash merges b into a copy of a, recursing into dicts both have (Ansible's merge_hash).
func mergeHash(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	for k, bv := range b {
		am, aok := out[k].(map[string]any)
		bm, bok := bv.(map[string]any)
		if aok && bok {
			out[k] = mergeHash(am, bm)
		} else {
			out[k] = bv
		}
	}
	return out
}

func (t *tally) result() *event.Stats {
	st := &event.Stats{Hosts: make(map[string]event.HostStats, len(t.hosts))}
	for name, h := range t.hosts {
		st.Hosts[name] = *h
	}
	for host, m := range t.custom {
		if host == "_run" {
			st.GlobalCustomStats = m
			continue
		}
		if st.CustomStats == nil {
			st.CustomStats = map[string]map[string]any{}
		}
		st.CustomStats[host] = m
	}
	return st
}
