package executor

import (
	"maps"
	"slices"

	"github.com/tallyrun/tally/host/inventory"
)

// hostVars builds the variables task c sees on host h, with Ansible's precedence (lowest
// first): inventory, facts, play vars and vars_files, block and task vars, set_fact and
// registered results, include parameters, extra vars; then the magic variables.
func (r *playRun) hostVars(h *inventory.Host, c *compiled) map[string]any {
	x := r.x
	hs := x.host(h)
	v := make(map[string]any, len(hs.invVars)+len(hs.facts)+len(r.vars)+len(hs.setFacts)+16)
	maps.Copy(v, hs.invVars)
	r.injectFacts(v, hs)
	maps.Copy(v, r.vars)
	if c != nil {
		for _, layer := range c.vars {
			maps.Copy(v, layer)
		}
	}
	maps.Copy(v, hs.setFacts)
	if c != nil {
		maps.Copy(v, c.includeVars)
	}
	maps.Copy(v, x.cfg.ExtraVars)
	r.magic(v, h)
	return v
}

func (r *playRun) injectFacts(v map[string]any, hs *hostState) {
	v["ansible_facts"] = hs.facts
	for k, f := range hs.facts {
		v["ansible_"+k] = f
	}
}

// magic adds Ansible's magic variables for host h.
func (r *playRun) magic(v map[string]any, h *inventory.Host) {
	x := r.x
	v["inventory_hostname"] = h.Name
	v["group_names"] = h.GroupNames()
	v["groups"] = x.cfg.Inventory.GroupsVar()
	v["hostvars"] = r.hostvarsVar()
	v["ansible_play_hosts_all"] = names(r.allHosts)
	v["ansible_play_hosts"] = names(r.active(r.allHosts))
	v["play_hosts"] = v["ansible_play_hosts"]
	v["ansible_play_batch"] = names(r.active(r.batch))
	v["ansible_play_name"] = r.play.Name
	v["playbook_dir"] = r.play.Dir
	v["ansible_check_mode"] = false
	v["ansible_verbosity"] = x.cfg.Verbosity
	v["omit"] = x.omit
	v["ansible_run_tags"] = tagsVar(x.cfg.Tags, "all")
	v["ansible_skip_tags"] = tagsVar(x.cfg.SkipTags, "")
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
// them (inventory, facts, set_fact and registered results, extra vars: not the play's vars),
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
