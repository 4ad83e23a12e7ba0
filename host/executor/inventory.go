package executor

import (
	"fmt"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/template"
)

// changeInventory makes the in-memory inventory change an add_host or group_by result res of
// host h asks for, as Ansible's strategy does when it processes the result: with dryRun only
// res's "changed" is set, to whether the inventory would change. Tasks run in parallel read
// the inventory, so the change itself is made between tasks (apply).
func (r *playRun) changeInventory(res map[string]any, h *inventory.Host, dryRun bool) error {
	inv := r.x.cfg.Inventory
	var changed bool
	var err error
	switch {
	case res["add_host"] != nil:
		info, _ := res["add_host"].(map[string]any)
		var groups []string
		for _, g := range asSlice(info["groups"]) {
			groups = append(groups, template.String(g))
		}
		vars, _ := info["host_vars"].(map[string]any)
		changed, err = inv.AddHost(template.String(info["host_name"]), groups, vars, dryRun)
	case res["add_group"] != nil:
		var parents []string
		for _, p := range asSlice(res["parent_groups"]) {
			parents = append(parents, template.String(p))
		}
		changed, err = inv.GroupBy(h, template.String(res["add_group"]), parents, dryRun)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("changing the inventory: %w", err)
	}
	if dryRun {
		res["changed"] = changed
		return nil
	}
	if changed {
		// Inventory variables, group_names and groups may have changed for any host.
		for name, hs := range r.x.hosts {
			hs.invVars = inv.HostVars(inv.Host(name))
			hs.hostvars = nil
		}
	}
	return nil
}

func asSlice(v any) []any {
	l, _ := v.([]any)
	return l
}
