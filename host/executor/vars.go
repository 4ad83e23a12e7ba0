package executor

import (
	"maps"
	"slices"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
)

// hostVars builds the variables task c sees on host h, with Ansible's precedence (lowest
// first, VariableManager.get_vars): role defaults, inventory, facts, play vars and
// vars_files, role vars, block and task vars, include_vars, set_fact and registered results,
// role parameters, include parameters, extra vars; then the magic variables.
func (r *playRun) hostVars(h *inventory.Host, c *compiled) map[string]any {
	x := r.x
	hs := x.host(h)
	v := make(map[string]any, len(hs.invVars)+len(hs.facts)+len(r.vars)+len(hs.setFacts)+16)
	r.playRoleDefaults(v)
	var role *playbook.Role
	if c != nil {
		if role = c.role(); role != nil {
			defaultVars(v, role, c.roles[:len(c.roles)-1])
		}
	}
	maps.Copy(v, hs.invVars)
	r.injectFacts(v, hs)
	maps.Copy(v, r.vars)
	r.playRoleVars(v)
	if role != nil {
		roleVars(v, role, c.roles[:len(c.roles)-1])
	}
	if c != nil {
		for _, layer := range c.vars {
			maps.Copy(v, layer)
		}
	}
	maps.Copy(v, hs.included)
	maps.Copy(v, hs.setFacts)
	if c != nil {
		for _, rl := range c.roles {
			maps.Copy(v, rl.Params)
		}
		if len(c.parentRoles) > 0 {
			names, paths := make([]any, len(c.parentRoles)), make([]any, len(c.parentRoles))
			for i, p := range c.parentRoles {
				names[i], paths[i] = p.Name, absPath(p.Path)
			}
			v["ansible_parent_role_names"], v["ansible_parent_role_paths"] = names, paths
		}
		maps.Copy(v, c.includeVars)
	}
	maps.Copy(v, x.cfg.ExtraVars)
	r.magic(v, h)
	r.connectionMagic(v, h)
	if c != nil {
		v["ansible_search_path"] = r.searchPaths(c)
	}
	r.roleMagic(v, c)
	return v
}

func (r *playRun) injectFacts(v map[string]any, hs *hostState) {
	v["ansible_facts"] = hs.facts
	for k, f := range hs.facts {
		if hs.bareFacts[k] {
			v[k] = f
		} else {
			v["ansible_"+k] = f
		}
	}
}

// sharedMagic are the magic variables that are the same for every host.
type sharedMagic struct {
	hostvars                       map[string]any
	playHostsAll, playHosts, batch []any
}

func (r *playRun) sharedMagic() *sharedMagic {
	return &sharedMagic{hostvars: r.hostvarsVar(), playHostsAll: names(r.allHosts),
		playHosts: names(r.active(r.allHosts)), batch: names(r.active(r.batch))}
}

// magic adds Ansible's magic variables for host h.
func (r *playRun) magic(v map[string]any, h *inventory.Host) {
	x := r.x
	sh := r.shared
	if sh == nil {
		sh = r.sharedMagic()
	}
	v["inventory_hostname"] = h.Name
	v["group_names"] = h.GroupNames()
	v["groups"] = x.cfg.Inventory.GroupsVar()
	v["hostvars"] = sh.hostvars
	v["ansible_play_hosts_all"] = sh.playHostsAll
	v["ansible_play_hosts"] = sh.playHosts
	v["play_hosts"] = v["ansible_play_hosts"]
	v["ansible_play_batch"] = sh.batch
	v["ansible_play_name"] = r.play.Name
	v["playbook_dir"] = absPath(r.play.Dir)
	// As Ansible's options vars: the command line's --check and --diff, whatever the keywords.
	v["ansible_check_mode"] = x.cfg.Check
	v["ansible_diff_mode"] = x.cfg.Diff
	v["ansible_verbosity"] = x.cfg.Verbosity
	v["omit"] = x.omit
	v["ansible_run_tags"] = tagsVar(x.cfg.Tags, "all")
	v["ansible_skip_tags"] = tagsVar(x.cfg.SkipTags, "")
}

// connectionMagic adds what Ansible's PlayContext.update_vars gives every task where no
// variable sets it: the address the host is reached at (ansible_host and ansible_ssh_host)
// and the connection type, the same defaults connVars fills in.
func (r *playRun) connectionMagic(v map[string]any, h *inventory.Host) {
	addr, ok := v["ansible_host"]
	if !ok {
		if addr, ok = v["ansible_ssh_host"]; !ok {
			addr = h.Name
		}
	}
	for _, k := range []string{"ansible_host", "ansible_ssh_host"} {
		if _, ok := v[k]; !ok {
			v[k] = addr
		}
	}
	if _, ok := v["ansible_connection"]; !ok {
		v["ansible_connection"] = r.defaultConnection()
	}
}

// defaultConnection is the connection type of a host no variable sets it for: the play's
// keyword, else the command line's.
func (r *playRun) defaultConnection() string {
	if r.play.Connection != "" {
		return r.play.Connection
	}
	return r.x.cfg.Connection
}

// tagsVar is --tags or --skip-tags as ansible_run_tags and ansible_skip_tags give them; def
// stands for none given, if not empty.
func tagsVar(tags []string, def string) []any {
	out := make([]any, 0, len(tags)+1)
	for _, t := range tags {
		out = append(out, t)
	}
	if len(out) == 0 && def != "" {
		out = append(out, def)
	}
	return out
}

// hostvarsVar is the hostvars magic variable: every known host's variables as other hosts see
// them (inventory, facts, include_vars, set_fact and registered results, extra vars: not the
// play's or its roles' vars),
// rebuilt for a host only after it changed. The implicit localhost is one of them, as Ansible's
// hostvars finds it.
func (r *playRun) hostvarsVar() map[string]any {
	x := r.x
	hosts := x.cfg.Inventory.Hosts()
	if !slices.ContainsFunc(hosts, func(h *inventory.Host) bool { return h.Name == "localhost" }) {
		if lh := x.cfg.Inventory.Host("localhost"); lh != nil {
			hosts = append(hosts, lh)
		}
	}
	out := make(map[string]any, len(hosts))
	for _, h := range hosts {
		hs := x.host(h)
		if hs.hostvars == nil {
			v := make(map[string]any, len(hs.invVars)+len(hs.facts)+len(hs.setFacts)+8)
			maps.Copy(v, hs.invVars)
			r.injectFacts(v, hs)
			maps.Copy(v, hs.included)
			maps.Copy(v, hs.setFacts)
			maps.Copy(v, x.cfg.ExtraVars)
			v["inventory_hostname"] = h.Name
			v["group_names"] = h.GroupNames()
			hs.hostvars = v
		}
		out[h.Name] = hs.hostvars
	}
	return out
}

func names(hosts []*inventory.Host) []any {
	out := make([]any, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}
