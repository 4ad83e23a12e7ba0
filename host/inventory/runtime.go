package inventory

import (
	"maps"
	"path/filepath"
	"slices"
)

// The in-memory changes Ansible's add_host and group_by make between tasks. They are not safe
// for concurrent use: the executor makes them when no task runs. With dryRun they change
// nothing and report whether they would.

// AddHost adds the host called name (creating it in all when it is new) to each of groups
// (creating those that are new), and sets vars on it, as Ansible's strategy _add_host does.
// It reports whether the inventory changed.
func (inv *Inventory) AddHost(name string, groups []string, vars map[string]any, dryRun bool) (bool, error) {
	h := inv.hostIndex[name]
	changed := h == nil
	if h != nil {
		for k, v := range vars {
			if old, ok := h.inline[k]; !ok || !equalValue(old, v) {
				changed = true
			}
		}
	}
	for _, g := range groups {
		if grp := inv.groupIndex[g]; grp == nil || h == nil || !slices.Contains(grp.hosts, h) {
			changed = true
		}
	}
	if dryRun || !changed {
		return changed, nil
	}
	var newNames []string
	if h == nil {
		newNames = append(newNames, name)
		var err error
		if h, err = inv.addHost(name, nil, 0); err != nil {
			return false, err
		}
		_ = inv.setHostVar(h, "inventory_file", nil) // cannot fail: only ansible_group_priority can
		_ = inv.setHostVar(h, "inventory_dir", nil)
	}
	for k, v := range vars {
		if err := inv.setHostVar(h, k, v); err != nil {
			return false, err
		}
	}
	for _, name := range groups {
		g, err := inv.newGroup(name)
		if err != nil {
			return false, err
		}
		g.addHost(h)
	}
	return true, inv.refresh(newNames)
}

// GroupBy adds host h to the group called name, created when new, whose parents are parents
// (created when new), as Ansible's strategy _add_group does for group_by. It reports whether
// the inventory changed.
func (inv *Inventory) GroupBy(h *Host, name string, parents []string, dryRun bool) (bool, error) {
	g := inv.groupIndex[name]
	changed := g == nil || !slices.Contains(g.allHosts, h)
	for _, p := range parents {
		if pg := inv.groupIndex[p]; pg == nil || g == nil || !slices.Contains(pg.children, g) {
			changed = true
		}
	}
	if dryRun || !changed {
		return changed, nil
	}
	g, err := inv.newGroup(name)
	if err != nil {
		return false, err
	}
	for _, p := range parents {
		pg, err := inv.newGroup(p)
		if err != nil {
			return false, err
		}
		if err := pg.addChildGroup(g); err != nil {
			return false, err
		}
	}
	g.addHost(h)
	return true, inv.refresh(nil)
}

// newGroup returns the group called name, creating it with its group_vars files.
func (inv *Inventory) newGroup(name string) (*Group, error) {
	if g := inv.groupIndex[name]; g != nil {
		return g, nil
	}
	g, err := inv.addGroup(name)
	if err != nil {
		return nil, err
	}
	for _, d := range slices.Concat(inv.invDirs, inv.playDirs) {
		if err := inv.loadVarsSubdir(filepath.Join(d.path, "group_vars"), []string{name}, d.groups); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// refresh recomputes what the inventory derives from its hosts and groups after a change, as
// Ansible's reconcile_inventory, reading the host_vars files of the hosts newHosts names.
func (inv *Inventory) refresh(newHosts []string) error {
	for _, d := range slices.Concat(inv.invDirs, inv.playDirs) {
		if err := inv.loadVarsSubdir(filepath.Join(d.path, "host_vars"), newHosts, d.hosts); err != nil {
			return err
		}
	}
	for _, h := range inv.hosts {
		h.groups = nil
	}
	if err := inv.reconcile(); err != nil {
		return err
	}
	inv.refreshVars()
	inv.mu.Lock()
	clear(inv.patterns)
	inv.mu.Unlock()
	return nil
}

// equalValue reports whether two variable values are the same.
func equalValue(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		return ok && maps.EqualFunc(a, b, equalValue)
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, equalValue)
	}
	return a == b
}
