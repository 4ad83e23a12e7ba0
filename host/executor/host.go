package executor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/module"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// status is the outcome of a task on a host.
type status int

const (
	statusOK status = iota
	statusFailed
	statusSkipped
	statusUnreachable
)

// outcome is what one task did on one host.
type outcome struct {
	host     *inventory.Host
	vars     map[string]any
	status   status
	ignored  bool           // failed with ignore_errors, or unreachable with ignore_unreachable
	looped   bool           // result holds the loop's per-item results
	raised   bool           // an error ended the task as Ansible raises it out of an item (raise)
	result   map[string]any // the full result, for register
	includes []include
}

const censored = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

// runOnHost runs task c on host h: its loop, conditions, module, retries, and the events.
func (r *playRun) runOnHost(ctx context.Context, c *compiled, info *event.Task, h *inventory.Host, vars map[string]any, rescuable bool) *outcome {
	x := r.x
	o := &outcome{host: h, vars: vars}
	start := time.Now()
	data := func() event.Data {
		return event.Data{Playbook: r.pb.Path, Play: r.play.Name, Host: h.Name, Task: info}
	}
	x.emit(&event.Event{ParentUUID: c.task.UUID, Event: event.RunnerOnStart, Data: data()})
	noLog := r.flag(c.noLog, vars)

	if c.task.Loop != nil {
		o.looped = true
		o.result = r.runLoop(ctx, c, info, h, vars, o, data, noLog)
	} else {
		o.result = r.runIteration(ctx, c, h, vars, o)
		if _, ok := o.result["changed"]; !ok {
			o.result["changed"] = false // TaskExecutor.run's default, not its loop items'
		}
	}
	o.status = classify(o.result)

	d := data()
	d.Start, d.End = start, time.Now()
	d.Duration = d.End.Sub(start).Seconds()
	var typ event.Type
	switch o.status {
	case statusOK:
		typ = event.RunnerOnOK
	case statusSkipped:
		typ = event.RunnerOnSkipped
	case statusFailed:
		typ = event.RunnerOnFailed
		o.ignored = r.flag(c.ignoreErrors, vars)
		d.IgnoreErrors = o.ignored
		d.Rescued = rescuable && !o.ignored
	case statusUnreachable:
		typ = event.RunnerOnUnreachable
		o.ignored = r.flag(c.ignoreUnreachable, vars)
		d.IgnoreUnreachable = o.ignored
	}
	d.Result = callbackResult(o.result, noLog, c.action())
	x.emit(&event.Event{ParentUUID: c.task.UUID, Event: typ, Data: d})
	return o
}

