package display

import (
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// result is a runner event's result as the default callback receives it.
type result struct {
	host  string
	label string // the host, with the delegated host when there is one
	task  *event.Task
	res   map[string]any // a copy the callback may change
}

func newResult(data *event.Data, task *event.Task) result {
	return result{
		host:  data.Host,
		label: hostLabel(data.Host, data.Result),
		task:  task,
		res:   cleanCopy(data.Result, isDebugAction(task.Action)),
	}
}

// cleanCopy is TaskResult.clean_copy, which Ansible applies before any callback sees a
// result: a no_log result becomes a notice, otherwise the status keys the event type already
// says go. Internal keys stay until dumping, which drops them.
func cleanCopy(raw map[string]any, debug bool) map[string]any {
	if pytext.Truthy(raw["_ansible_no_log"]) {
		res := map[string]any{"censored": censored}
		for _, k := range []string{"attempts", "changed", "retries"} {
			if v, ok := raw[k]; ok {
				res[k] = v
			}
		}
		return res
	}
	res := make(map[string]any, len(raw))
	for k, v := range raw {
		switch {
		case k == "failed" || k == "skipped":
		case k == "invocation" && debug:
		default:
			res[k] = v
		}
	}
	return res
}

// hostLabel is CallbackBase.host_label: "host -> delegate", plus the delegate's address when it
// differs from its name. The executor names the delegate in _ansible_delegated_vars.
func hostLabel(host string, raw map[string]any) string {
	vars, _ := raw["_ansible_delegated_vars"].(map[string]any)
	if vars == nil {
		return host
	}
	addr, hasAddr := vars["ansible_host"]
	delegate := optStr(vars["ansible_delegated_host"])
	if delegate == "" {
		delegate = optStr(addr)
	}
	if delegate == "" || delegate == host {
		return host
	}
	label := host + " -> " + delegate
	if hasAddr && pyStr(addr) != delegate {
		label += "(" + pyStr(addr) + ")"
	}
	return label
}

// debugAllowedKeys are the keys a debug result with a msg keeps (_DEBUG_ALLOWED_KEYS).
var debugAllowedKeys = map[string]bool{"msg": true, "exception": true, "warnings": true, "deprecations": true}

// debugHiddenKeys are the keys a debug result showing a variable drops (_hide_in_debug).
var debugHiddenKeys = []string{"changed", "failed", "skipped", "invocation", "skip_reason"}

// cleanDebug is CallbackBase._clean_results: a debug result shows only what it was asked to.
func (r result) cleanDebug() {
	if !isDebugAction(r.task.Action) {
		return
	}
	if _, ok := r.res["msg"]; ok {
		for k := range r.res {
			if !debugAllowedKeys[k] && !strings.HasPrefix(k, "_") {
				delete(r.res, k)
			}
		}
		return
	}
	for _, k := range debugHiddenKeys {
		delete(r.res, k)
	}
}

// isLoop tells a looped task's final result, whose items were shown one by one. Ansible asks
// the task whether it has a loop; the event does not say, but every item result of a loop
// carries ansible_loop_var. A loop over no items is a skipped result with an empty list.
func (r result) isLoop() bool {
	items, ok := r.res["results"].([]any)
	if !ok {
		return false
	}
	if len(items) == 0 {
		return r.res["skipped_reason"] != nil
	}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["ansible_loop_var"]; !ok {
			return false
		}
	}
	return true
}

// itemLabel is CallbackBase._get_item_label: the loop_control label, else the item.
func itemLabel(res map[string]any) any {
	if pytext.Truthy(res["_ansible_no_log"]) {
		return "(censored due to no_log)"
	}
	if label, ok := res["_ansible_item_label"]; ok {
		return label
	}
	loopVar, ok := res["ansible_loop_var"].(string)
	if !ok {
		loopVar = "item"
	}
	return res[loopVar]
}

func isDebugAction(action string) bool {
	return shortAction(action) == "debug"
}

// isIncludeAction tells the dynamic includes, whose results the callback does not print
// (TaskInclude and IncludeRole tasks).
func isIncludeAction(action string) bool {
	switch shortAction(action) {
	case "include", "include_tasks", "include_role":
		return true
	}
	return false
}

// shortAction drops the collection Ansible's own actions may be written with.
func shortAction(action string) string {
	for _, prefix := range []string{"ansible.builtin.", "ansible.legacy."} {
		if s, ok := strings.CutPrefix(action, prefix); ok {
			return s
		}
	}
	return action
}
