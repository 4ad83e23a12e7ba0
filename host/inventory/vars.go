package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

// This file is Ansible's host_group_vars vars plugin (group_vars/ and host_vars/ next to an
// inventory source or a playbook) and the inventory part of VariableManager.get_vars.

// varsDir holds the group_vars/ and host_vars/ files of one directory, merged per group or
// host name. Names without files are absent.
type varsDir struct {
	path   string // absolute
	groups map[string]map[string]any
	hosts  map[string]map[string]any
}

// varsExtensions are the file name endings tried for NAME, in order (Ansible's
// YAML_FILENAME_EXTENSIONS after the bare name).
var varsExtensions = []string{"", ".yml", ".yaml", ".json"}

// loadVarsDir reads dir/group_vars and dir/host_vars for every group and host of the
// inventory, and for the localhost names (for the implicit localhost).
func (inv *Inventory) loadVarsDir(dir string) (*varsDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("vars directory %s: %w", dir, err)
	}
	if d := inv.dirs[abs]; d != nil {
		return d, nil
	}
	d := &varsDir{path: abs, groups: map[string]map[string]any{}, hosts: map[string]map[string]any{}}
	groupNames := make([]string, len(inv.groups))
	for i, g := range inv.groups {
		groupNames[i] = g.Name
	}
	hostNames := append([]string(nil), localhostNames...)
	for _, h := range inv.hosts {
		hostNames = append(hostNames, h.Name)
	}
	for _, sub := range []struct {
		name  string
		names []string
		into  map[string]map[string]any
	}{{"group_vars", groupNames, d.groups}, {"host_vars", hostNames, d.hosts}} {
		if err := inv.loadVarsSubdir(filepath.Join(abs, sub.name), sub.names, sub.into); err != nil {
			return nil, err
		}
	}
	inv.dirs[abs] = d
	return d, nil
}

func (inv *Inventory) loadVarsSubdir(path string, names []string, into map[string]map[string]any) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("vars directory: %w", err)
	case !fi.IsDir():
		inv.warnf("Found %s that is not a directory, skipping: %s", filepath.Base(path), path)
		return nil
	}
	for _, name := range names {
		// Ansible skips names such as /path/to/chroot.
		if strings.HasPrefix(name, "/") {
			continue
		}
		files, err := findVarsFiles(path + "/" + name)
		if err != nil {
			return err
		}
		var vars map[string]any
		for _, f := range files {
			data, err := inv.loadVarsFile(f)
			if err != nil {
				return err
			}
			if data == nil {
				continue
			}
			if vars == nil {
				vars = map[string]any{}
			}
			for k, v := range data {
				vars[k] = v
			}
		}
		if vars != nil {
			into[name] = vars
		}
	}
	return nil
}

// findVarsFiles is DataLoader.find_vars_files: the first of base, base.yml, base.yaml and
// base.json that exists; a directory gives all its vars files, recursively.
func findVarsFiles(base string) ([]string, error) {
	for _, ext := range varsExtensions {
		fi, err := os.Stat(base + ext)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			return dirVarsFiles(base + ext)
		}
		return []string{base + ext}, nil
	}
	return nil, nil
}

// dirVarsFiles lists the vars files in dir, sorted, skipping hidden and backup (~) files;
// subdirectories without an extension are searched too.
func dirVarsFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("vars directory: %w", err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
			continue
		}
		full := filepath.Join(dir, name)
		ext := pyExt(name)
		fi, err := os.Stat(full)
		switch {
		case err != nil:
			continue
		case fi.IsDir() && ext == "":
			sub, err := dirVarsFiles(full)
			if err != nil {
				return nil, err
			}
			files = append(files, sub...)
		case fi.Mode().IsRegular() && isVarsExt(ext):
			files = append(files, full)
		}
	}
	return files, nil
}

func isVarsExt(ext string) bool {
	for _, e := range varsExtensions {
		if e == ext {
			return true
		}
	}
	return false
}

// pyExt is Python's os.path.splitext(path)[1]: leading dots of the name do not start an
// extension.
func pyExt(path string) string {
	return filepath.Ext(strings.TrimLeft(filepath.Base(path), "."))
}

// loadVarsFile reads a vars file, which must hold a mapping; an empty one gives nil.
func (inv *Inventory) loadVarsFile(path string) (map[string]any, error) {
	v, ok := inv.files[path]
	if !ok {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &ParseError{File: path, Err: err}
		}
		if v, err = loadData(path, data, func(msg string) { inv.warnf("%s", msg) }, inv.vault); err != nil {
			return nil, err
		}
		inv.files[path] = v
	}
	if !truthy(v) {
		return nil, nil
	}
	m, ok := v.(*omap)
	if !ok {
		return nil, &ParseError{File: path, Err: fmt.Errorf("failed to combine variables, expected dicts but got a '%s'", pytext.TypeName(plain(v)))}
	}
	return plain(m).(map[string]any), nil
}

