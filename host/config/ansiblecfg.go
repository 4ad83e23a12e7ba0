package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/pluginsdk/meta"
)

// This file reads Ansible's own configuration: ansible.cfg and the ANSIBLE_* environment
// variables, for the settings that map onto tally's. They are the lowest layer, below tally's
// configuration file (see Under): a project that runs ansible-playbook today runs tally the same
// way.

// ansibleSetting is one of Ansible's settings that tally reads (config/base.yml): where Ansible
// reads it, and what it sets in a Config. As Ansible, an environment variable beats the file,
// and of several names the last one set wins.
type ansibleSetting struct {
	ini []string // "section.key"
	env []string
	set func(c *Config, v value) error
}

// value is one setting's text and where it came from: relative paths are relative to dir.
type value struct {
	text, source, dir string
}

func (v value) path() string {
	p := os.ExpandEnv(meta.ExpandHome(strings.TrimSpace(v.text)))
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(v.dir, p)
}

// paths splits a list of paths on sep, as Ansible's pathlist (",") and pathspec (":").
func (v value) paths(sep string) []string {
	var out []string
	for _, p := range strings.Split(v.text, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, value{p, v.source, v.dir}.path())
		}
	}
	return out
}

func (v value) bool() (*bool, error) {
	b, ok := ParseBool(v.text)
	if !ok {
		return nil, fmt.Errorf("%s: %q: want true or false", v.source, v.text)
	}
	return &b, nil
}

func (v value) int() (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v.text))
	if err != nil {
		return 0, fmt.Errorf("%s: %q: want a whole number", v.source, v.text)
	}
	return n, nil
}

// str is a setting's text without Ansible's optional quotes.
func (v value) str() string {
	s := strings.TrimSpace(v.text)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	return s
}

// names splits a comma-separated list of plugins; a collection's plugin (ansible.posix.timer)
// is named by its last part, as tally's plugins are.
func (v value) names() []string {
	var out []string
	for _, s := range strings.Split(v.text, ",") {
		if s = pluginName(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func pluginName(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, ".")+1:]
}

// ansibleSettings are the settings of Ansible that tally reads, with their names in
// ansible.cfg and the environment.
var ansibleSettings = []ansibleSetting{
	{[]string{"defaults.inventory", "defaults.hostfile"}, []string{"ANSIBLE_INVENTORY"},
		func(c *Config, v value) error { c.Inventory = v.paths(","); return nil }},
	{[]string{"defaults.forks"}, []string{"ANSIBLE_FORKS"}, func(c *Config, v value) (err error) {
		if c.Forks, err = v.int(); err == nil && c.Forks < 1 {
			err = fmt.Errorf("%s: forks %d: must be >= 1", v.source, c.Forks)
		}
		return err
	}},
	{[]string{"defaults.remote_user"}, []string{"ANSIBLE_REMOTE_USER"},
		func(c *Config, v value) error { c.RemoteUser = v.str(); return nil }},
	{[]string{"defaults.transport"}, []string{"ANSIBLE_TRANSPORT"},
		func(c *Config, v value) error { c.Connection = v.str(); return nil }},
	{[]string{"defaults.host_key_checking", "ssh_connection.host_key_checking"}, []string{"ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"},
		func(c *Config, v value) (err error) { c.HostKeyChecking, err = v.bool(); return err }},
	{[]string{"defaults.timeout", "ssh_connection.timeout"}, []string{"ANSIBLE_TIMEOUT", "ANSIBLE_SSH_TIMEOUT"},
		func(c *Config, v value) (err error) {
			if c.Timeout, err = ParseDuration(v.text); err != nil {
				err = fmt.Errorf("%s: timeout %q: %w", v.source, v.text, err)
			}
			return err
		}},
	{[]string{"defaults.private_key_file"}, []string{"ANSIBLE_PRIVATE_KEY_FILE"},
		func(c *Config, v value) error { c.PrivateKeyFile = v.path(); return nil }},
	{[]string{"ssh_connection.ssh_common_args"}, []string{"ANSIBLE_SSH_COMMON_ARGS"},
		func(c *Config, v value) error { c.SSHCommonArgs = v.str(); return nil }},
	{[]string{"ssh_connection.ssh_extra_args"}, []string{"ANSIBLE_SSH_EXTRA_ARGS"},
		func(c *Config, v value) error { c.SSHExtraArgs = v.str(); return nil }},
	{[]string{"defaults.roles_path"}, []string{"ANSIBLE_ROLES_PATH"},
		func(c *Config, v value) error { c.RolesPath = v.paths(":"); return nil }},
	{[]string{"privilege_escalation.become"}, []string{"ANSIBLE_BECOME"},
		func(c *Config, v value) (err error) { c.Become, err = v.bool(); return err }},
	{[]string{"privilege_escalation.become_user"}, []string{"ANSIBLE_BECOME_USER"},
		func(c *Config, v value) error { c.BecomeUser = v.str(); return nil }},
	{[]string{"privilege_escalation.become_method"}, []string{"ANSIBLE_BECOME_METHOD"},
		func(c *Config, v value) error { c.BecomeMethod = v.str(); return nil }},
	{[]string{"defaults.stdout_callback"}, []string{"ANSIBLE_STDOUT_CALLBACK"},
		func(c *Config, v value) error { c.StdoutCallback = pluginName(v.str()); return nil }},
	{[]string{"defaults.callback_whitelist", "defaults.callbacks_enabled"}, []string{"ANSIBLE_CALLBACK_WHITELIST", "ANSIBLE_CALLBACKS_ENABLED"},
		func(c *Config, v value) error { c.CallbacksEnabled = v.names(); return nil }},
	{[]string{"defaults.ansible_managed"}, nil,
		func(c *Config, v value) error { c.AnsibleManaged = v.str(); return nil }},
}

// FindAnsible returns the ansible.cfg that Ansible would read, the first of: $ANSIBLE_CONFIG
// (a file, or a directory holding ansible.cfg), ./ansible.cfg unless the current directory is
// world-writable (skipped with a warning, as Ansible does), ~/.ansible.cfg,
// /etc/ansible/ansible.cfg; "" when none exists.
func FindAnsible(getenv func(string) string, warn func(string)) string {
	var candidates []string
	if p := getenv("ANSIBLE_CONFIG"); p != "" {
		p = meta.ExpandHome(p)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, "ansible.cfg")
		}
		candidates = append(candidates, p)
	}
	if cwd, err := os.Getwd(); err == nil {
		p := filepath.Join(cwd, "ansible.cfg")
		if st, err := os.Stat(cwd); err == nil && st.Mode().Perm()&0o002 != 0 {
			if exists(p) {
				warn(fmt.Sprintf("tally is ignoring %s: the current directory is world-writable", p))
			}
		} else {
			candidates = append(candidates, p)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".ansible.cfg"))
	}
	candidates = append(candidates, "/etc/ansible/ansible.cfg")
	for _, p := range candidates {
		if exists(p) {
			return p
		}
	}
	return ""
}

