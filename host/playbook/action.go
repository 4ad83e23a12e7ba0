package playbook

import (
	"maps"
	"strings"

	"github.com/tallyrun/tally/host/module"
	"gopkg.in/yaml.v3"
)

// This file ports ansible/parsing/mod_args.py: finding a task's action among its keys and
// normalising the many ways of writing its arguments.

// parserActions are the actions the parser handles itself rather than a module.
var parserActions = map[string]bool{
	"include_tasks": true, "import_tasks": true, "import_playbook": true, "meta": true,
	"include_role": true, "import_role": true, "include_vars": true,
}

// unsupportedActions are Ansible's parser-level actions that tally does not have, with why.
var unsupportedActions = map[string]string{
	"include": "tally does not support 'include' (deprecated in Ansible); use include_tasks or import_tasks",
}

// rawParamActions take free-form text besides the free-form modules (RAW_PARAM_MODULES).
var rawParamActions = map[string]bool{"set_fact": true, "meta": true, "include_tasks": true, "import_tasks": true,
	"include_vars": true, "include_role": true, "import_role": true, "add_host": true, "group_by": true}

// cmdActions take their command as a "cmd" argument too.
var cmdActions = map[string]bool{"command": true, "shell": true, "script": true}

// isAction reports whether name is an action tally knows.
func isAction(name string) bool {
	c := module.Canonical(name)
	if parserActions[c] || unsupportedActions[c] != "" {
		return true
	}
	_, ok := module.Lookup(name)
	return ok
}

func freeForm(name string) bool {
	s, ok := module.Lookup(name)
	return ok && s.FreeForm
}

// action is a task's parsed action.
type action struct {
	name  string // as written
	key   string // the task key naming it: the module, "action" or "local_action"
	args  map[string]any
	local bool // local_action: delegate to localhost
}

// nonAttributes returns the task keys that are no task keyword: the candidates for a module.
func nonAttributes(ps []pair) []pair {
	var out []pair
	for _, p := range ps {
		if !ansibleHandlerKeys[p.key] && p.key != "static" && !strings.HasPrefix(p.key, "with_") {
			out = append(out, p)
		}
	}
	return out
}

// parseAction finds the action of task n (keys ps) and its arguments, as ModuleArgsParser.
func (d *doc) parseAction(n *yaml.Node, ps []pair) (action, error) {
	get := func(key string) *yaml.Node {
		for _, p := range ps {
			if p.key == key {
				return p.v
			}
		}
		return nil
	}
	extra, err := d.extraArgs(get("args"))
	if err != nil {
		return action{}, err
	}
	var a action
	if v := get("action"); v != nil {
		if a.name, a.args, err = d.normalize(v, "", extra); err != nil {
			return a, err
		}
	}
	if v := get("local_action"); v != nil {
		if a.name != "" {
			return a, d.errorf(n, "action and local_action are mutually exclusive")
		}
		if a.name, a.args, err = d.normalize(v, "", extra); err != nil {
			return a, err
		}
		a.local = true
	}
	// A templated module name is resolved when the task runs, as Ansible's post_validate
	// templates the action.
	if a.name != "" && !isAction(a.name) && !isTemplate(a.name) {
		return a, d.unresolved(n, a.name)
	}
	others := nonAttributes(ps)
	for _, p := range others {
		if !isAction(p.key) {
			continue
		}
		if a.name != "" {
			return a, d.errorf(p.k, "conflicting action statements: %s, %s", a.name, p.key)
		}
		if a.name, a.args, err = d.normalize(p.v, p.key, extra); err != nil {
			return a, err
		}
		a.key = p.key
	}
	switch {
	case a.name == "" && len(others) > 0:
		for _, p := range others {
			if isAnsibleModule(p.key) {
				return a, d.unsupportedModule(p.k, p.key)
			}
		}
		return a, d.unresolved(others[0].k, others[0].key)
	case a.name == "":
		return a, d.errorf(n, "no module/action detected in task.")
	}
	canonical := module.Canonical(a.name)
	if canonical == "import_playbook" {
		return a, d.errorf(n, "import_playbook must be a playbook entry, not a task")
	}
	if raw, ok := a.args["_raw_params"]; ok && raw != "" && !freeForm(a.name) && !rawParamActions[canonical] {
		s, ok := raw.(string)
		if !ok || !isTemplate(s) {
			return a, d.errorf(n, "this task '%s' has extra params, which is only allowed in the following modules: "+
				"command, shell, raw, script, set_fact, meta, include_tasks, import_tasks", a.name)
		}
		delete(a.args, "_raw_params")
		a.args["_variable_params"] = s
	}
	if cmd, ok := a.args["cmd"]; ok && cmdActions[canonical] {
		if raw, ok := a.args["_raw_params"]; ok && raw != "" {
			return a, d.errorf(n, "The 'cmd' argument cannot be used when other raw parameters are specified. "+
				"Please put everything in one or the other place.")
		}
		delete(a.args, "cmd")
		a.args["_raw_params"] = cmd
	}
	return a, nil
}

