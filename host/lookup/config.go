package lookup

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/internal/pypath"
)

// setting is one Ansible configuration key the config lookup knows: its environment
// variable and default (ansible/config/base.yml), and its type.
type setting struct {
	env  string
	def  any
	kind string // "str", "bool", "int", "list", "path"
}

// settings are the keys of Ansible's configuration tally reads or that playbooks commonly ask
// for.
var settings = map[string]setting{
	"DEFAULT_BECOME":              {"ANSIBLE_BECOME", false, "bool"},
	"DEFAULT_BECOME_METHOD":       {"ANSIBLE_BECOME_METHOD", "sudo", "str"},
	"DEFAULT_BECOME_USER":         {"ANSIBLE_BECOME_USER", "root", "str"},
	"DEFAULT_FORKS":               {"ANSIBLE_FORKS", 5, "int"},
	"DEFAULT_REMOTE_USER":         {"ANSIBLE_REMOTE_USER", nil, "str"},
	"DEFAULT_ROLES_PATH":          {"ANSIBLE_ROLES_PATH", []any{"~/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"}, "pathlist"},
	"DEFAULT_STDOUT_CALLBACK":     {"ANSIBLE_STDOUT_CALLBACK", "default", "str"},
	"DEFAULT_TIMEOUT":             {"ANSIBLE_TIMEOUT", 10, "int"},
	"DEFAULT_TRANSPORT":           {"ANSIBLE_TRANSPORT", "smart", "str"},
	"DEFAULT_VAULT_IDENTITY":      {"ANSIBLE_VAULT_IDENTITY", "default", "str"},
	"DEFAULT_VAULT_IDENTITY_LIST": {"ANSIBLE_VAULT_IDENTITY_LIST", []any{}, "list"},
	"DEFAULT_VAULT_PASSWORD_FILE": {"ANSIBLE_VAULT_PASSWORD_FILE", nil, "path"},
	"HOST_KEY_CHECKING":           {"ANSIBLE_HOST_KEY_CHECKING", true, "bool"},
	"DEFAULT_HASH_BEHAVIOUR":      {"ANSIBLE_HASH_BEHAVIOUR", "replace", "str"},
	"DEFAULT_JINJA2_NATIVE":       {"ANSIBLE_JINJA2_NATIVE", false, "bool"},
	"RETRY_FILES_ENABLED":         {"ANSIBLE_RETRY_FILES_ENABLED", false, "bool"},
	"COLOR_OK":                    {"ANSIBLE_COLOR_OK", "green", "str"},
	"COLOR_CHANGED":               {"ANSIBLE_COLOR_CHANGED", "yellow", "str"},
	"COLOR_ERROR":                 {"ANSIBLE_COLOR_ERROR", "red", "str"},
	"COLOR_SKIP":                  {"ANSIBLE_COLOR_SKIP", "cyan", "str"},
	"ANSIBLE_NOCOLOR":             {"ANSIBLE_NOCOLOR", false, "bool"},
	"ANSIBLE_COW_ACCEPTLIST": {"ANSIBLE_COW_ACCEPTLIST", []any{"bud-frogs", "bunny", "cheese", "daemon", "default", "dragon",
		"elephant-in-snake", "elephant", "eyes", "hellokitty", "kitty", "luke-koala", "meow", "milk", "moofasa", "moose",
		"ren", "sheep", "small", "stegosaurus", "stimpy", "supermilker", "three-eyes", "turkey", "turtle", "tux", "udder",
		"vader-koala", "vader", "www"}, "list"},
}

