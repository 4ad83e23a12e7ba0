package executor

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/module"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// runList runs tasks (and blocks) in order on hosts. rescuable says that a failure here is
// handled by an enclosing block's rescue section.
func (r *playRun) runList(ctx context.Context, tasks []*compiled, hosts []*inventory.Host, rescuable bool) (bool, error) {
	for _, c := range tasks {
		hosts = r.active(hosts)
		if len(hosts) == 0 || ctx.Err() != nil {
			return false, nil
		}
		var err error
		if c.task.IsBlock() {
			err = r.runBlock(ctx, c, hosts, rescuable)
		} else if Selected(c.tags, r.x.cfg.Tags, r.x.cfg.SkipTags) {
			err = r.runTask(ctx, c, hosts, rescuable)
		}
		if err != nil {
			return false, err
		}
	}
	return true, nil
}

// runBlock runs a block's tasks, then its rescue section for the hosts that failed in them,
// then its always section for every host that entered the block.
func (r *playRun) runBlock(ctx context.Context, c *compiled, hosts []*inventory.Host, rescuable bool) error {
	x := r.x
	if _, err := r.runList(ctx, c.block, hosts, rescuable || len(c.rescue) > 0); err != nil {
		return err
	}
	failedIn := func(hs []*inventory.Host) []*inventory.Host {
		var out []*inventory.Host
		for _, h := range hs {
			if x.failed[h.Name] && !x.unreachable[h.Name] {
				out = append(out, h)
			}
		}
		return out
	}
	failed := failedIn(hosts)
	if len(c.rescue) > 0 && len(failed) > 0 && !r.stopped {
		for _, h := range failed {
			delete(x.failed, h.Name)
			delete(r.failedHere, h.Name)
		}
		if _, err := r.runList(ctx, c.rescue, failed, rescuable); err != nil {
			return err
		}
		failed = failedIn(failed)
	}
	if len(c.always) > 0 && !r.stopped {
		for _, h := range failed {
			delete(x.failed, h.Name)
		}
		_, err := r.runList(ctx, c.always, hosts, rescuable)
		for _, h := range failed {
			if !x.unreachable[h.Name] {
				x.failed[h.Name] = true
			}
		}
		return err
	}
	return nil
}

// runTask runs one task on hosts, at most Forks at a time, then applies what it left behind.
func (r *playRun) runTask(ctx context.Context, c *compiled, hosts []*inventory.Host, rescuable bool) error {
	x := r.x
	if c.action() == "meta" {
		return r.runMeta(ctx, c, hosts)
	}
	first := r.hostVars(hosts[0], c)
	info := *c.info
	if name, err := x.tmpl.RenderString(c.task.Name, first); err == nil {
		info.Name = name
	}
	if b, err := template.Bool(orFalse(c.noLog)); err == nil && b {
		info.Args = nil
	}
	startType := event.PlaybookOnTaskStart
	if c.task.Handler {
		startType = event.PlaybookOnHandlerTaskStart
	}
	x.emit(&event.Event{UUID: c.task.UUID, ParentUUID: r.playID, Event: startType,
		Data: event.Data{Playbook: r.pb.Path, Play: r.play.Name, Task: &info, IsConditional: len(c.when) > 0}})

	spec, _ := module.Lookup(c.action())
	runOnce := spec.RunOnce
	if c.runOnce != nil && !runOnce {
		v, err := x.tmpl.Render(c.runOnce, first)
		if err == nil {
			runOnce, _ = template.Bool(v)
		}
	}
	targets := hosts
	if runOnce {
		targets = hosts[:1]
	}
	outs := make([]*outcome, len(targets))
	sem := make(chan struct{}, x.cfg.Forks)
	var wg sync.WaitGroup
	for i, h := range targets {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			vars := first
			if i > 0 {
				vars = r.hostVars(h, c)
			}
			outs[i] = r.runOnHost(ctx, c, &info, h, vars, rescuable)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}

	// Apply, in host order: nothing else runs now.
	fatal := false
	var includes []*outcome
	for _, o := range outs {
		applyTo := []*inventory.Host{o.host}
		if runOnce {
			applyTo = hosts
		}
		for _, h := range applyTo {
			r.apply(c, o, h)
		}
		switch o.status {
		case statusFailed:
			if o.ignored {
				break
			}
			if runOnce {
				for _, h := range hosts {
					r.fail(h, c, o)
				}
			} else {
				r.fail(o.host, c, o)
			}
			if !rescuable && r.flag(c.anyErrorsFatal, o.vars) {
				fatal = true
			}
		case statusUnreachable:
			if o.ignored {
				break
			}
			x.unreachable[o.host.Name] = true
			if r.flag(c.anyErrorsFatal, o.vars) {
				fatal = true
			}
		case statusOK:
			if len(o.includes) > 0 {
				includes = append(includes, o)
			}
		}
	}
	if fatal {
		r.stop()
		return nil
	}
	if err := r.checkMaxFail(hosts); err != nil || r.stopped {
		return err
	}
	return r.runIncludes(ctx, c, includes, rescuable)
}