// runIteration runs task c once (one loop item, or the task without a loop): condition, args,
// module, changed_when/failed_when, until/retries.
func (r *playRun) runIteration(ctx context.Context, c *compiled, h *inventory.Host, vars map[string]any, o *outcome) map[string]any {
	x := r.x
	ok, err := x.tmpl.Cond(c.when, vars)
	if err != nil {
		return o.raise(condFailure(c, c.when, err))
	}
	if !ok {
		return map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}
	}
	if len(c.unsupported) > 0 {
		return failure(strings.Join(c.unsupported, "; "))
	}
	if c.delegateTo != "" {
		if target, err := x.tmpl.Render(c.delegateTo, vars); err == nil {
			vars["ansible_delegated_vars"] = map[string]any{fmt.Sprint(target): r.delegatedHostVars(fmt.Sprint(target), c, vars)}
		}
	}
	rendered, err := x.tmpl.Render(map[string]any(c.task.Args), vars)
	if err != nil {
		return o.raise(argsFailure(c, err))
	}
	args, _ := rendered.(map[string]any)
	if vp, ok := args["_variable_params"]; ok {
		// the task's args given as one template ("{{ d }}" or leftover words): a mapping is
		// the args, under the task's own, as Ansible's TaskExecutor merges them
		m, isMap := vp.(map[string]any)
		if !isMap {
			return failure(fmt.Sprintf("invalid or malformed argument: '%s'", pytext.Str(vp)))
		}
		delete(args, "_variable_params")
		merged := maps.Clone(m)
		maps.Copy(merged, args)
		args = merged
	}
	for k, v := range args {
		if v == x.omit {
			delete(args, k)
		}
	}
	switch c.action() {
	case "include_tasks":
		return r.includeResult(c, args, vars, o)
	case "include_role":
		return r.includeRoleResult(c, args, vars, o)
	case "include_vars":
		return r.includeVarsResult(c, args, vars)
	}
	name, unresolved := c.action(), fmt.Sprintf("couldn't resolve module/action '%s'", c.task.Action)
	if template.IsTemplate(c.task.Action) {
		// action: "{{ ... }}", accepted when the file was read, names its module now.
		v, err := x.tmpl.RenderString(c.task.Action, vars)
		if err != nil {
			return o.raise(argsFailure(c, err))
		}
		name, unresolved = module.Canonical(v), fmt.Sprintf("The module %s was not found in configured module paths", v)
	}
	spec, found := module.Lookup(name)
	if !found {
		return failure(unresolved)
	}
	if spec, err = r.asyncSpec(c, spec, vars); err != nil {
		return failure(err.Error())
	}
	mt, delegated, err := r.moduleTask(ctx, c, h, vars, spec.Controller)
	if err != nil {
		return err2result(err)
	}

	retries, delay := 1, 5*time.Second
	if len(c.task.Until) > 0 {
		retries = 3
		if c.task.Retries != nil {
			if v, err := x.tmpl.Render(c.task.Retries, vars); err == nil {
				if n, err := toFloat(v); err == nil {
					retries = int(n)
				}
			}
		}
		retries = max(retries, 0) + 1
		if c.task.Delay != nil {
			if v, err := x.tmpl.Render(c.task.Delay, vars); err == nil {
				if f, err := toFloat(v); err == nil {
					delay = time.Duration(f * float64(time.Second))
				}
			}
		}
	}
	var res map[string]any
	for attempt := 1; ; attempt++ {
		res = r.runModule(ctx, spec, mt, args)
		_ = r.changeInventory(res, h, true) // a dry run cannot fail
		if delegated != nil {
			res["_ansible_delegated_vars"] = delegated
		}
		if classify(res) == statusUnreachable {
			return res
		}
		if len(c.task.Until) > 0 {
			res["attempts"] = attempt // changed_when and failed_when see it, as in Ansible
		}
		cv := vars
		if c.task.Register != "" {
			cv = maps.Clone(vars)
			cv[c.task.Register] = template.Unsafe(cleanResult(res))
		}
		r.resultConditions(c, res, cv)
		if retries <= 1 {
			return res
		}
		if c.task.Register != "" {
			cv[c.task.Register] = template.Unsafe(cleanResult(res))
		}
		done, err := x.tmpl.Cond(c.task.Until, cv)
		if err != nil {
			return failure(condFailure(c, c.task.Until, err))
		}
		if done {
			return res
		}
		if attempt >= retries || ctx.Err() != nil {
			// Ansible 2.14 reports one attempt fewer than it made when it gives up.
			res["attempts"] = retries - 1
			res["failed"] = true
			return res
		}
		res["_ansible_retry"] = true
		res["retries"] = retries
		x.emit(&event.Event{ParentUUID: c.task.UUID, Event: event.RunnerRetry,
			Data: event.Data{Playbook: r.pb.Path, Play: r.play.Name, Host: h.Name, Task: c.info, Result: callbackResult(res, r.flag(c.noLog, vars), c.action())}})
		sleep(ctx, delay)
	}
}

// resultConditions applies changed_when and failed_when to a module's result res. A condition
// that cannot be evaluated fails the task and keeps the module's result, its error in
// changed_when_result or failed_when_result, as Ansible does.
func (r *playRun) resultConditions(c *compiled, res, vars map[string]any) {
	for _, cond := range []struct {
		conds []string
		key   string
	}{{c.task.ChangedWhen, "changed"}, {c.task.FailedWhen, "failed"}} {
		if cond.conds == nil {
			continue
		}
		ok, err := r.x.tmpl.Cond(cond.conds, vars)
		if err != nil {
			res["failed"] = true
			res[cond.key+"_when_result"] = condFailure(c, cond.conds, err)
			return
		}
		res[cond.key] = ok
		if cond.key == "failed" {
			res["failed_when_result"] = ok
		}
	}
}

