package playbook

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// ansibleModules are the modules of ansible-core 2.14 (ansible.builtin): a task naming one that
// tally lacks is told so, rather than that the name may be misspelt.
var ansibleModules = map[string]bool{}

func init() {
	for _, name := range []string{
		"add_host", "apt", "apt_key", "apt_repository", "assemble", "assert", "async_status",
		"blockinfile", "command", "copy", "cron", "debconf", "debug", "dnf", "dpkg_selections",
		"expect", "fail", "fetch", "file", "find", "gather_facts", "get_url", "getent", "git",
		"group", "group_by", "hostname", "import_playbook", "import_role", "import_tasks",
		"include_role", "include_tasks", "include_vars", "iptables", "known_hosts", "lineinfile",
		"meta", "package", "package_facts", "pause", "ping", "pip", "raw", "reboot", "replace",
		"rpm_key", "script", "service", "service_facts", "set_fact", "set_stats", "setup", "shell",
		"slurp", "stat", "subversion", "systemd", "systemd_service", "sysvinit", "tempfile",
		"template", "unarchive", "uri", "user", "validate_argument_spec", "wait_for",
		"wait_for_connection", "yum", "yum_repository",
		"synchronize", // ansible.posix's, usually written without its collection
	} {
		ansibleModules[name] = true
	}
}

// isAnsibleModule reports whether name is a module of Ansible that tally does not have: one of
// ansible.builtin's, or any collection's by its full name (namespace.collection.module).
func isAnsibleModule(name string) bool {
	if short, ok := strings.CutPrefix(name, "ansible.builtin."); ok {
		return ansibleModules[short]
	}
	return ansibleModules[name] || strings.Count(name, ".") >= 2
}

// unsupportedModule is the error for a task whose action is a module of Ansible's that tally
// does not have.
func (d *doc) unsupportedModule(n *yaml.Node, name string) error {
	return d.errorf(n, "tally does not support module '%s' yet (see docs/modules.md)", name)
}