// fail marks h failed by task c.
func (r *playRun) fail(h *inventory.Host, c *compiled, o *outcome) {
	r.x.failed[h.Name] = true
	r.failedHere[h.Name] = true
	hs := r.x.host(h)
	hs.setFacts["ansible_failed_task"] = map[string]any{"name": c.info.Name, "action": c.info.Action}
	hs.setFacts["ansible_failed_result"] = template.Unsafe(cleanResult(o.result))
	hs.hostvars = nil
}

// stop ends the play for every host (any_errors_fatal, max_fail_percentage); the playbook
// ends with it.
func (r *playRun) stop() {
	r.stopped = true
	r.breakPlay = true
	r.x.emit(&event.Event{ParentUUID: r.playID, Event: event.PlaybookOnNoHostsRemaining, Data: playData(r.pb, r.play)})
}

// checkMaxFail applies the play's max_fail_percentage after a task.
func (r *playRun) checkMaxFail(hosts []*inventory.Host) error {
	if r.play.MaxFailPercentage == nil {
		return nil
	}
	v, err := r.x.tmpl.Render(r.play.MaxFailPercentage, r.x.patternVars(r.vars))
	if err != nil {
		return fmt.Errorf("%s: max_fail_percentage: %w", r.play.Pos, err)
	}
	pct, err := toFloat(v)
	if err != nil {
		return fmt.Errorf("%s: max_fail_percentage: %w", r.play.Pos, err)
	}
	if float64(len(r.failedHere))/float64(len(r.batch)) > pct/100 {
		for _, h := range hosts {
			r.x.failed[h.Name] = true
		}
		r.stop()
	}
	return nil
}

// flag evaluates a boolean keyword (any_errors_fatal, ignore_errors, ...) with vars.
func (r *playRun) flag(v any, vars map[string]any) bool {
	if v == nil {
		return false
	}
	rendered, err := r.x.tmpl.Render(v, vars)
	if err != nil {
		return false
	}
	b, _ := template.Bool(rendered)
	return b
}

func orFalse(v any) any {
	if v == nil {
		return false
	}
	return v
}

// apply records what outcome o of task c leaves on host h: registered result, facts,
// notifications.
func (r *playRun) apply(c *compiled, o *outcome, h *inventory.Host) {
	hs := r.x.host(h)
	changedState := false
	if reg := c.task.Register; reg != "" && o.result != nil {
		// Module output is data, never a template (Ansible's unsafe marking).
		hs.setFacts[reg] = template.Unsafe(cleanResult(o.result))
		changedState = true
	}
	for _, res := range o.itemResults() {
		if f, ok := res["ansible_facts"].(map[string]any); ok && o.status == statusOK {
			switch c.action() {
			case "set_fact":
				for k, v := range f {
					if template.IsUnsafe(c.task.Args[k]) {
						v = template.Unsafe(v) // !unsafe stays data in the fact
					}
					hs.setFacts[k] = v
				}
			case "debug":
			default:
				for k, v := range f {
					name := k
					if len(k) > 8 && k[:8] == "ansible_" {
						name = k[8:]
					}
					hs.facts[name] = template.Unsafe(v)
				}
			}
			changedState = true
		}
	}
	if changedState {
		hs.hostvars = nil
	}
	if h == o.host && o.status == statusOK {
		for _, res := range o.itemResults() {
			if changed, _ := res["changed"].(bool); changed {
				for _, n := range c.task.Notify {
					r.notify(n, h.Name)
				}
			}
		}
	}
}

