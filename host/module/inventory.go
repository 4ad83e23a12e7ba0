package module

import (
	"context"
	"errors"
	"maps"
	"strings"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/internal/pytext"
)

// runAddHost is Ansible's add_host action: it names the host to add, its groups and variables
// under "add_host"; the executor changes the inventory between tasks, and says in "changed"
// whether it did.
func runAddHost(_ context.Context, _ *Task, args map[string]any) (Result, error) {
	if raw, ok := args["_raw_params"]; ok {
		m, isMap := raw.(map[string]any)
		if !isMap {
			return fail("Invalid raw parameters passed, requires a dictonary/mapping got a  " + pytext.TypeName(raw)), nil
		}
		// add_host: "{{ d }}": the mapping's keys, under the task's own (combine_vars)
		merged := maps.Clone(m)
		for k, v := range args {
			if k != "_raw_params" {
				merged[k] = v
			}
		}
		args = merged
	}
	var newName any
	for _, k := range []string{"name", "hostname", "host"} {
		if v, ok := args[k]; ok {
			newName = v
			break
		}
	}
	if newName == nil {
		return fail("name, host or hostname needs to be provided"), nil
	}
	name, port, err := inventory.ParseAddress(pytext.Str(newName))
	if err != nil {
		name, port = pytext.Str(newName), 0 // as Ansible: maybe still usable
	}
	vars := map[string]any{}
	for k, v := range args {
		switch k {
		case "name", "hostname", "groupname", "groups", "_raw_params":
		default:
			vars[k] = v
		}
	}
	if port > 0 {
		vars["ansible_ssh_port"] = port
	}
	var groups any = ""
	for _, k := range []string{"groupname", "groups", "group"} {
		if v, ok := args[k]; ok {
			groups = v
			break
		}
	}
	var list []any
	switch g := groups.(type) {
	case []any:
		list = g
	case string:
		if g != "" {
			for _, s := range strings.Split(g, ",") {
				list = append(list, s)
			}
		}
	default:
		return fail("Groups must be specified as a list."), nil
	}
	var names []any
	for _, g := range list {
		s := strings.TrimSpace(pytext.Str(g))
		if !containsAny(names, s) {
			names = append(names, s)
		}
	}
	return Result{"changed": false, "add_host": map[string]any{"host_name": name, "groups": names, "host_vars": vars}}, nil
}

func containsAny(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// runGroupBy is Ansible's group_by action: it names the group to put the host in, and its
// parents, under "add_group" and "parent_groups"; the executor changes the inventory.
func runGroupBy(_ context.Context, _ *Task, args map[string]any) (Result, error) {
	if err := checkValidArgs("group_by", args, "key", "parents"); err != nil {
		return nil, err
	}
	key, ok := args["key"]
	if !ok {
		return fail("the 'key' param is required when using group_by"), nil
	}
	if key == nil {
		return nil, errors.New("group_by: key must not be null")
	}
	var parents []any
	switch p := args["parents"].(type) {
	case nil:
		parents = []any{"all"}
	case []any:
		parents = p
	default:
		parents = []any{p}
	}
	out := make([]any, len(parents))
	for i, p := range parents {
		out[i] = strings.ReplaceAll(pytext.Str(p), " ", "-")
	}
	return Result{"changed": false, "add_group": strings.ReplaceAll(pytext.Str(key), " ", "-"), "parent_groups": out}, nil
}
