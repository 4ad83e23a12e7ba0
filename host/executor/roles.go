package executor

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
)

// This file holds what roles add to running a play: their variables at Ansible's precedence,
// running each role once per host, and the names their tasks are shown with.

// role is the role task c belongs to; nil outside roles.
func (c *compiled) role() *playbook.Role {
	if len(c.roles) == 0 {
		return nil
	}
	return c.roles[len(c.roles)-1]
}

// displayName is the name Ansible shows for a task called name: "role : name" in a role
// (Task.get_name), the action when unnamed; an include_role is "include_role : ROLE" when
// unnamed, and never has its role's prefix (IncludeRole.get_name).
func (c *compiled) displayName(name string) string {
	r := c.role()
	switch {
	case c.task.Action != "" && c.action() == "include_role":
		if name != "" {
			return name
		}
		role := c.task.Args["name"]
		if role == nil {
			role = c.task.Args["role"]
		}
		return fmt.Sprintf("%s : %v", c.task.Action, role)
	case r == nil:
		return name
	case name == "":
		return r.Name + " : " + c.task.Action
	}
	return r.Name + " : " + name
}

// roleState is what a role has done in a play, by host (Role._had_task_run, _completed).
type roleState struct {
	ran, completed map[string]bool
}

func (x *Executor) roleState(r *playbook.Role) *roleState {
	st := x.roles[r]
	if st == nil {
		st = &roleState{ran: map[string]bool{}, completed: map[string]bool{}}
		x.roles[r] = st
	}
	return st
}

// notRun drops from hosts those on which the role of task c has already run, unless the role
// allows duplicates (the linear strategy's has_run check).
func (r *playRun) notRun(c *compiled, hosts []*inventory.Host) []*inventory.Host {
	role := c.role()
	if role == nil || role.AllowDuplicates || c.task.Handler {
		return hosts
	}
	st := r.x.roleState(role)
	out := make([]*inventory.Host, 0, len(hosts))
	for _, h := range hosts {
		if !st.completed[h.Name] {
			out = append(out, h)
		}
	}
	return out
}

// roleComplete marks role done on the hosts where one of its tasks ran (the role_complete
// meta task that ends a role's block).
func (r *playRun) roleComplete(role *playbook.Role, hosts []*inventory.Host) {
	st := r.x.roleState(role)
	for _, h := range r.active(hosts) {
		if st.ran[h.Name] {
			st.completed[h.Name] = true
		}
	}
}

// defaultVars are the defaults task c sees from role (Role.get_default_vars): its
// dependencies', those of the roles of its chain, then its own.
func defaultVars(v map[string]any, role *playbook.Role, chain []*playbook.Role) {
	for _, d := range role.AllDeps() {
		defaultVars(v, d, nil)
	}
	for _, p := range chain {
		maps.Copy(v, p.Defaults)
	}
	maps.Copy(v, role.Defaults)
}

// roleVars are the variables a task sees from role (Role.get_vars without its parameters):
// those of its chain, its dependencies', then its entry's vars and its vars/.
func roleVars(v map[string]any, role *playbook.Role, chain []*playbook.Role) {
	for _, p := range chain {
		maps.Copy(v, p.EntryVars)
		maps.Copy(v, p.Vars)
	}
	for _, d := range role.AllDeps() {
		roleVars(v, d, nil)
	}
	maps.Copy(v, role.EntryVars)
	maps.Copy(v, role.Vars)
}

// playRoleDefaults and playRoleVars are the layers every task of the play sees from the play's
// roles, lowest and above vars_files.
func (r *playRun) playRoleDefaults(v map[string]any) {
	for _, role := range r.playRoles {
		defaultVars(v, role, nil)
	}
}

func (r *playRun) playRoleVars(v map[string]any) {
	for _, role := range r.playRoles {
		roleVars(v, role, nil)
	}
}

// roleMagic adds the role variables of task c: role_name, role_path and the play's role
// names.
func (r *playRun) roleMagic(v map[string]any, c *compiled) {
	var names, deps []any
	seen := map[string]bool{}
	for _, role := range r.playRoles {
		names = append(names, role.Name)
		for _, d := range role.AllDeps() {
			if !seen[d.Name] {
				seen[d.Name] = true
				deps = append(deps, d.Name)
			}
		}
	}
	all := append([]any{}, deps...)
	for _, n := range names {
		if !seen[n.(string)] {
			seen[n.(string)] = true
			all = append(all, n)
		}
	}
	v["ansible_role_names"] = all
	v["ansible_play_role_names"] = names
	v["role_names"] = names
	v["ansible_dependent_role_names"] = deps
	if c == nil {
		return
	}
	if role := c.role(); role != nil {
		v["role_name"] = role.Name
		v["role_path"] = absPath(role.Path)
		v["ansible_role_name"] = role.Name
	}
}

// includeRoleResult resolves an include_role for a host: the role to load and the parameters
// its tasks get.
func (r *playRun) includeRoleResult(c *compiled, args, vars map[string]any, o *outcome) map[string]any {
	spec, err := playbook.RoleSpecOf(args, c.task.Vars)
	if err != nil {
		return failure(err.Error())
	}
	public := false
	if v, ok := args["public"]; ok {
		public, _ = template.Bool(v)
	}
	o.includes = append(o.includes, r.includeOf(c, vars, include{role: &spec, public: public}))
	return map[string]any{"include_args": args}
}

// loadRole loads the role an include_role (task c) brought in, registers its handlers, and
// returns the block that runs it.
func (r *playRun) loadRole(c *compiled, inc include) ([]*playbook.Task, error) {
	role, err := r.play.LoadRole(*inc.role, "", c.task.Pos)
	if err != nil {
		return nil, err
	}
	if inc.public && !slices.Contains(r.playRoles, role) {
		r.playRoles = append(r.playRoles, role)
	}
	block := playbook.ApplyBlock(c.task.Apply, []*playbook.Task{playbook.RoleBlock(role, c.task.Pos)})[0]
	r.addHandlers(playbook.RoleHandlers(block), c.includedScope(inc))
	r.addImportedRoles(role.Tasks, c.includedScope(inc))
	return []*playbook.Task{block}, nil
}

// addImportedRoles adds the roles that import_role brings in with an included task file to
// the play, with their handlers, as Ansible does when it reads the file.
func (r *playRun) addImportedRoles(tasks []*playbook.Task, s scope) {
	for _, b := range playbook.ImportedRoles(tasks) {
		if !slices.Contains(r.playRoles, b.Role) {
			r.playRoles = append(r.playRoles, b.Role)
		}
		r.addHandlers(playbook.RoleHandlers(b), s)
	}
}

// addHandlers adds the handler blocks of roles to the play's handlers, each role's once.
func (r *playRun) addHandlers(blocks []*playbook.Task, s scope) {
	for _, b := range blocks {
		if r.x.handlerRoles[b.Role] {
			continue
		}
		r.x.handlerRoles[b.Role] = true
		for _, t := range leaves(compileAll([]*playbook.Task{b}, s, true)) {
			r.handlers = append(r.handlers, &handler{task: t, notified: map[string]bool{}})
		}
	}
}