// truthy is Python's truth value of a loaded value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case int:
		return v != 0
	case float64:
		return v != 0
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case *omap:
		return len(v.keys) > 0
	}
	return true
}

// AddVarsDir adds the group_vars/ and host_vars/ found in dir (a playbook's directory).
// Their variables override those next to the inventory; a later call overrides an
// earlier one. Call it before using the Inventory concurrently.
func (inv *Inventory) AddVarsDir(dir string) error {
	d, err := inv.loadVarsDir(dir)
	if err != nil {
		return err
	}
	inv.playDirs = append(inv.playDirs, d)
	inv.refreshVars()
	return nil
}

// refreshVars recomputes Group.Vars and Host.Vars from the inventory and the vars files.
func (inv *Inventory) refreshVars() {
	for _, g := range inv.groups {
		g.Vars = mergeVars(append([]map[string]any{g.inline}, inv.dirVars(func(d *varsDir) map[string]any { return d.groups[g.Name] })...)...)
	}
	for _, h := range inv.hosts {
		inv.refreshHostVars(h)
	}
	if inv.localhost != nil && inv.localhost.Implicit {
		inv.refreshHostVars(inv.localhost)
	}
}

func (inv *Inventory) refreshHostVars(h *Host) {
	h.Vars = mergeVars(append([]map[string]any{h.inline}, inv.dirVars(func(d *varsDir) map[string]any { return d.hosts[h.Name] })...)...)
}

// dirVars returns what get gives for each vars directory, inventory ones first.
func (inv *Inventory) dirVars(get func(*varsDir) map[string]any) []map[string]any {
	var out []map[string]any
	for _, dirs := range [][]*varsDir{inv.invDirs, inv.playDirs} {
		for _, d := range dirs {
			out = append(out, get(d))
		}
	}
	return out
}

// mergeVars is Ansible's combine_vars with hash_behaviour=replace: later maps override
// earlier ones key by key.
func mergeVars(maps ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// HostVars returns the variables the inventory gives h, merged with Ansible's precedence
// (VariableManager.get_vars, lowest first):
//
//   - the all group's inventory variables, then those of h's other groups, by depth
//     (parents before children), then ansible_group_priority, then name;
//   - group_vars/all next to the inventory, then next to the playbook (AddVarsDir);
//   - group_vars/ of h's other groups, same order, next to the inventory then the playbook;
//   - h's inventory variables and Ansible's host magic variables inventory_hostname,
//     inventory_hostname_short and group_names;
//   - host_vars/ next to the inventory, then next to the playbook.
//
// The map is new, but the values in it are shared with the Inventory: do not modify them.
func (inv *Inventory) HostVars(h *Host) map[string]any {
	if h == nil {
		return nil
	}
	all := inv.groupIndex["all"]
	var groups []*Group
	for _, g := range h.groups {
		if g != all {
			groups = append(groups, g)
		}
	}
	sortGroups(groups)

	layers := []map[string]any{all.inline}
	for _, g := range groups {
		layers = append(layers, g.inline)
	}
	layers = append(layers, inv.dirVars(func(d *varsDir) map[string]any { return d.groups["all"] })...)
	for _, dirs := range [][]*varsDir{inv.invDirs, inv.playDirs} {
		for _, d := range dirs {
			for _, g := range groups {
				layers = append(layers, d.groups[g.Name])
			}
		}
	}
	layers = append(layers, h.inline, map[string]any{
		"inventory_hostname":       h.Name,
		"inventory_hostname_short": shortName(h.Name),
		"group_names":              stringsToAny(h.GroupNames()),
	})
	layers = append(layers, inv.dirVars(func(d *varsDir) map[string]any { return d.hosts[h.Name] })...)
	return mergeVars(layers...)
}

// sortGroups is Ansible's sort_groups: by depth, priority, then name.
func sortGroups(groups []*Group) {
	slices.SortFunc(groups, func(a, b *Group) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), cmp.Compare(a.Priority, b.Priority), strings.Compare(a.Name, b.Name))
	})
}

// shortName is inventory_hostname_short: the name up to its first dot, unless it is an IP
// address.
func shortName(name string) string {
	if isIPAddress(name) {
		return name
	}
	short, _, _ := strings.Cut(name, ".")
	return short
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}
