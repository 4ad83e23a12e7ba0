package executor

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
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
			if c.task.Role != nil {
				r.roleComplete(c.task.Role, hosts)
			}
		} else if hosts := r.notRun(c, hosts); len(hosts) > 0 && (c.task.Handler || // handlers run whatever the tags
			Selected(c.tags, r.x.cfg.Tags, r.x.cfg.SkipTags)) && r.x.runs(c) {
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
	err := r.unshielding(hosts, func() error {
		_, err := r.runList(ctx, c.block, hosts, rescuable || len(c.rescue) > 0)
		return err
	})
	if err != nil {
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
		// The hosts that did not fail wait for always, where any_errors_fatal lets them be.
		shielded := failed
		if len(c.always) > 0 {
			shielded = hosts
		}
		err := r.shielding(shielded, func() error {
			_, err := r.runList(ctx, c.rescue, failed, rescuable)
			return err
		})
		if err != nil {
			return err
		}
		failed = failedIn(failed)
	}
	if len(c.always) > 0 && !r.stopped {
		for _, h := range failed {
			delete(x.failed, h.Name)
			delete(r.cleared, h.Name)
		}
		err := r.shielding(hosts, func() error {
			_, err := r.runList(ctx, c.always, hosts, rescuable)
			return err
		})
		for _, h := range failed {
			if !x.unreachable[h.Name] && !r.cleared[h.Name] {
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
		info.Name = c.displayName(name)
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
	// While the task runs on its hosts nothing changes what hosts see of each other (results
	// are applied below): the shared magic variables are built once.
	r.shared = r.sharedMagic()
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
	r.shared = nil
	if ctx.Err() != nil {
		return nil
	}

	// Apply, in host order: nothing else runs now.
	fatal := false
	var includes []*outcome
	for _, o := range outs {
		ranOn, applyTo := []*inventory.Host{o.host}, []*inventory.Host{o.host}
		if runOnce {
			// As Ansible's get_task_hosts: a run_once task's registered result and facts go to
			// every reachable host of the batch, also those that did not reach the task (failed
			// ones, those a run_once include left out).
			ranOn, applyTo = hosts, r.reachableBatch()
		}
		for _, h := range applyTo {
			if err := r.apply(c, o, h); err != nil {
				return err
			}
		}
		if role := c.role(); role != nil && (o.status == statusOK || o.status == statusFailed) {
			for _, h := range ranOn {
				r.x.roleState(role).ran[h.Name] = true
			}
		}
		switch o.status {
		case statusFailed:
			if o.ignored {
				break
			}
			if runOnce {
				for _, h := range hosts {
					r.fail(h, c, o, rescuable)
				}
			} else {
				r.fail(o.host, c, o, rescuable)
			}
			if !rescuable && r.fatal(c, o, runOnce) {
				fatal = true
			}
		case statusUnreachable:
			if !o.ignored {
				x.unreachable[o.host.Name] = true
			}
			if r.fatal(c, o, runOnce) {
				fatal = true
			}
		case statusOK:
			if len(o.includes) > 0 {
				includes = append(includes, o)
			}
		}
	}
	if fatal {
		r.haltFatal()
	}
	if err := r.checkMaxFail(hosts); err != nil || r.stopped {
		return err
	}
	return r.runIncludes(ctx, c, includes, rescuable)
}

// fail marks h failed by task c. When a rescue will run (rescuable), the failed task and
// result are kept for it in ansible_failed_task and ansible_failed_result, as in Ansible; the
// task's name is its name keyword, templated, without the role's prefix (Task.serialize).
func (r *playRun) fail(h *inventory.Host, c *compiled, o *outcome, rescuable bool) {
	r.x.failed[h.Name] = true
	r.failedHere[h.Name] = true
	if !rescuable {
		return
	}
	hs := r.x.host(h)
	name, err := r.x.tmpl.RenderString(c.task.Name, o.vars)
	if err != nil {
		name = c.task.Name
	}
	hs.setFacts["ansible_failed_task"] = map[string]any{"name": name, "action": c.info.Action}
	hs.setFacts["ansible_failed_result"] = template.Unsafe(cleanResult(o.result))
	hs.hostvars = nil
}

// stop ends the batch for every host (max_fail_percentage); the playbook ends after the play.
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

// mode evaluates a check_mode or diff keyword with vars; def (the command line's flag) when it
// is not set.
func (r *playRun) mode(v any, def bool, vars map[string]any) bool {
	if v == nil {
		return def
	}
	return r.flag(v, vars)
}

func orFalse(v any) any {
	if v == nil {
		return false
	}
	return v
}

// apply records what outcome o of task c leaves on host h: registered result, facts,
// notifications.
// reachableBatch is the hosts of the batch that are not unreachable.
func (r *playRun) reachableBatch() []*inventory.Host {
	var out []*inventory.Host
	for _, h := range r.batch {
		if !r.x.unreachable[h.Name] {
			out = append(out, h)
		}
	}
	return out
}

func (r *playRun) apply(c *compiled, o *outcome, h *inventory.Host) error {
	hs := r.x.host(h)
	changedState := false
	if reg := c.task.Register; reg != "" && o.result != nil {
		// Module output is data, never a template (Ansible's unsafe marking).
		res := cleanResult(o.result)
		delete(res, "invocation") // as Ansible's strategy registers a result
		hs.setFacts[reg] = template.Unsafe(res)
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
				if res["_ansible_facts_cacheable"] == true {
					r.keepFacts(hs, f)
				}
			case "include_vars":
				maps.Copy(hs.included, f)
			case "debug":
			default:
				r.keepFacts(hs, f)
			}
			changedState = true
		}
	}
	if changedState {
		hs.hostvars = nil
	}
	if h == o.host && o.status == statusOK {
		for _, res := range o.itemResults() {
			if err := r.changeInventory(res, h, false); err != nil {
				r.x.cfg.Warn(fmt.Sprintf("%s: %v", c.task.Pos, err))
			}
		}
		for _, res := range o.itemResults() {
			if changed, _ := res["changed"].(bool); changed {
				for _, n := range c.notify {
					if err := r.notify(n, h.Name); err != nil {
						return fmt.Errorf("%s: %w", c.task.Pos, err)
					}
				}
			}
		}
	}
	return nil
}

// keepFacts stores facts as the host's (ansible_facts), without their ansible_ prefix, as
// Ansible's namespace_facts; a fact that came without the prefix (getent_passwd) is a variable
// under its own name, not ansible_NAME (bareFacts).
func (r *playRun) keepFacts(hs *hostState, facts map[string]any) {
	for k, v := range facts {
		name, prefixed := strings.CutPrefix(k, "ansible_")
		if !prefixed || name == "" {
			name, prefixed = k, false
		}
		hs.facts[name] = template.Unsafe(v)
		if prefixed {
			delete(hs.bareFacts, name)
		} else {
			if hs.bareFacts == nil {
				hs.bareFacts = map[string]bool{}
			}
			hs.bareFacts[name] = true
		}
	}
}

// runMeta runs a meta task, which acts on the play rather than on hosts.
func (r *playRun) runMeta(ctx context.Context, c *compiled, hosts []*inventory.Host) error {
	what, _ := c.task.Args["_raw_params"].(string)
	// As Ansible's linear strategy: flush_handlers and end_host act for each host whose when
	// holds; end_play, end_batch, clear_facts and clear_host_errors act once, if their when
	// holds on the first host; noop, refresh_inventory and reset_connection have no when.
	// Each time one acts or is skipped, it is announced (metaRan).
	holds := func(h *inventory.Host) bool {
		ok, err := r.x.tmpl.Cond(c.when, r.hostVars(h, c))
		return err == nil && ok
	}
	switch what {
	case "noop", "refresh_inventory", "reset_connection":
		if len(c.when) > 0 {
			r.x.cfg.Warn(what + " task does not support when conditional")
		}
	}
	switch what {
	case "flush_handlers":
		var flush []*inventory.Host
		for _, h := range hosts {
			if holds(h) {
				flush = append(flush, h)
				r.metaRan(c, h, "triggered running handlers for "+h.Name, "")
			} else {
				r.metaRan(c, h, what, "flush_handlers conditional evaluated to False, not running handlers for "+h.Name)
			}
		}
		return r.flushHandlers(ctx, flush, false)
	case "noop":
		for _, h := range hosts {
			r.metaRan(c, h, "noop", "")
		}
	case "end_play":
		if !holds(hosts[0]) {
			r.metaRan(c, hosts[0], what, "end_play conditional evaluated to False, continuing play")
			break
		}
		r.metaRan(c, hosts[0], "ending play", "")
		r.stopped, r.endPlay = true, true
	case "end_batch":
		if !holds(hosts[0]) {
			r.metaRan(c, hosts[0], what, "end_batch conditional evaluated to False, continuing current batch")
			break
		}
		r.metaRan(c, hosts[0], "ending batch", "")
		r.stopped, r.endBatch = true, true
	case "end_host":
		for _, h := range hosts {
			if !holds(h) {
				r.metaRan(c, h, "end_host conditional evaluated to false, continuing execution for "+h.Name,
					"end_host conditional evaluated to False, continuing execution for "+h.Name)
				continue
			}
			r.metaRan(c, h, "ending play for "+h.Name, "")
			r.ended[h.Name] = true
		}
	case "clear_facts":
		// As Ansible's: gathered and cacheable facts of every host of the play; set_fact's
		// others stay.
		if !holds(hosts[0]) {
			r.metaRan(c, hosts[0], what, "clear_facts conditional evaluated to False, not clearing facts and fact cache for "+hosts[0].Name)
			break
		}
		r.metaRan(c, hosts[0], "facts cleared", "")
		for _, h := range r.allHosts {
			if hs := r.x.hosts[h.Name]; hs != nil {
				hs.facts, hs.bareFacts, hs.hostvars = map[string]any{}, nil, nil
			}
		}
	case "reset_connection":
		for _, h := range hosts {
			r.x.conns.reset(h.Name)
			r.metaRan(c, h, "reset connection", "")
		}
	case "refresh_inventory":
		if r.x.cfg.RefreshInventory == nil {
			return fmt.Errorf("%s: meta %q is not supported here", c.task.Pos, what)
		}
		if err := r.x.refreshInventory(); err != nil {
			return fmt.Errorf("%s: refresh_inventory: %w", c.task.Pos, err)
		}
		// As Ansible's _set_hosts_cache: ansible_play_hosts(_all) are selected again; the
		// batch running the play stays.
		all, err := r.x.cfg.Inventory.Select(r.pattern)
		if err != nil {
			return fmt.Errorf("%s: refresh_inventory: %w", c.task.Pos, err)
		}
		r.allHosts = all
		r.metaRan(c, hosts[0], "inventory successfully refreshed", "")
	case "clear_host_errors":
		if !holds(hosts[0]) {
			r.metaRan(c, hosts[0], what, "clear_host_errors conditional evaluated to False, not clearing host error state for "+hosts[0].Name)
			break
		}
		r.metaRan(c, hosts[0], "cleared host errors", "")
		for _, h := range r.allHosts {
			delete(r.x.failed, h.Name)
			delete(r.failedHere, h.Name)
			r.cleared[h.Name] = true
		}
	default:
		return fmt.Errorf("%s: meta %q is not supported", c.task.Pos, what)
	}
	return nil
}

// metaRan reports a meta task run for host h as Ansible's _execute_meta does: the task's start
// (each time, so a meta run for each host has a banner for each), at -vv the line
// "META: <msg>" (or the skip reason), and a skipped result when skipReason is set. The
// flushes that end a play's sections are not meta tasks here, so report nothing, as Ansible's
// implicit ones.
func (r *playRun) metaRan(c *compiled, h *inventory.Host, msg, skipReason string) {
	startType := event.PlaybookOnTaskStart
	if c.task.Handler {
		startType = event.PlaybookOnHandlerTaskStart
	}
	r.x.emit(&event.Event{UUID: c.task.UUID, ParentUUID: r.playID, Event: startType,
		Data: event.Data{Playbook: r.pb.Path, Play: r.play.Name, Task: c.info}})
	if r.x.cfg.Verbosity >= 2 {
		line := msg
		if skipReason != "" {
			line = skipReason
		}
		r.x.emit(&event.Event{ParentUUID: c.task.UUID, Event: event.RunnerVerbose,
			Data: event.Data{Playbook: r.pb.Path, Play: r.play.Name, Task: c.info, Result: map[string]any{"msg": "META: " + line, "verbosity": 2}}})
	}
	if skipReason != "" {
		r.x.emit(&event.Event{ParentUUID: c.task.UUID, Event: event.RunnerOnSkipped,
			Data: event.Data{Playbook: r.pb.Path, Play: r.play.Name, Host: h.Name, Task: c.info,
				Result: map[string]any{"msg": msg, "skipped": true, "skip_reason": skipReason}}})
	}
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
		if g.inc.role != nil {
			tasks, err := r.loadRole(c, g.inc)
			if err != nil {
				return err
			}
			loaded[i], announced[i] = tasks, true
			continue
		}
		tasks, err := r.play.LoadTasks(g.inc.path)
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
		s := c.includedScope(g.inc)
		tasks := loaded[i]
		if g.inc.role == nil { // loadRole has applied apply to a role
			r.addImportedRoles(tasks, s)
			tasks = playbook.ApplyBlock(c.task.Apply, tasks)
		}
		if _, err := r.runList(ctx, compileAll(tasks, s, c.task.Handler), hosts, rescuable); err != nil {
			return err
		}
	}
	return nil
}

