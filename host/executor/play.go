package executor

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// playRun is one batch of one play being run.
type playRun struct {
	x        *Executor
	pb       *playbook.Playbook
	play     *playbook.Play
	playID   string
	vars     map[string]any // play vars with vars_files merged in
	allHosts []*inventory.Host
	batch    []*inventory.Host
	// failedHere are hosts that failed during this batch; stopped hosts end the play without
	// counting as failed in the recap (any_errors_fatal, max_fail_percentage).
	failedHere map[string]bool
	stopped    bool
	handlers   []*handler
	// breakPlay is set when the play must end the playbook (all hosts failed,
	// any_errors_fatal, max_fail_percentage).
	breakPlay bool
	ended     map[string]bool // meta: end_host
}

// handler is a handler task and the hosts notified to run it.
type handler struct {
	task     *compiled
	notified map[string]bool
}

// runPlay runs play in its serial batches. It returns the exit code so far and whether the
// playbook must stop.
func (x *Executor) runPlay(ctx context.Context, pb *playbook.Playbook, play *playbook.Play) (int, bool, error) {
	vars, err := x.playVars(play)
	if err != nil {
		return RCError, true, err
	}
	pattern, err := x.tmpl.Render(play.Hosts, x.patternVars(vars))
	if err != nil {
		return RCError, true, fmt.Errorf("%s: play hosts: %w", play.Pos, err)
	}
	hosts, err := x.cfg.Inventory.Select(fmt.Sprint(pattern))
	if err != nil {
		return RCError, true, fmt.Errorf("%s: %w", play.Pos, err)
	}
	hosts = slices.DeleteFunc(hosts, func(h *inventory.Host) bool { return x.unreachable[h.Name] })
	playID := play.UUID
	if len(hosts) == 0 {
		x.emit(&event.Event{UUID: playID, ParentUUID: x.playbookID, Event: event.PlaybookOnPlayStart, Data: playData(pb, play)})
		x.emit(&event.Event{ParentUUID: playID, Event: event.PlaybookOnNoHostsMatched, Data: playData(pb, play)})
		return x.resultRC(), false, nil
	}
	batches, err := x.batches(play, hosts, vars)
	if err != nil {
		return RCError, true, err
	}
	rc := RCOK
	for _, batch := range batches {
		r := &playRun{x: x, pb: pb, play: play, playID: playID, vars: vars, allHosts: hosts, batch: batch,
			failedHere: map[string]bool{}, ended: map[string]bool{}}
		before := len(x.failed) + len(x.unreachable)
		if err := r.run(ctx); err != nil {
			return RCError, true, err
		}
		rc = x.resultRC()
		if r.breakPlay && rc == RCOK {
			rc = RCFailed
		}
		if ctx.Err() != nil {
			return rc, true, nil
		}
		if r.breakPlay || len(x.failed)+len(x.unreachable)-before+len(r.stoppedHosts()) >= len(batch) {
			return rc, true, nil
		}
	}
	return rc, false, nil
}

// stoppedHosts are hosts of the batch that any_errors_fatal or max_fail_percentage stopped
// without failing them.
func (r *playRun) stoppedHosts() []string {
	if !r.stopped {
		return nil
	}
	var out []string
	for _, h := range r.batch {
		if !r.x.failed[h.Name] && !r.x.unreachable[h.Name] {
			out = append(out, h.Name)
		}
	}
	return out
}

func playData(pb *playbook.Playbook, play *playbook.Play) event.Data {
	return event.Data{Playbook: pb.Path, Play: play.Name, PlayPattern: play.Hosts}
}

// playVars merges the play's vars and its vars_files, in that order.
func (x *Executor) playVars(play *playbook.Play) (map[string]any, error) {
	vars := map[string]any{}
	for k, v := range play.Vars {
		vars[k] = v
	}
	for _, f := range play.VarsFiles {
		name, err := x.tmpl.Render(f, x.patternVars(vars))
		if err != nil {
			return nil, fmt.Errorf("%s: vars_files: %w", play.Pos, err)
		}
		path := fmt.Sprint(name)
		if !filepath.IsAbs(path) {
			path = filepath.Join(play.Dir, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: vars_files: %w", play.Pos, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s: vars_files %s: %w", play.Pos, path, err)
		}
		for k, v := range m {
			vars[k] = v
		}
	}
	return vars, nil
}

// patternVars are the variables a play's own keywords (hosts, vars_files, serial) see: no host
// yet, so the play vars, extra vars and the inventory's groups.
func (x *Executor) patternVars(playVars map[string]any) map[string]any {
	v := map[string]any{"groups": x.cfg.Inventory.GroupsVar(), "omit": x.omit}
	for k, val := range playVars {
		v[k] = val
	}
	for k, val := range x.cfg.ExtraVars {
		v[k] = val
	}
	return v
}

// batches splits hosts as the play's serial keyword says (Ansible's _get_serialized_batches).
func (x *Executor) batches(play *playbook.Play, hosts []*inventory.Host, vars map[string]any) ([][]*inventory.Host, error) {
	serial := play.Serial
	if len(serial) == 0 {
		return [][]*inventory.Host{hosts}, nil
	}
	var out [][]*inventory.Host
	rest := hosts
	for i := 0; len(rest) > 0; i++ {
		raw, err := x.tmpl.Render(serial[min(i, len(serial)-1)], x.patternVars(vars))
		if err != nil {
			return nil, fmt.Errorf("%s: serial: %w", play.Pos, err)
		}
		if raw == x.omit {
			raw = 0 // default(omit): no serial
		}
		n, err := batchSize(raw, len(hosts))
		if err != nil {
			return nil, fmt.Errorf("%s: serial: %w", play.Pos, err)
		}
		if n <= 0 || n >= len(rest) {
			out = append(out, rest)
			break
		}
		out = append(out, rest[:n])
		rest = rest[n:]
	}
	return out, nil
}

