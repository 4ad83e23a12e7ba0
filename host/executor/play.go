package executor

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// playRun is one batch of one play being run.
type playRun struct {
	x      *Executor
	pb     *playbook.Playbook
	play   *playbook.Play
	playID string
	vars   map[string]any // play vars with vars_files merged in
	// playRoles are the roles whose variables the whole play sees; include_role with public
	// adds to them, for every later batch too.
	playRoles []*playbook.Role
	// allHosts are the hosts that pattern (the play's hosts, rendered) selects: at the play's
	// start, and again after meta: refresh_inventory.
	allHosts []*inventory.Host
	pattern  string
	batch    []*inventory.Host
	// failedHere are hosts that failed during this batch.
	failedHere map[string]bool
	// stopped ends the batch for every host (meta: end_play, max_fail_percentage);
	// endPlay says it was end_play, which ends the play's later batches too; endBatch that it
	// was end_batch, after which the next batch runs.
	stopped, endPlay, endBatch bool
	// halted hosts are ones any_errors_fatal stopped without counting them failed in the
	// recap; shielded hosts are in a rescue or always section, which it lets finish.
	halted, shielded map[string]bool
	handlers         []*handler
	// breakPlay is set when the playbook must end after this play (any_errors_fatal,
	// max_fail_percentage).
	breakPlay bool
	ended     map[string]bool // meta: end_host
	cleared   map[string]bool // meta: clear_host_errors, for the always section that runs it
	// shared holds the magic variables every host sees alike while a task runs on its hosts,
	// when nothing changes them: built once a task, not once a host (each is as long as the
	// inventory).
	shared *sharedMagic
}

// handler is a handler task and the hosts notified to run it.
type handler struct {
	task     *compiled
	notified map[string]bool
	// block numbers the handlers section's blocks as Ansible groups it: each block or import
	// is one, and so is each run of plain handlers between them.
	block int
}