// include is one file an include_tasks, or one role an include_role, brought in for a host,
// with its parameters.
type include struct {
	path   string
	role   *playbook.RoleSpec
	public bool
	vars   map[string]any
	label  map[string]any // the loop item, for the display
}

func (a include) equal(b include) bool {
	return a.path == b.path && a.role.Key() == b.role.Key() && a.public == b.public && fmt.Sprint(a.vars) == fmt.Sprint(b.vars)
}

// includedScope is the scope of what include task c brings in: the include's own keywords
// (when, tags, become, run_once, ignore_errors...) are not inherited, as Ansible's
// _get_parent_attribute skips a parent that is not static; its vars and parameters are, and
// its parents' keywords (use apply to give the included tasks keywords).
func (c *compiled) includedScope(inc include) scope {
	s := *c.outer
	if len(c.task.Vars) > 0 {
		s.vars = append(slices.Clip(s.vars), c.task.Vars)
	}
	s.includeVars = inc.vars
	return s
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

// searchPaths is the task's search path, Ansible's task.get_search_path and
// DataLoader.path_dwim_relative_stack: the paths of its roles, innermost first, the directory of
// its file, then the playbook's. Relative file names of modules (copy's src, ...) and lookups
// are looked up there (the lookups read it as the ansible_search_path variable).
func (r *playRun) searchPaths(c *compiled) []string {
	var dirs []string
	for i := len(c.roles) - 1; i >= 0; i-- {
		dirs = append(dirs, absPath(c.roles[i].Path))
	}
	for _, d := range []string{absPath(filepath.Dir(c.task.Pos.File)), absPath(r.play.Dir)} {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
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