// includeResult resolves an include_tasks for a host: the file to read and the variables its
// tasks get.
func (r *playRun) includeResult(c *compiled, args, vars map[string]any, o *outcome) map[string]any {
	file, _ := args["file"].(string)
	if file == "" {
		file, _ = args["_raw_params"].(string)
	}
	if file == "" {
		return failure("No file specified for include_tasks")
	}
	path := r.includePath(c, file)
	if !fileExists(path) {
		return failure(fmt.Sprintf("Could not find or access '%s'", file))
	}
	o.includes = append(o.includes, r.includeOf(c, vars, include{path: path}))
	// As Ansible, the file named as the free-form argument is not repeated in include_args.
	shown := make(map[string]any, len(args))
	for k, v := range args {
		if k != "_raw_params" {
			shown[k] = v
		}
	}
	return map[string]any{"include": file, "include_args": shown}
}

// includeOf completes inc, what an include task c brings in for a host with vars: the
// parameters its tasks get (the include's vars and loop item) and the label of its item.
func (r *playRun) includeOf(c *compiled, vars map[string]any, inc include) include {
	iv := map[string]any{}
	maps.Copy(iv, c.includeVars)
	for _, layer := range c.vars {
		maps.Copy(iv, layer)
	}
	if lv, ok := vars["ansible_loop_var"].(string); ok {
		// As Ansible's IncludedFile: the loop_var, index_var and ansible_loop reach the
		// included tasks; ansible_loop_var does not.
		iv[lv] = vars[lv]
		if ix, ok := vars["ansible_index_var"].(string); ok {
			iv[ix] = vars[ix]
		}
		if l, ok := vars["ansible_loop"]; ok {
			iv["ansible_loop"] = l
		}
		inc.label = map[string]any{lv: vars[lv], "ansible_loop_var": lv}
		if c.task.LoopControl.Label != "" {
			if l, err := r.x.tmpl.Render(c.task.LoopControl.Label, vars); err == nil {
				inc.label["_ansible_item_label"] = l
			}
		}
		if r.flag(c.noLog, vars) {
			inc.label["_ansible_no_log"] = true
		}
	}
	inc.vars = iv
	return inc
}

// moduleTask prepares what a module needs for host h: the connection (opened on first use,
// unless the module runs on the controller), become, environment and helpers.
func (r *playRun) moduleTask(ctx context.Context, c *compiled, h *inventory.Host, vars map[string]any, controller bool) (*module.Task, map[string]any, error) {
	x := r.x
	mt := &module.Task{
		Host:        h.Name,
		Vars:        vars,
		SearchPaths: r.searchPaths(c),
		Vault:       x.cfg.Vault,
		Render:      func(text string) (string, error) { return x.tmpl.RenderString(text, vars) },
		Eval:        func(expr string) (any, error) { return x.tmpl.Eval(expr, vars) },
		Cond:        func(expr string) (bool, error) { return x.tmpl.Cond([]string{expr}, vars) },
		Check:       r.mode(c.checkMode, x.cfg.Check, vars),
		Diff:        r.mode(c.diff, x.cfg.Diff, vars),
		RenderFile: func(text string, o template.FileOptions) (string, error) {
			o.Managed = x.cfg.AnsibleManaged
			return x.tmpl.RenderFile(text, vars, o)
		},
	}
	env, err := r.environment(c, vars)
	if err != nil {
		return nil, nil, err
	}
	mt.Env = env
	connVars := vars
	var delegated map[string]any
	if c.delegateTo != "" {
		target, err := x.tmpl.Render(c.delegateTo, vars)
		if err != nil {
			return nil, nil, fmt.Errorf("delegate_to: %w", err)
		}
		connVars, delegated = r.delegateVars(fmt.Sprint(target))
	}
	become, err := r.become(c, connVars)
	if err != nil {
		return nil, nil, err
	}
	mt.Become = become
	if controller {
		return mt, delegated, nil
	}
	key := fmt.Sprint(connVars["inventory_hostname"])
	conn, err := x.conns.get(key, func() (connection.Connection, error) {
		cv, err := r.connVars(connVars)
		if err != nil {
			return nil, &connection.UnreachableError{Host: key, Err: err}
		}
		conn, err := x.cfg.Connect(ctx, key, cv)
		if d, ok := conn.(connection.Describer); ok && x.cfg.Verbosity >= 3 {
			r.verbose(c, h, d.Endpoint().Established())
		}
		return conn, err
	})
	if err != nil {
		return nil, nil, err
	}
	mt.Conn = conn
	if x.cfg.Verbosity >= 3 {
		mt.Conn = connection.Verbose(conn, func(msg string) { r.verbose(c, h, msg) }, r.flag(c.noLog, vars))
	}
	return mt, delegated, nil
}

