package executor

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// runLoop runs one iteration per loop item and folds their results as Ansible's
// TaskExecutor does.
func (r *playRun) runLoop(ctx context.Context, c *compiled, info *event.Task, h *inventory.Host, vars map[string]any, o *outcome, data func() event.Data, noLog bool) map[string]any {
	items, err := r.loopItems(c, vars)
	if err != nil {
		return failure(err.Error())
	}
	if len(items) == 0 {
		return map[string]any{"changed": false, "skipped": true, "skipped_reason": "No items in the list", "results": []any{}}
	}
	lc := c.task.LoopControl
	loopVar := lc.LoopVar
	if loopVar == "" {
		loopVar = "item"
	}
	res := map[string]any{"changed": false}
	results := make([]any, 0, len(items))
	for i, item := range items {
		if ctx.Err() != nil {
			break
		}
		iv := maps.Clone(vars)
		iv[loopVar] = item
		iv["ansible_loop_var"] = loopVar
		if lc.IndexVar != "" {
			iv[lc.IndexVar] = i
			iv["ansible_index_var"] = lc.IndexVar
		}
		ir := r.runIteration(ctx, c, h, iv, o)
		ir[loopVar] = item
		ir["ansible_loop_var"] = loopVar
		if lc.IndexVar != "" {
			ir[lc.IndexVar] = i
			ir["ansible_index_var"] = lc.IndexVar
		}
		if lc.Label != "" {
			if label, err := r.x.tmpl.Render(lc.Label, iv); err == nil {
				ir["_ansible_item_label"] = label
			}
		}
		if noLog {
			ir["_ansible_no_log"] = true
		}
		results = append(results, ir)
		typ := event.RunnerItemOnOK
		switch classify(ir) {
		case statusFailed, statusUnreachable:
			typ = event.RunnerItemOnFailed
			if f, _ := res["failed"].(bool); !f {
				res["failed"] = true
				res["msg"] = "One or more items failed"
			}
		case statusSkipped:
			typ = event.RunnerItemOnSkipped
		}
		if changed, _ := ir["changed"].(bool); changed {
			res["changed"] = true
		}
		d := data()
		d.Result = callbackResult(ir, noLog, c.action())
		r.x.emit(&event.Event{ParentUUID: c.task.UUID, Event: typ, Data: d})
		if lc.Pause != nil {
			if p, err := r.x.tmpl.Render(lc.Pause, iv); err == nil {
				if f, err := toFloat(p); err == nil {
					sleep(ctx, time.Duration(f*float64(time.Second)))
				}
			}
		}
	}
	res["results"] = results
	if f, _ := res["failed"].(bool); !f {
		delete(res, "failed")
		res["msg"] = "All items completed"
		if allSkipped(res) {
			res["skipped"] = true
			res["msg"] = "All items skipped"
		}
	}
	return res
}

// loopItems evaluates a task's loop (or with_items) to its list of items.
func (r *playRun) loopItems(c *compiled, vars map[string]any) ([]any, error) {
	v, err := r.x.tmpl.Render(c.task.Loop, vars)
	if err != nil {
		return nil, fmt.Errorf("'%s' %s", c.task.LoopKeyword, undefinedMsg(err))
	}
	var items []any
	switch l := v.(type) {
	case []any:
		items = l
	case nil:
	case string:
		if c.task.LoopKeyword != "with_items" {
			return nil, fmt.Errorf("Invalid data passed to 'loop', it requires a list, got this instead: %s. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.", l)
		}
		items = []any{l}
	default:
		if c.task.LoopKeyword != "with_items" {
			return nil, fmt.Errorf("Invalid data passed to 'loop', it requires a list, got this instead: %v.", l)
		}
		items = []any{l}
	}
	if c.task.LoopKeyword == "with_items" {
		var flat []any
		for _, it := range items {
			if l, ok := it.([]any); ok {
				flat = append(flat, l...)
			} else {
				flat = append(flat, it)
			}
		}
		items = flat
	}
	return items, nil
}