// configLookup returns the values of Ansible configuration keys tally knows (settings),
// from the environment or Ansible's defaults; ansible.cfg is not read.
func configLookup(c *call, terms []any) ([]any, error) {
	if err := c.strictOpts("on_missing", "plugin_type", "plugin_name"); err != nil {
		return nil, err
	}
	missing, ok := c.opt("on_missing", "error").(string)
	if !ok || (missing != "error" && missing != "warn" && missing != "skip") {
		return nil, &OptionsError{Msg: fmt.Sprintf("Invalid value \"%v\" for configuration option \"on_missing\", valid values are: ['error', 'warn', 'skip']", c.opt("on_missing", nil))}
	}
	ptype, pname := c.opt("plugin_type", nil), c.opt("plugin_name", nil)
	if (ptype != nil) != (pname != nil) {
		return nil, &OptionsError{Msg: "Both plugin_type and plugin_name are required, cannot use one without the other"}
	}
	var plugin map[string]pluginSetting
	if ptype != nil {
		if plugin, ok = pluginSettings[fmt.Sprintf("%v/%v", ptype, pname)]; !ok {
			return nil, &OptionsError{Msg: fmt.Sprintf("tally's config lookup knows no settings of the %v plugin %v", ptype, pname)}
		}
	}
	out := []any{}
	for _, t := range terms {
		key, ok := t.(string)
		if !ok {
			return nil, &OptionsError{Msg: fmt.Sprintf("Invalid setting identifier, \"%v\" is not a string, its a %T", t, t)}
		}
		if plugin != nil {
			ps, ok := plugin[key]
			if !ok {
				if missing == "error" {
					return nil, &Error{Msg: "Unable to find setting " + key}
				}
				continue
			}
			v, err := c.pluginValue(ps)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		if constantsFuncs[key] {
			return nil, &Error{Msg: fmt.Sprintf("Invalid setting \"%s\" attempted", key)}
		}
		s, ok := settings[key]
		if !ok {
			switch missing {
			case "error":
				return nil, &Error{Msg: "Unable to find setting " + key}
			case "warn":
				c.r.warn("Skipping, did not find setting " + key)
			}
			continue
		}
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// constantsFuncs are the callables of Ansible's constants module, which its config lookup
// refuses as settings.
var constantsFuncs = map[string]bool{"ConfigManager": true, "Sequence": true, "add_internal_fqcns": true,
	"set_constant": true, "to_text": true}

// pluginSetting is a setting of a connection or shell plugin: the variables that set it
// (the last one defined wins, as Ansible's variable sources) and its default.
type pluginSetting struct {
	vars []string
	def  any
	int  bool
}

// pluginSettings are the plugin settings the config lookup knows, by "type/name".
var pluginSettings = map[string]map[string]pluginSetting{
	"connection/ssh": {
		"remote_user": {vars: []string{"ansible_user", "ansible_ssh_user"}},
		"port":        {vars: []string{"ansible_port", "ansible_ssh_port"}, int: true},
		"host":        {vars: []string{"inventory_hostname", "ansible_host", "ansible_ssh_host"}},
	},
	"shell/sh": {
		"remote_tmp": {vars: []string{"ansible_remote_tmp"}, def: "~/.ansible/tmp"},
	},
}

func (c *call) pluginValue(ps pluginSetting) (any, error) {
	v := ps.def
	for _, name := range ps.vars {
		raw, ok := c.vars[name]
		if !ok {
			continue
		}
		r, err := c.render(raw)
		if err != nil {
			return nil, err
		}
		v = r
	}
	if ps.int && v != nil {
		n, err := strconv.Atoi(fmt.Sprint(v))
		if err != nil {
			return nil, fmt.Errorf("Invalid type for configuration option port: %v", v)
		}
		v = n
	}
	return v, nil
}

func (s setting) value() (any, error) {
	raw, ok := os.LookupEnv(s.env)
	if !ok {
		return s.def, nil
	}
	switch s.kind {
	case "bool":
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "y", "yes", "on", "1", "true", "t":
			return true, nil
		}
		return false, nil
	case "int":
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("Invalid type for configuration option setting: %s : %s", s.env, raw)
		}
		return n, nil
	case "list":
		out := []any{}
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case "pathlist":
		out := []any{}
		for _, p := range strings.Split(raw, ":") {
			if p != "" {
				out = append(out, pypath.ExpandUser(p))
			}
		}
		return out, nil
	case "path":
		return pypath.ExpandUser(raw), nil
	}
	return raw, nil
}