// runMeta runs a meta task, which acts on the play rather than on hosts.
func (r *playRun) runMeta(ctx context.Context, c *compiled, hosts []*inventory.Host) error {
	what, _ := c.task.Args["_raw_params"].(string)
	switch what {
	case "flush_handlers":
		return r.flushHandlers(ctx, false)
	case "noop":
	case "end_play":
		r.stopped = true
	case "end_host":
		for _, h := range hosts {
			if ok, err := r.x.tmpl.Cond(c.when, r.hostVars(h, c)); err == nil && ok {
				r.ended[h.Name] = true
			}
		}
	case "clear_host_errors":
		for _, h := range r.allHosts {
			delete(r.x.failed, h.Name)
			delete(r.failedHere, h.Name)
		}
	default:
		return fmt.Errorf("%s: meta %q is not supported", c.task.Pos, what)
	}
	return nil
}

// runIncludes runs the tasks that include_tasks brought in: every host with the same file and
// parameters runs them together, in the order the includes came.
func (r *playRun) runIncludes(ctx context.Context, c *compiled, outs []*outcome, rescuable bool) error {
	type group struct {
		inc   include
		hosts []*inventory.Host
	}
	var groups []*group
	for _, o := range outs {
		for _, inc := range o.includes {
			var g *group
			for _, cand := range groups {
				if cand.inc.equal(inc) {
					g = cand
					break
				}
			}
			if g == nil {
				g = &group{inc: inc}
				groups = append(groups, g)
			}
			g.hosts = append(g.hosts, o.host)
		}
	}
	// As Ansible's linear strategy, every included file is loaded and announced before any of
	// their tasks runs.
	loaded := make([][]*playbook.Task, len(groups))
	announced := make([]bool, len(groups))
	for i, g := range groups {
		hosts := r.active(g.hosts)
		if len(hosts) == 0 {
			continue
		}
		tasks, err := playbook.LoadTasks(g.inc.path)
		if err != nil {
			return err
		}
		loaded[i], announced[i] = tasks, true
		for _, h := range hosts {
			r.x.emit(&event.Event{ParentUUID: c.task.UUID, Event: event.PlaybookOnInclude,
				Data: event.Data{Playbook: r.pb.Path, Play: r.play.Name, Host: h.Name, Task: c.info, Included: absPath(g.inc.path), Result: g.inc.label}})
		}
	}
	for i, g := range groups {
		hosts := r.active(g.hosts)
		if !announced[i] || len(hosts) == 0 {
			continue
		}
		s := c.scope
		s.when, s.tags = c.scope.when[:len(c.scope.when)-len(c.task.When)], nil
		s.includeVars = g.inc.vars
		tasks := playbook.ApplyBlock(c.task.Apply, loaded[i])
		if _, err := r.runList(ctx, compileAll(tasks, s, c.task.Handler), hosts, rescuable); err != nil {
			return err
		}
	}
	return nil
}

// include is one file an include_tasks brought in for a host, with its parameters.
type include struct {
	path  string
	vars  map[string]any
	label map[string]any // the loop item, for the display
}

func (a include) equal(b include) bool {
	return a.path == b.path && fmt.Sprint(a.vars) == fmt.Sprint(b.vars)
}

// includePath resolves an included file name: relative to the including file's directory,
// then to the play's.
func (r *playRun) includePath(c *compiled, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	for _, dir := range r.searchPaths(c) {
		p := filepath.Join(dir, name)
		if fileExists(p) {
			return p
		}
		if p := filepath.Join(dir, "tasks", name); fileExists(p) {
			return p
		}
	}
	return filepath.Join(filepath.Dir(c.task.Pos.File), name)
}

func (r *playRun) searchPaths(c *compiled) []string {
	dirs := []string{filepath.Dir(c.task.Pos.File)}
	if r.play.Dir != dirs[0] {
		dirs = append(dirs, r.play.Dir)
	}
	return dirs
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (o *outcome) itemResults() []map[string]any {
	if items, ok := o.result["results"].([]any); ok && o.looped {
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return []map[string]any{o.result}
}

// absPath is path made absolute, as Ansible names included files in its events; path itself if
// that fails.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
