package executor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// runLoop runs one iteration per loop item and folds their results as Ansible's
// TaskExecutor does.
func (r *playRun) runLoop(ctx context.Context, c *compiled, info *event.Task, h *inventory.Host, vars map[string]any, o *outcome, data func() event.Data, noLog bool) map[string]any {
	items, err := r.loopItems(c, vars)
	if err != nil {
		if skipped := r.skipUndefinedLoop(c, vars, err); skipped != nil {
			o.looped = false
			return skipped
		}
		return failure(err.Error())
	}
	if len(items) == 0 {
		return map[string]any{"changed": false, "skipped": true, "skipped_reason": "No items in the list", "results": []any{}}
	}
	lc := c.task.LoopControl
	// loop_var and index_var may be templates, as Ansible post-validates loop_control
	names := [2]string{lc.LoopVar, lc.IndexVar}
	for i, n := range names {
		if !template.IsTemplate(n) {
			continue
		}
		v, err := r.x.tmpl.Render(n, vars)
		if err != nil {
			return failure(fmt.Sprintf("The field '%s' has an invalid value, which includes an undefined variable. The error was: %s",
				[2]string{"loop_var", "index_var"}[i], undefinedMsg(err)))
		}
		names[i] = template.String(v)
	}
	loopVar, indexVar := names[0], names[1]
	if loopVar == "" {
		loopVar = "item"
	}
	extended, allItems := r.flag(lc.Extended, vars), lc.ExtendedAllitems == nil || r.flag(lc.ExtendedAllitems, vars)
	// Each item sees the facts the items before it set, as in Ansible's loop.
	vars = maps.Clone(vars)
	res := map[string]any{"changed": false}
	results := make([]any, 0, len(items))
	for i, item := range items {
		if ctx.Err() != nil {
			break
		}
		// The item's variables, which its result reports too.
		lv := map[string]any{loopVar: item, "ansible_loop_var": loopVar}
		if indexVar != "" {
			lv[indexVar] = i
			lv["ansible_index_var"] = indexVar
		}
		if extended {
			lv["ansible_loop"] = loopInfo(items, i, allItems)
		}
		iv := maps.Clone(vars)
		maps.Copy(iv, lv)
		ir := r.runIteration(ctx, c, h, iv, o)
		if o.raised {
			o.looped = false
			return ir
		}
		r.keepItemFacts(c, vars, ir)
		maps.Copy(ir, lv)
		if lc.Label != "" {
			if label, err := r.x.tmpl.Render(lc.Label, iv); err == nil {
				ir["_ansible_item_label"] = label
			}
		}
		if noLog {
			ir["_ansible_no_log"] = true
		}
		if repeatsChange(ir, results) {
			ir["changed"] = false
		}
		results = append(results, ir)
		typ := event.RunnerItemOnOK
		switch classify(ir) {
		case statusUnreachable:
			// Not failed: the task is unreachable (classify), unless another item failed.
			typ = event.RunnerItemOnFailed
		case statusFailed:
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

// skipUndefinedLoop is the result of a task whose loop could not be evaluated (err) when its
// when is false: Ansible then skips the task instead of failing it. Nil otherwise.
func (r *playRun) skipUndefinedLoop(c *compiled, vars map[string]any, err error) map[string]any {
	var u *template.UndefinedError
	if !errors.As(err, &u) {
		return nil
	}
	if ok, cerr := r.x.tmpl.Cond(c.when, vars); cerr != nil || ok {
		return nil
	}
	return map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}
}

// loopInfo is ansible_loop for item i of items (loop_control.extended).
func loopInfo(items []any, i int, allItems bool) map[string]any {
	n := len(items)
	info := map[string]any{"index": i + 1, "index0": i, "first": i == 0, "last": i == n-1, "length": n,
		"revindex": n - i, "revindex0": n - i - 1}
	if allItems {
		info["allitems"] = items
	}
	if i+1 < n {
		info["nextitem"] = items[i+1]
	}
	if i > 0 {
		info["previtem"] = items[i-1]
	}
	return info
}

// keepItemFacts makes the facts one loop item set visible to the next items, as Ansible's
// TaskExecutor updates the loop's variables: set_fact's as variables, a module's under
// ansible_facts and with the ansible_ prefix.
func (r *playRun) keepItemFacts(c *compiled, vars, res map[string]any) {
	facts, ok := res["ansible_facts"].(map[string]any)
	if !ok || c.action() == "debug" {
		return
	}
	if c.action() == "set_fact" {
		maps.Copy(vars, facts)
		return
	}
	all, _ := vars["ansible_facts"].(map[string]any)
	all = maps.Clone(all)
	if all == nil {
		all = map[string]any{}
	}
	for k, v := range facts {
		name := strings.TrimPrefix(k, "ansible_")
		all[name] = template.Unsafe(v)
		vars[k] = template.Unsafe(v) // the variable under the name the module gave it
	}
	vars["ansible_facts"] = all
}

// loopItems evaluates a task's loop to its list of items: loop's list, or what the lookup
// of a with_<lookup> gives for its terms.
func (r *playRun) loopItems(c *compiled, vars map[string]any) ([]any, error) {
	if name, ok := strings.CutPrefix(c.task.LoopKeyword, "with_"); ok {
		return r.lookupLoop(c, name, vars)
	}
	v, err := r.x.tmpl.Render(c.task.Loop, vars)
	if err != nil {
		return nil, loopError(c, err)
	}
	switch l := v.(type) {
	case []any:
		return l, nil
	case nil:
		return nil, nil
	case string:
		return nil, fmt.Errorf("Invalid data passed to 'loop', it requires a list, got this instead: %s. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.", l)
	default:
		return nil, fmt.Errorf("Invalid data passed to 'loop', it requires a list, got this instead: %v.", l)
	}
}

// loopError is the error templating a task's loop gave, naming the loop keyword; an undefined
// variable stays a *template.UndefinedError for skipUndefinedLoop.
func loopError(c *compiled, err error) error {
	var u *template.UndefinedError
	if errors.As(err, &u) {
		err = u
	}
	return fmt.Errorf("'%s' %w", c.task.LoopKeyword, err)
}

// lookupLoop runs the lookup of a with_<name> loop on its terms, templated as Ansible's
// listify_lookup_plugin_terms does: a string or a dict is one term. For first_found, terms
// using undefined variables are dropped instead of failing the task.
func (r *playRun) lookupLoop(c *compiled, name string, vars map[string]any) ([]any, error) {
	raw := c.task.Loop
	if s, ok := raw.(string); ok {
		raw = strings.TrimSpace(s)
	}
	var v any
	var err error
	if l, ok := raw.([]any); ok && name == "first_found" {
		var terms []any
		for _, t := range l {
			if rt, err := r.x.tmpl.Render(t, vars); err == nil {
				terms = append(terms, rt)
			}
		}
		v = terms
	} else if v, err = r.x.tmpl.Render(raw, vars); err != nil {
		if name != "first_found" {
			return nil, loopError(c, err)
		}
		v = []any{}
	}
	return r.x.lookups.Loop(name, v, vars, c.action())
}
