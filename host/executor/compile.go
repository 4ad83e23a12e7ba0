package executor

import (
	"slices"

	"github.com/tallyrun/tally/host/module"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// scope is what a task inherits from its play and enclosing blocks. Conditions and tags
// accumulate; other keywords are inherited when the task does not set them, as Ansible's
// parent-attribute lookup does.
type scope struct {
	when              []string
	tags              []string
	vars              []map[string]any // outermost first
	env               []any            // outermost first
	become            any
	becomeUser        string
	becomeMethod      string
	remoteUser        string
	ignoreErrors      any
	ignoreUnreachable any
	noLog             any
	anyErrorsFatal    any
	runOnce           any
	delegateTo        string
	notify            []string       // a task's own, else its block's or import's
	checkMode, diff   any            // nil: the command line's --check, --diff
	includeVars       map[string]any // include_tasks parameters and loop item
	unsupported       []string       // keywords tally lacks, of the task and its blocks
	// roles is the chain of roles the task is in, outermost first: the last is its role
	// (Ansible's dependency chain).
	roles []*playbook.Role
	// parentRoles are the roles that imported or included the task's role, innermost first
	// (ansible_parent_role_names and _paths).
	parentRoles []*playbook.Role
}

// compiled is a task (or block) with its inherited keywords resolved.
type compiled struct {
	task  *playbook.Task
	info  *event.Task
	scope // the effective keywords

	block, rescue, always []*compiled
	gather                bool   // the play's implicit fact gathering
	outer                 *scope // an include's: the scope it is in (see includedScope)
}

func (p *playRun) playScope() scope {
	pl := p.play
	s := scope{
		tags:              pl.Tags,
		become:            pl.Become,
		becomeUser:        pl.BecomeUser,
		becomeMethod:      pl.BecomeMethod,
		remoteUser:        pl.RemoteUser,
		ignoreErrors:      pl.IgnoreErrors,
		ignoreUnreachable: pl.IgnoreUnreachable,
		anyErrorsFatal:    pl.AnyErrorsFatal,
		checkMode:         pl.CheckMode,
		diff:              pl.Diff,
	}
	if pl.Environment != nil {
		s.env = []any{pl.Environment}
	}
	return s
}

// inherit returns the scope a task (or block) t has inside parent.
func (parent scope) inherit(t *playbook.Task) scope {
	s := parent
	s.when = concat(parent.when, t.When)
	s.tags = concat(parent.tags, t.Tags)
	s.unsupported = concat(parent.unsupported, t.Unsupported)
	if len(t.Vars) > 0 {
		s.vars = append(slices.Clip(parent.vars), t.Vars)
	}
	if t.Environment != nil {
		s.env = append(slices.Clip(parent.env), t.Environment)
	}
	set := func(dst *any, v any) {
		if v != nil {
			*dst = v
		}
	}
	setS := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&s.become, t.Become)
	setS(&s.becomeUser, t.BecomeUser)
	setS(&s.becomeMethod, t.BecomeMethod)
	setS(&s.remoteUser, t.RemoteUser)
	set(&s.ignoreErrors, t.IgnoreErrors)
	set(&s.ignoreUnreachable, t.IgnoreUnreachable)
	set(&s.noLog, t.NoLog)
	set(&s.anyErrorsFatal, t.AnyErrorsFatal)
	set(&s.runOnce, t.RunOnce)
	setS(&s.delegateTo, t.DelegateTo)
	if t.Role != nil {
		if t.Role.FromInclude && len(parent.roles) > 0 {
			s.parentRoles = append([]*playbook.Role{parent.roles[len(parent.roles)-1]}, parent.parentRoles...)
		}
		s.roles = append(slices.Clip(parent.roles), t.Role)
	}
	if t.Notify != nil {
		s.notify = t.Notify
	}
	set(&s.checkMode, t.CheckMode)
	set(&s.diff, t.Diff)
	return s
}

func concat[T any](a, b []T) []T {
	if len(b) == 0 {
		return a
	}
	return append(slices.Clip(a), b...)
}

// compileAll compiles tasks in the scope parent.
func compileAll(tasks []*playbook.Task, parent scope, handler bool) []*compiled {
	out := make([]*compiled, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, compile(t, parent, handler))
	}
	return out
}

func compile(t *playbook.Task, parent scope, handler bool) *compiled {
	c := &compiled{task: t, scope: parent.inherit(t)}
	if a := c.action(); a == "include_tasks" || a == "include_role" || a == "include" {
		c.outer = &parent
	}
	if t.IsBlock() {
		// A block's when and tags are its children's: evaluated for each of them.
		c.block = compileAll(t.Block, c.scope, handler)
		c.rescue = compileAll(t.Rescue, c.scope, handler)
		c.always = compileAll(t.Always, c.scope, handler)
		return c
	}
	c.info = &event.Task{
		Name:   c.displayName(t.Name),
		Action: t.Action,
		Path:   t.Pos.String(),
		UUID:   t.UUID,
		Tags:   c.tags,
		Args:   t.Args,
	}
	return c
}

// gatherTask is the implicit fact-gathering task that starts a play.
func gatherTask(play *playbook.Play, s scope) *compiled {
	t := &playbook.Task{Pos: play.Pos, UUID: play.UUID + "-facts", Name: "Gathering Facts", Action: "gather_facts",
		Args: map[string]any{}, Tags: []string{"always"}, When: play.When}
	c := compile(t, s, false)
	c.gather = true
	return c
}

// action is the module a task runs, by its short name.
func (c *compiled) action() string {
	if c.task.Action == "gather_facts" || module.Canonical(c.task.Action) == "gather_facts" {
		return "setup"
	}
	return module.Canonical(c.task.Action)
}

// Selected reports whether --tags (only, default all) and --skip-tags (skip) let a task with
// tags run, as Ansible's Taggable.evaluate_tags decides.
func Selected(tags, only, skip []string) bool {
	if len(only) == 0 {
		only = []string{"all"}
	}
	set := map[string]bool{}
	for _, t := range tags {
		set[t] = true
	}
	if len(set) == 0 {
		set["untagged"] = true
	}
	untagged := len(set) == 1 && set["untagged"]
	any := func(list []string) bool {
		for _, t := range list {
			if set[t] {
				return true
			}
		}
		return false
	}
	if len(only) > 0 {
		switch {
		case set["always"]:
		case slices.Contains(only, "all") && !set["never"]:
		case any(only):
		case slices.Contains(only, "tagged") && !untagged && !set["never"]:
		default:
			return false
		}
	}
	if len(skip) > 0 {
		switch {
		case slices.Contains(skip, "all"):
			if !set["always"] || slices.Contains(skip, "always") {
				return false
			}
		case any(skip):
			return false
		case slices.Contains(skip, "tagged") && !untagged:
			return false
		}
	}
	return true
}