// verbose reports a line of -vvv about host h's connection during task c.
func (r *playRun) verbose(c *compiled, h *inventory.Host, msg string) {
	r.x.emit(&event.Event{ParentUUID: c.task.UUID, Event: event.RunnerVerbose,
		Data: event.Data{Playbook: r.pb.Path, Play: r.play.Name, Host: h.Name, Task: c.info, Result: map[string]any{"msg": msg}}})
}

// connVars returns the connection variables of a host with the keyword and command-line
// defaults filled in: variables win over keywords, which win over flags, as in Ansible.
func (r *playRun) connVars(vars map[string]any) (map[string]any, error) {
	cv := map[string]any{}
	for k, v := range vars {
		if !strings.HasPrefix(k, "ansible_") {
			continue
		}
		cv[k] = v
		if !isConnectionVar(k) {
			continue // facts and the like: data from the host, never templates
		}
		// Connection variables may be templates ("{{ bastion_user }}"); render them as
		// Ansible does before connecting.
		rendered, err := r.x.tmpl.Render(v, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		cv[k] = rendered
	}
	if _, ok := cv["ansible_connection"]; !ok {
		cv["ansible_connection"] = r.defaultConnection()
	}
	if _, ok := cv["ansible_host"]; !ok {
		cv["ansible_host"] = vars["inventory_hostname"]
	}
	if _, ok := cv["ansible_user"]; !ok {
		switch {
		case r.play.RemoteUser != "":
			cv["ansible_user"] = r.play.RemoteUser
		case r.x.cfg.RemoteUser != "":
			cv["ansible_user"] = r.x.cfg.RemoteUser
		}
	}
	return cv, nil
}

// isConnectionVar reports whether a variable says how to reach a host or become on it
// (gathered facts such as ansible_hostname are not).
func isConnectionVar(name string) bool {
	switch name {
	case "ansible_connection", "ansible_host", "ansible_port", "ansible_user", "ansible_password",
		"ansible_private_key_file", "ansible_host_key_checking", "ansible_become", "ansible_timeout":
		return true
	}
	return strings.HasPrefix(name, "ansible_ssh_") || strings.HasPrefix(name, "ansible_become_")
}

// delegatedHostVars are the variables a task delegated to target sees for it, Ansible's
// ansible_delegated_vars entry: the delegate's own variables when the inventory has it, else
// those delegateVars gives it; as in Ansible's get_delegated_vars_and_hostname,
// inventory_hostname stays the task's host (vars are its variables) and ansible_host defaults
// to the delegate's name.
func (r *playRun) delegatedHostVars(target string, c *compiled, vars map[string]any) map[string]any {
	var dv map[string]any
	if h := r.x.cfg.Inventory.Host(target); h != nil {
		dv = r.hostVars(h, c)
	} else {
		dv, _ = r.delegateVars(target)
	}
	dv["inventory_hostname"] = vars["inventory_hostname"]
	if _, ok := dv["ansible_host"]; !ok {
		dv["ansible_host"] = target
	}
	return dv
}

// delegateVars returns the variables used to reach a delegate_to target, and the
// _ansible_delegated_vars Ansible reports for it.
func (r *playRun) delegateVars(target string) (map[string]any, map[string]any) {
	var cv map[string]any
	if h := r.x.cfg.Inventory.Host(target); h != nil {
		cv = maps.Clone(r.x.host(h).invVars)
	} else {
		cv = map[string]any{}
	}
	cv["inventory_hostname"] = target
	if target == "localhost" || target == "127.0.0.1" {
		if _, ok := cv["ansible_connection"]; !ok {
			cv["ansible_connection"] = "local"
		}
	}
	host := cv["ansible_host"]
	if host == nil {
		host = target
	}
	return cv, map[string]any{"ansible_delegated_host": target, "ansible_host": host, "ansible_port": cv["ansible_port"],
		"ansible_user": cv["ansible_user"], "ansible_connection": cv["ansible_connection"]}
}

// become resolves the become settings for a task: ansible_become* variables, then the
// keywords, then -b.
func (r *playRun) become(c *compiled, vars map[string]any) (*connection.Become, error) {
	var on any = r.x.cfg.Become
	if c.become != nil {
		on = c.become
	}
	if v, ok := vars["ansible_become"]; ok {
		on = v
	}
	rendered, err := r.x.tmpl.Render(on, vars)
	if err != nil {
		return nil, fmt.Errorf("become: %w", err)
	}
	if b, _ := template.Bool(rendered); !b {
		return nil, nil
	}
	b := &connection.Become{Method: c.becomeMethod, User: c.becomeUser, Password: r.x.cfg.BecomePass}
	if b.User == "" {
		b.User = r.x.cfg.BecomeUser
	}
	if b.Method == "" {
		b.Method = r.x.cfg.BecomeMethod
	}
	// Later names win: ansible_become_password over the older ansible_become_pass.
	for _, v := range []struct {
		key string
		dst *string
	}{{"ansible_become_user", &b.User}, {"ansible_become_method", &b.Method},
		{"ansible_become_pass", &b.Password}, {"ansible_become_password", &b.Password}} {
		key, dst := v.key, v.dst
		if v, ok := vars[key]; ok {
			s, err := r.x.tmpl.Render(v, vars)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			*dst = fmt.Sprint(s)
		}
	}
	if b.User == "" {
		b.User = "root"
	}
	if b.Method == "" {
		b.Method = "sudo"
	}
	return b, nil
}

// environment merges the environment keywords of the play, blocks and task.
func (r *playRun) environment(c *compiled, vars map[string]any) (map[string]string, error) {
	if len(c.env) == 0 {
		return nil, nil
	}
	env := map[string]string{}
	for _, e := range c.env {
		v, err := r.x.tmpl.Render(e, vars)
		if err != nil {
			return nil, fmt.Errorf("environment: %w", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("environment must be a mapping, got %v", v)
		}
		for k, val := range m {
			env[k] = template.String(val)
		}
	}
	return env, nil
}

// runModule runs a module, turning a panic or error into a failed result and a lost
// connection into an unreachable one.
func (r *playRun) runModule(ctx context.Context, spec module.Spec, mt *module.Task, args map[string]any) (res map[string]any) {
	defer func() {
		if p := recover(); p != nil {
			res = failure(fmt.Sprintf("module panic: %v", p))
		}
	}()
	out, err := spec.Run(ctx, mt, args)
	if err != nil {
		return err2result(err)
	}
	if out == nil {
		out = module.Result{}
	}
	if _, ok := out["failed"]; !ok {
		// As TaskExecutor._execute: a module that says nothing failed unless its rc says so.
		rc, hasRC := out["rc"]
		n, isNumber := pytext.Number(rc)
		out["failed"] = hasRC && !(isNumber && n == 0) && rc != "0"
	}
	if _, ok := out["changed"]; !ok {
		out["changed"] = false
	}
	return out
}

func err2result(err error) map[string]any {
	if connection.IsUnreachable(err) {
		return map[string]any{"unreachable": true, "changed": false, "msg": connection.UnreachableMessage(err)}
	}
	return failure(err.Error())
}

// condFailure is Ansible's message for a condition that could not be evaluated.
func condFailure(c *compiled, conds []string, err error) string {
	return fmt.Sprintf("The conditional check '%s' failed. The error was: %v%s", strings.Join(conds, " and "), err, errorAt(c))
}

// errorAt is the sentence Ansible adds to a task's templating error to say where the task is.
func errorAt(c *compiled) string {
	file, err := filepath.Abs(c.task.Pos.File)
	if err != nil {
		file = c.task.Pos.File
	}
	return fmt.Sprintf("\n\nThe error appears to be in '%s': line %d, but may\nbe elsewhere in the file depending on the exact syntax problem.", file, c.task.Pos.Line)
}

// raise is the result of an error that Ansible raises out of TaskExecutor._execute (a condition
// or an argument that cannot be templated) instead of returning it as the module's result: it
// has no "changed", and in a loop it ends the loop and becomes the whole task's result, the items
// before it staying reported (runLoop).
func (o *outcome) raise(msg string) map[string]any {
	o.raised = true
	return map[string]any{"failed": true, "msg": msg}
}

func failure(msg string) map[string]any {
	return map[string]any{"failed": true, "changed": false, "msg": msg}
}

// argsFailure is the message of a task whose args fail to template: Ansible's post_validate
// names the task's position only for an undefined variable; other template errors (a syntax
// error, an unknown filter) are their own message.
func argsFailure(c *compiled, err error) string {
	var u *template.UndefinedError
	if errors.As(err, &u) {
		return "The task includes an option with an undefined variable. The error was: " + u.Error() + errorAt(c)
	}
	return err.Error()
}

func undefinedMsg(err error) string {
	var u *template.UndefinedError
	if errors.As(err, &u) {
		return u.Error()
	}
	return err.Error()
}

// classify is the status of a result, as Ansible's TaskResult tells it: a loop with an
// unreachable item and no failed one is unreachable.
func classify(res map[string]any) status {
	failed := res["failed"] == true
	if fwr, ok := res["failed_when_result"].(bool); ok {
		// failed_when's verdict wins over failed (set by an until loop that gave up), as in
		// Ansible's TaskResult.is_failed
		failed = fwr
	}
	switch {
	case res["unreachable"] == true:
		return statusUnreachable
	case failed:
		return statusFailed
	case anyItem(res, "unreachable"):
		return statusUnreachable
	case res["skipped"] == true:
		return statusSkipped
	}
	return statusOK
}

// anyItem reports whether key is true in one of a loop result's items.
func anyItem(res map[string]any, key string) bool {
	items, _ := res["results"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m[key] == true {
			return true
		}
	}
	return false
}

func allSkipped(res map[string]any) bool {
	items, _ := res["results"].([]any)
	if len(items) == 0 {
		return false
	}
	for _, it := range items {
		m, _ := it.(map[string]any)
		if s, _ := m["skipped"].(bool); !s {
			return false
		}
	}
	return true
}

// cleanResult is a result as register stores it: without Ansible's internal _ansible_ keys.
func cleanResult(res map[string]any) map[string]any {
	out := make(map[string]any, len(res))
	for k, v := range res {
		if strings.HasPrefix(k, "_ansible_") {
			continue
		}
		if k == "results" {
			if items, ok := v.([]any); ok {
				clean := make([]any, len(items))
				for i, it := range items {
					if m, ok := it.(map[string]any); ok {
						clean[i] = cleanResult(m)
					} else {
						clean[i] = it
					}
				}
				v = clean
			}
		}
		out[k] = v
	}
	return out
}

// callbackKeep are the internal keys callbacks still see (Ansible's CLEAN_EXCEPTIONS).
var callbackKeep = map[string]bool{"_ansible_verbose_always": true, "_ansible_item_label": true,
	"_ansible_no_log": true, "_ansible_verbose_override": true, "_ansible_delegated_vars": true}

// callbackResult is a result as callbacks see it (Ansible's TaskResult.clean_copy): the status
// keys are dropped (the event type says them), internal keys stripped, and everything but a
// few counters censored under no_log.
func callbackResult(res map[string]any, noLog bool, action string) map[string]any {
	if noLog || res["_ansible_no_log"] == true {
		out := map[string]any{"censored": censored, "_ansible_no_log": true}
		for _, k := range []string{"attempts", "changed", "retries"} {
			if v, ok := res[k]; ok {
				out[k] = v
			}
		}
		if d, ok := res["_ansible_delegated_vars"]; ok {
			out["_ansible_delegated_vars"] = d
		}
		if l, ok := res["_ansible_item_label"]; ok {
			out["_ansible_item_label"] = l
		}
		if items, ok := res["results"].([]any); ok {
			out["results"] = items
		}
		return out
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		if k == "failed" || k == "skipped" || (k == "invocation" && action == "debug") {
			continue
		}
		if strings.HasPrefix(k, "_ansible_") && !callbackKeep[k] {
			continue
		}
		out[k] = v
	}
	return out
}

func toFloat(v any) (float64, error) {
	switch n := v.(type) {
	case int:
		return float64(n), nil
	case float64:
		return n, nil
	case string:
		return strconv.ParseFloat(strings.TrimSpace(n), 64)
	}
	return 0, fmt.Errorf("not a number: %v", v)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