// runPlay runs play in its serial batches. It returns the exit code so far and whether the
// playbook must stop.
func (x *Executor) runPlay(ctx context.Context, pb *playbook.Playbook, play *playbook.Play) (int, bool, error) {
	vars, err := x.PlayVars(play)
	if err != nil {
		return RCError, true, err
	}
	if err := x.promptVars(play, vars); err != nil {
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
	// Batches are cut from every host of the play, unreachable ones included, as Ansible's.
	// As Ansible, order is the order tasks run the hosts in (ansible_play_batch), not that of
	// ansible_play_hosts_all.
	ordered, err := orderHosts(slices.Clone(hosts), play.Order)
	if err != nil {
		return RCError, true, fmt.Errorf("%s: %w", play.Pos, err)
	}
	playID := play.UUID
	if len(hosts) == 0 {
		x.emit(&event.Event{UUID: playID, ParentUUID: x.playbookID, Event: event.PlaybookOnPlayStart, Data: playData(pb, play)})
		x.emit(&event.Event{ParentUUID: playID, Event: event.PlaybookOnNoHostsMatched, Data: playData(pb, play)})
		return x.resultRC(), false, nil
	}
	if !x.StartReached() && !x.holdsStart(play) {
		x.emit(&event.Event{UUID: playID, ParentUUID: x.playbookID, Event: event.PlaybookOnPlayStart, Data: playData(pb, play)})
		return x.resultRC(), false, nil
	}
	batches, err := x.batches(play, ordered, vars)
	if err != nil {
		return RCError, true, err
	}
	// As Ansible's PlaybookExecutor: a batch that breaks the play (any_errors_fatal,
	// max_fail_percentage) lets the later batches run and ends the playbook after the play,
	// with exit code 2 whatever else happened; a batch in which every host failed ends it at
	// once; end_play ends the play, and the next play runs. The exit code is the last batch's.
	rc, breakPlay := RCOK, false
	playRoles := slices.Clone(play.Roles)
	for _, batch := range batches {
		r := &playRun{x: x, pb: pb, play: play, playID: playID, vars: vars, allHosts: hosts, pattern: fmt.Sprint(pattern), batch: batch,
			failedHere: map[string]bool{}, ended: map[string]bool{}, halted: map[string]bool{}, shielded: map[string]bool{}, cleared: map[string]bool{}, playRoles: playRoles}
		before := len(x.failed) + len(x.unreachable)
		if err := r.run(ctx); err != nil {
			return RCError, true, err
		}
		rc = x.resultRC()
		if r.breakPlay {
			rc, breakPlay = RCFailed, true
		}
		playRoles = r.playRoles
		if ctx.Err() != nil {
			return rc, true, nil
		}
		if r.endPlay {
			break
		}
		if len(x.failed)+len(x.unreachable)-before+len(r.stoppedHosts()) >= len(batch) {
			return rc, true, nil
		}
	}
	return rc, breakPlay, nil
}

// stoppedHosts are hosts of the batch that any_errors_fatal or max_fail_percentage stopped
// without failing them.
func (r *playRun) stoppedHosts() []string {
	var out []string
	for _, h := range r.batch {
		if (r.stopped && !r.endPlay && !r.endBatch || r.halted[h.Name]) && !r.x.failed[h.Name] && !r.x.unreachable[h.Name] {
			out = append(out, h.Name)
		}
	}
	return out
}

func playData(pb *playbook.Playbook, play *playbook.Play) event.Data {
	return event.Data{Playbook: pb.Path, Play: play.Name, PlayPattern: play.Hosts}
}

// PlayVars merges the play's vars and its vars_files, in that order, as the play sees them
// before any host does (--list-tasks renders tags with them).
func (x *Executor) PlayVars(play *playbook.Play) (map[string]any, error) {
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
		if _, err := os.Stat(path); err != nil {
			// Ansible's AnsibleFileNotFound, an error (1), not a parse error (4)
			return nil, fmt.Errorf("%s: vars file %s was not found: %w", play.Pos, name, err)
		}
		m, err := playbook.LoadVarsFile(path, playbook.Options{Vault: x.cfg.Vault})
		if err != nil {
			return nil, fmt.Errorf("%s: vars_files: %w", play.Pos, err)
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
	for _, b := range r.play.Handlers {
		if b.Role != nil {
			x.handlerRoles[b.Role] = true
		}
	}
	block := 0
	for i, c := range compileAll(r.play.Handlers, top, true) {
		if c.task.IsBlock() || i > 0 && r.play.Handlers[i-1].IsBlock() {
			block++
		}
		for _, t := range leaves([]*compiled{c}) {
			r.handlers = append(r.handlers, &handler{task: t, notified: map[string]bool{}, block: block})
		}
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
	tasks := append(slices.Clone(r.play.RoleBlocks), r.play.Tasks...)
	for i, section := range [][]*playbook.Task{r.play.PreTasks, tasks, r.play.PostTasks} {
		if ctx.Err() != nil || r.stopped {
			return nil
		}
		if err := r.runSection(ctx, compileAll(section, top, false), strategy); err != nil {
			return err
		}
		// force_handlers wraps pre_tasks and tasks in a block whose always flushes handlers,
		// so hosts that failed there still run theirs (Ansible's Play.compile).
		if err := r.flushHandlers(ctx, r.batch, force && i < 2); err != nil {
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
		if !r.x.failed[h.Name] && !r.x.unreachable[h.Name] && !r.ended[h.Name] && !r.halted[h.Name] {
			out = append(out, h)
		}
	}
	return out
}

// flushHandlers runs every notified handler, in the order the play lists them, for the hosts
// of "of" that notified it and are still active; with failed, also for those that failed
// (which stay failed).
func (r *playRun) flushHandlers(ctx context.Context, of []*inventory.Host, failed bool) error {
	for _, h := range r.handlers {
		if ctx.Err() != nil || r.stopped {
			return nil
		}
		var hosts, revived []*inventory.Host
		for _, host := range of {
			switch {
			case !h.notified[host.Name] || r.x.unreachable[host.Name] || r.ended[host.Name] || r.halted[host.Name]:
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

// notify records that host notified the handlers called name, and emits playbook_on_notify
// for each newly notified one. As Ansible's strategy, name picks one handler by its name or
// "role : name" (the first in the last block that has it) and every handler that listens to name; none is an
// error.
func (r *playRun) notify(name, host string) error {
	var byName *handler
	for _, h := range r.handlers {
		named := h.task.task.Name == name || h.task.task.Name != "" && h.task.displayName(h.task.task.Name) == name
		if named && (byName == nil || h.block > byName.block) {
			byName = h
		}
	}
	found := false
	instances := map[string]bool{} // of byName's role, by parameters
	if byName != nil && byName.task.role() != nil {
		instances[roleInstance(byName.task.role())] = true
	}
	for _, h := range r.handlers {
		if h != byName && !slices.Contains(h.task.task.Listen, name) && !sameRoleHandler(h, byName, instances) {
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
		return fmt.Errorf("The requested handler '%s' was not found in either the main handlers list nor in the listening handlers list", name)
	}
	return nil
}

// sameRoleHandler reports whether h is handler of in another instance of its role (the role
// listed again with other parameters), not yet in instances, which it adds h's to. As
// ansible-playbook, a notification reaches every instance of a role's handler.
func sameRoleHandler(h, of *handler, instances map[string]bool) bool {
	if of == nil || h.task.role() == nil || of.task.role() == nil ||
		h.task.role().Name != of.task.role().Name || h.task.task.Name != of.task.task.Name {
		return false
	}
	key := roleInstance(h.task.role())
	if instances[key] {
		return false
	}
	instances[key] = true
	return true
}

// roleInstance names an instance of a role: the same role with the same parameters is one.
func roleInstance(r *playbook.Role) string {
	return r.Path + "\x00" + fmt.Sprint(r.Params)
}

// orderHosts puts a play's hosts in the order its order keyword asks for, as Ansible's
// get_hosts does.
func orderHosts(hosts []*inventory.Host, order string) ([]*inventory.Host, error) {
	byName := func(a, b *inventory.Host) int { return strings.Compare(a.Name, b.Name) }
	switch order {
	case "", "inventory":
	case "reverse_inventory":
		slices.Reverse(hosts)
	case "sorted":
		slices.SortStableFunc(hosts, byName)
	case "reverse_sorted":
		slices.SortStableFunc(hosts, byName)
		slices.Reverse(hosts)
	case "shuffle":
		rand.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	default:
		return nil, fmt.Errorf("Invalid 'order' specified for inventory hosts: %s", order)
	}
	return hosts, nil
}