// ReadAnsible reads Ansible's settings that tally knows from the environment and the
// ansible.cfg FindAnsible finds, warning once, with its file and line, about each key of the
// file that tally ignores.
func ReadAnsible(getenv func(string) string, warn func(string)) (*Config, error) {
	c := &Config{}
	ini := map[string]value{}
	if p := FindAnsible(getenv, warn); p != "" {
		var err error
		if ini, err = loadINI(p, warn); err != nil {
			return nil, err
		}
		c.AnsiblePath = p
	}
	cwd, _ := os.Getwd()
	for _, s := range ansibleSettings {
		var v *value
		for _, key := range s.ini {
			if iv, ok := ini[key]; ok {
				v = &iv
			}
		}
		for _, name := range s.env {
			if text, ok := lookup(getenv, name); ok {
				v = &value{text: text, source: name, dir: cwd}
			}
		}
		if v != nil {
			if err := s.set(c, *v); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// lookup returns an environment variable that is set and not empty.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// loadINI reads an ansible.cfg as Python's configparser does with Ansible's options: [section]
// headers, key = value or key: value, # and ; comments, ; after a space ends a value, indented
// lines continue it. It returns the keys tally reads by "section.key" and warns about the others.
func loadINI(path string, warn func(string)) (map[string]value, error) {
	data, dir, err := readFile(path, "ansible configuration")
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, s := range ansibleSettings {
		for _, k := range s.ini {
			known[k] = true
		}
	}
	out := map[string]value{}
	var section, last string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		source := fmt.Sprintf("%s:%d", path, n)
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case line[0] == ' ' || line[0] == '\t':
			if v, ok := out[last]; ok { // a continuation line
				v.text += "\n" + stripComment(trimmed)
				out[last] = v
			}
			continue
		case trimmed[0] == '[':
			if !strings.HasSuffix(trimmed, "]") {
				return nil, fmt.Errorf("%s: want a [section] header", source)
			}
			section, last = strings.TrimSpace(trimmed[1:len(trimmed)-1]), ""
			continue
		}
		i := strings.IndexAny(trimmed, "=:")
		if i < 0 || section == "" {
			return nil, fmt.Errorf("%s: want key = value in a [section]", source)
		}
		key := section + "." + strings.ToLower(strings.TrimSpace(trimmed[:i]))
		if !known[key] {
			warn(fmt.Sprintf("%s: tally ignores %s in [%s]", source, strings.TrimSpace(trimmed[:i]), section))
			last = ""
			continue
		}
		out[key], last = value{text: stripComment(strings.TrimSpace(trimmed[i+1:])), source: source, dir: dir}, key
	}
	return out, sc.Err()
}

// stripComment removes an inline comment: ; after whitespace (configparser's
// inline_comment_prefixes, as Ansible sets it).
func stripComment(s string) string {
	for i := 1; i < len(s); i++ {
		if s[i] == ';' && (s[i-1] == ' ' || s[i-1] == '\t') {
			return strings.TrimSpace(s[:i])
		}
	}
	return s
}

// Under fills the settings c leaves unset from lower, a lower layer (Ansible's settings).
func (c *Config) Under(lower *Config) {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&c.StdoutCallback, lower.StdoutCallback)
	fill(&c.RemoteUser, lower.RemoteUser)
	fill(&c.Connection, lower.Connection)
	fill(&c.PrivateKeyFile, lower.PrivateKeyFile)
	fill(&c.SSHCommonArgs, lower.SSHCommonArgs)
	fill(&c.SSHExtraArgs, lower.SSHExtraArgs)
	fill(&c.BecomeUser, lower.BecomeUser)
	fill(&c.BecomeMethod, lower.BecomeMethod)
	fill(&c.AnsibleManaged, lower.AnsibleManaged)
	fill(&c.AnsiblePath, lower.AnsiblePath)
	if c.CallbacksEnabled == nil {
		c.CallbacksEnabled = lower.CallbacksEnabled
	}
	if c.Inventory == nil {
		c.Inventory = lower.Inventory
	}
	if c.RolesPath == nil {
		c.RolesPath = lower.RolesPath
	}
	if c.HostKeyChecking == nil {
		c.HostKeyChecking = lower.HostKeyChecking
	}
	if c.Become == nil {
		c.Become = lower.Become
	}
	if c.Forks == 0 {
		c.Forks = lower.Forks
	}
	if c.Timeout == 0 {
		c.Timeout = lower.Timeout
	}
}
