package executor

import (
	"fmt"
	"reflect"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/template"
)

// changeInventory makes the in-memory inventory change an add_host or group_by result res of
// host h asks for, as Ansible's strategy does when it processes the result: with dryRun only
// res's "changed" is set, to whether the inventory would change. Tasks run in parallel read
// the inventory, so the change itself is made between tasks (apply).
func (r *playRun) changeInventory(res map[string]any, h *inventory.Host, dryRun bool) error {
	var change func(inv *inventory.Inventory, dryRun bool) (bool, error)
	switch {
	case res["add_host"] != nil:
		info, _ := res["add_host"].(map[string]any)
		var groups []string
		for _, g := range asSlice(info["groups"]) {
			groups = append(groups, template.String(g))
		}
		vars, _ := info["host_vars"].(map[string]any)
		name := template.String(info["host_name"])
		change = func(inv *inventory.Inventory, dryRun bool) (bool, error) {
			return inv.AddHost(name, groups, vars, dryRun)
		}
	case res["add_group"] != nil:
		var parents []string
		for _, p := range asSlice(res["parent_groups"]) {
			parents = append(parents, template.String(p))
		}
		group := template.String(res["add_group"])
		change = func(inv *inventory.Inventory, dryRun bool) (bool, error) {
			host := inv.Host(h.Name)
			if host == nil {
				return false, nil // gone from a refreshed inventory
			}
			return inv.GroupBy(host, group, parents, dryRun)
		}
	default:
		return nil
	}
	changed, err := change(r.x.cfg.Inventory, dryRun)
	if err != nil {
		return fmt.Errorf("changing the inventory: %w", err)
	}
	if dryRun {
		res["changed"] = changed
		return nil
	}
	r.x.dynamic = append(r.x.dynamic, func(inv *inventory.Inventory) (bool, error) { return change(inv, false) })
	if changed {
		r.x.inventoryChanged()
	}
	return nil
}

// repeatsChange reports whether an item's add_host or group_by result res asks for the same
// change as an earlier item of its loop: Ansible applies the items in order, so the repeat
// changes nothing, while the dry run compared each with the inventory before the loop.
func repeatsChange(res map[string]any, earlier []any) bool {
	if res["add_host"] == nil && res["add_group"] == nil {
		return false
	}
	for _, e := range earlier {
		prev, _ := e.(map[string]any)
		if prev != nil && reflect.DeepEqual(prev["add_host"], res["add_host"]) &&
			reflect.DeepEqual(prev["add_group"], res["add_group"]) && reflect.DeepEqual(prev["parent_groups"], res["parent_groups"]) {
			return true
		}
	}
	return false
}

// inventoryChanged recomputes every host's inventory variables after a change of the
// inventory: its variables, group_names and groups may have changed for any host.
func (x *Executor) inventoryChanged() {
	inv := x.cfg.Inventory
	for name, hs := range x.hosts {
		if h := inv.Host(name); h != nil {
			hs.inv, hs.invVars = h, inv.HostVars(h)
		}
		hs.hostvars = nil
	}
}

// refreshInventory is meta: refresh_inventory: the inventory read again from its sources,
// then every add_host and group_by so far made again on it, as Ansible's
// InventoryManager.refresh_inventory. Hosts of the play keep running it; later plays select
// from the new inventory.
func (x *Executor) refreshInventory() error {
	inv, err := x.cfg.RefreshInventory()
	if err != nil {
		return err
	}
	for _, change := range x.dynamic {
		if _, err := change(inv); err != nil {
			return fmt.Errorf("changing the inventory: %w", err)
		}
	}
	x.cfg.Inventory = inv
	x.inventoryChanged()
	return nil
}

func asSlice(v any) []any {
	l, _ := v.([]any)
	return l
}