func (d *doc) unresolved(n *yaml.Node, name string) error {
	if isAnsibleModule(name) {
		return d.unsupportedModule(n, name)
	}
	return d.errorf(n, "couldn't resolve module/action '%s'. This often indicates a misspelling, "+
		"missing collection, or incorrect module path.", name)
}

// extraArgs reads the args keyword: defaults that the action's own arguments override.
func (d *doc) extraArgs(n *yaml.Node) (map[string]any, error) {
	if n == nil {
		return nil, nil
	}
	v, err := d.value(n, 0)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return v, nil
	case string:
		if v == "" {
			return nil, nil
		}
		if isTemplate(v) {
			return map[string]any{"_variable_params": v}, nil
		}
		return nil, d.errorf(n, "Complex args containing variables cannot use bare variables (without Jinja2 delimiters), "+
			"and must use the full variable style ('{{var_name}}')")
	}
	return nil, d.errorf(n, "Complex args must be a dictionary or variable string (\"{{var}}\").")
}

// normalize reads an action's arguments from thing. With name empty, thing is the value of
// action or local_action, which names the module too ("shell echo hi", {module: copy, ...}).
func (d *doc) normalize(thing *yaml.Node, name string, extra map[string]any) (string, map[string]any, error) {
	v, err := d.value(thing, 0)
	if err != nil {
		return "", nil, err
	}
	var args map[string]any
	if name != "" {
		switch v := v.(type) {
		case nil:
		case map[string]any:
			args = v
		case string:
			args, err = parseKV(v, freeForm(name))
		default:
			err = d.errorf(thing, "unexpected parameter type in action '%s': got a %s, want a mapping or a string", name, kindName(thing))
		}
	} else {
		name, args, err = d.oldStyle(thing, v)
		if err == nil {
			err = d.mergeNestedArgs(thing, args)
		}
	}
	if err != nil {
		return "", nil, d.argError(thing, err)
	}
	if !freeForm(name) {
		for k := range args {
			if strings.HasPrefix(k, "_ansible_") {
				return "", nil, d.errorf(thing, "invalid parameter specified for action '%s': '%s'", name, k)
			}
		}
	}
	final := maps.Clone(extra)
	if final == nil {
		final = map[string]any{}
	}
	maps.Copy(final, args)
	return name, final, nil
}

// argError places an error from splitting an argument string at thing.
func (d *doc) argError(thing *yaml.Node, err error) error {
	if _, ok := err.(*Error); ok {
		return err
	}
	return d.errorf(thing, "%v", err)
}

// oldStyle reads the value of action or local_action.
func (d *doc) oldStyle(thing *yaml.Node, v any) (string, map[string]any, error) {
	switch v := v.(type) {
	case map[string]any:
		mod, ok := v["module"]
		if !ok {
			return "", nil, nil
		}
		s, ok := mod.(string)
		if !ok {
			return "", nil, d.errorf(thing, "the module of an action must be a string")
		}
		name, rest, err := splitModule(s)
		if err != nil {
			return "", nil, err
		}
		args := maps.Clone(v)
		delete(args, "module")
		kv, err := parseKV(rest, freeForm(name))
		maps.Copy(args, kv)
		return name, args, err
	case string:
		name, rest, err := splitModule(v)
		if err != nil {
			return "", nil, err
		}
		args, err := parseKV(rest, freeForm(name))
		return name, args, err
	}
	return "", nil, d.errorf(thing, "unexpected parameter type in action: got a %s, want a mapping or a string", kindName(thing))
}

// mergeNestedArgs merges an "args" key inside an action mapping into args.
func (d *doc) mergeNestedArgs(thing *yaml.Node, args map[string]any) error {
	nested, ok := args["args"]
	if !ok {
		return nil
	}
	delete(args, "args")
	switch nested := nested.(type) {
	case string:
		kv, err := parseKV(nested, false)
		maps.Copy(args, kv)
		return err
	case map[string]any:
		maps.Copy(args, nested)
		return nil
	}
	return d.errorf(thing, "the args of an action must be a mapping or a k=v string")
}

// splitModule splits "copy src=a dest=b" into the module name and its argument string.
func splitModule(s string) (name, rest string, err error) {
	tokens, err := splitArgs(s)
	if err != nil {
		return "", "", err
	}
	if len(tokens) == 0 || strings.TrimSpace(tokens[0]) == "" {
		return "", "", errNoModule
	}
	return strings.TrimSpace(tokens[0]), strings.Join(tokens[1:], " "), nil
}