// batchSize reads one serial value: a count or a percentage of all hosts (at least 1).
func batchSize(v any, total int) (int, error) {
	s := strings.TrimSpace(fmt.Sprint(v))
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(pct, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid percentage %q", s)
		}
		return max(1, int(math.Floor(f/100*float64(total)))), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("invalid batch size %q", s)
	}
	return n, nil
}

// run runs one batch: facts, pre_tasks, tasks, post_tasks, with handlers flushed after each
// section, as Ansible does.
func (r *playRun) run(ctx context.Context) error {
	x := r.x
	x.emit(&event.Event{UUID: r.playID, ParentUUID: x.playbookID, Event: event.PlaybookOnPlayStart, Data: playData(r.pb, r.play)})
	top := r.playScope()
	for _, t := range leaves(compileAll(r.play.Handlers, top, true)) {
		r.handlers = append(r.handlers, &handler{task: t, notified: map[string]bool{}})
	}
	gather := true
	if r.play.GatherFacts != nil {
		g, err := template.Bool(r.play.GatherFacts)
		if err != nil {
			return fmt.Errorf("%s: gather_facts: %w", r.play.Pos, err)
		}
		gather = g
	}
	if gather {
		if _, err := r.runList(ctx, []*compiled{gatherTask(r.play, top)}, r.active(r.batch), false); err != nil {
			return err
		}
	}
	strategy, err := r.strategy()
	if err != nil {
		return err
	}
	force, err := r.forceHandlers()
	if err != nil {
		return err
	}
	for i, section := range [][]*playbook.Task{r.play.PreTasks, r.play.Tasks, r.play.PostTasks} {
		if ctx.Err() != nil || r.stopped {
			return nil
		}
		if err := r.runSection(ctx, compileAll(section, top, false), strategy); err != nil {
			return err
		}
		// force_handlers wraps pre_tasks and tasks in a block whose always flushes handlers,
		// so hosts that failed there still run theirs (Ansible's Play.compile).
		if err := r.flushHandlers(ctx, force && i < 2); err != nil {
			return err
		}
	}
	return nil
}

// leaves flattens blocks (handlers written in blocks or imported) into their tasks.
func leaves(cs []*compiled) []*compiled {
	var out []*compiled
	for _, c := range cs {
		if c.task.IsBlock() {
			out = append(out, leaves(c.block)...)
			out = append(out, leaves(c.rescue)...)
			out = append(out, leaves(c.always)...)
		} else {
			out = append(out, c)
		}
	}
	return out
}

// active returns the hosts of hosts that may still run tasks in this batch.
func (r *playRun) active(hosts []*inventory.Host) []*inventory.Host {
	if r.stopped {
		return nil
	}
	out := make([]*inventory.Host, 0, len(hosts))
	for _, h := range hosts {
		if !r.x.failed[h.Name] && !r.x.unreachable[h.Name] && !r.ended[h.Name] {
			out = append(out, h)
		}
	}
	return out
}

// flushHandlers runs every notified handler, in the order the play lists them, for the hosts
// that notified it and are still active; with failed, also for those that failed (which stay
// failed).
func (r *playRun) flushHandlers(ctx context.Context, failed bool) error {
	for _, h := range r.handlers {
		if ctx.Err() != nil || r.stopped {
			return nil
		}
		var hosts, revived []*inventory.Host
		for _, host := range r.batch {
			switch {
			case !h.notified[host.Name] || r.x.unreachable[host.Name] || r.ended[host.Name]:
			case !r.x.failed[host.Name]:
				hosts = append(hosts, host)
			case failed:
				hosts = append(hosts, host)
				revived = append(revived, host)
			}
		}
		if len(hosts) == 0 {
			continue
		}
		for _, host := range hosts {
			delete(h.notified, host.Name)
		}
		for _, host := range revived {
			delete(r.x.failed, host.Name)
		}
		_, err := r.runList(ctx, []*compiled{h.task}, hosts, false)
		for _, host := range revived {
			if !r.x.unreachable[host.Name] {
				r.x.failed[host.Name] = true
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// notify records that host notified the handlers named name (by name or listen topic), and
// emits playbook_on_notify for each newly notified one.
func (r *playRun) notify(name, host string) {
	found := false
	for _, h := range r.handlers {
		if h.task.task.Name != name && !slices.Contains(h.task.task.Listen, name) {
			continue
		}
		found = true
		if h.notified[host] {
			continue
		}
		h.notified[host] = true
		r.x.emit(&event.Event{ParentUUID: h.task.task.UUID, Event: event.PlaybookOnNotify,
			Data: event.Data{Host: host, Handler: h.task.task.Name, Task: h.task.info}})
	}
	if !found {
		r.x.cfg.Warn(fmt.Sprintf("The requested handler '%s' was not found in either the main handlers list nor in the listening handlers list", name))
	}
}
