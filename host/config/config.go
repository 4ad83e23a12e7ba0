// Package config reads tally's configuration file (docs/configuration.md). Settings there are
// the lowest layer above tally's defaults: environment variables override them, and command
// line flags override those.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tallyrun/tally/pluginsdk/meta"
)

// Config is the content of a configuration file. Unset settings are zero.
type Config struct {
	// Path is the file the settings were read from; "" when there is none.
	Path string
	// CallbackPlugins are the directories searched for callback plugins (callback_plugins),
	// absolute.
	CallbackPlugins []string
	// StdoutCallback names the stdout plugin (stdout_callback).
	StdoutCallback string
	// CallbacksEnabled names the other plugins to run (callbacks_enabled).
	CallbacksEnabled []string
	// OnPluginError is what a failing plugin does to the run: "warn" or "fail"
	// (on_plugin_error).
	OnPluginError string
	// CallbackLog is the file plugins' log output goes to instead of standard error
	// (callback_log), absolute.
	CallbackLog string
	// CallbackLimits are the limits of every plugin (callback_limits).
	CallbackLimits Limits
	// Callbacks are the settings of each plugin by name (callbacks).
	Callbacks map[string]Callback
	// HostKeyChecking is host_key_checking: nil when unset (checking is on by default).
	HostKeyChecking *bool
	// Timeout bounds connecting to each host (timeout); zero when unset.
	Timeout time.Duration
	// AnsibleManaged is the value of ansible_managed in templates (ansible_managed).
	AnsibleManaged string
	// RolesPath are the directories searched for roles (roles_path), absolute.
	RolesPath []string
	// CollectionsPath are the directories searched for collections' roles
	// (collections_path), absolute.
	CollectionsPath []string

	// The settings below come from Ansible's configuration only (ansiblecfg.go).

	// AnsiblePath is the ansible.cfg the Ansible settings were read from; "" when none.
	AnsiblePath string
	// Inventory are the default inventory sources (-i), absolute paths or host lists.
	Inventory []string
	// Forks is the default of -f; zero when unset.
	Forks int
	// RemoteUser is the default of -u.
	RemoteUser string
	// Connection is the default of -c.
	Connection string
	// PrivateKeyFile is the default of --private-key.
	PrivateKeyFile string
	// SSHCommonArgs and SSHExtraArgs are the defaults of --ssh-common-args and --ssh-extra-args.
	SSHCommonArgs, SSHExtraArgs string
	// Become is the default of -b: nil when unset.
	Become *bool
	// BecomeUser and BecomeMethod are the defaults of --become-user and --become-method.
	BecomeUser, BecomeMethod string

	// Sinks are the outputs plugins may be granted, by name (sinks; sinks.go), and
	// SinkLimits bound what each plugin appends to them (sink_limits).
	Sinks      map[string]Sink
	SinkLimits SinkLimits

	// Engine runs the playbooks (engine): "tally" or "ansible"; "" when unset.
	Engine string
	// AnsiblePlaybook is the ansible-playbook the ansible engine runs (ansible_playbook),
	// absolute when it names a path; "" when unset.
	AnsiblePlaybook string
}

// DefaultAnsibleManaged is ansible_managed when no configuration sets it, as Ansible's.
const DefaultAnsibleManaged = "Ansible managed"

// Engines are the values of the engine setting: tally's own, or the real ansible-playbook.
var Engines = []string{"tally", "ansible"}

// Callback is one plugin's section of the file.
type Callback struct {
	// Options are the plugin's option values, each with the file:line it came from.
	Options map[string]meta.Setting
	// Limits override CallbackLimits for this plugin.
	Limits Limits
}

// Limits bound what a plugin may use. Zero fields are unset.
type Limits struct {
	// Memory is the most memory the plugin may have, in bytes.
	Memory int64
	// Timeout is the longest one call into the plugin may take.
	Timeout time.Duration
	// Output is the most the plugin may write to the log, in bytes.
	Output int64
}

// Find returns the configuration file to read: $TALLY_CONFIG, else tally.yaml in the current
// directory, else $XDG_CONFIG_HOME/tally/config.yaml (~/.config by default), else
// /etc/tally/config.yaml; "" when none exists. As Ansible does with ansible.cfg, a tally.yaml in
// a world-writable current directory is skipped with a warning: anyone could have put it there.
func Find(getenv func(string) string, warn func(string)) (string, error) {
	if p := getenv("TALLY_CONFIG"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("TALLY_CONFIG: %w", err)
		}
		return p, nil
	}
	if cwd, err := os.Getwd(); err == nil {
		p := filepath.Join(cwd, "tally.yaml")
		if exists(p) {
			if st, err := os.Stat(cwd); err == nil && st.Mode().Perm()&0o002 != 0 {
				warn(fmt.Sprintf("tally is ignoring %s: the current directory is world-writable", p))
			} else {
				return p, nil
			}
		}
	}
	userDir := getenv("XDG_CONFIG_HOME")
	if home, err := os.UserHomeDir(); userDir == "" && err == nil {
		userDir = filepath.Join(home, ".config")
	}
	if p := filepath.Join(userDir, "tally", "config.yaml"); userDir != "" && exists(p) {
		return p, nil
	}
	if p := "/etc/tally/config.yaml"; exists(p) {
		return p, nil
	}
	return "", nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Read finds the configuration file (Find) and loads it, then fills what it leaves unset from
// Ansible's configuration (ReadAnsible).
func Read(getenv func(string) string, warn func(string)) (*Config, error) {
	p, err := Find(getenv, warn)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	if p != "" {
		if c, err = Load(p); err != nil {
			return nil, err
		}
	}
	ansible, err := ReadAnsible(getenv, warn)
	if err != nil {
		return nil, err
	}
	c.Under(ansible)
	return c, nil
}

// Load reads the configuration file at path. Relative paths in it are relative to its
// directory, as Ansible resolves paths in ansible.cfg.
func Load(path string) (*Config, error) {
	data, dir, err := readFile(path, "configuration")
	if err != nil {
		return nil, err
	}
	p := parser{path: path, dir: dir}
	c, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

// readFile returns the content of the what file at path, and the absolute directory that its
// relative paths are relative to.
func readFile(path, what string) (data []byte, dir string, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", what, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", what, err)
	}
	return data, filepath.Dir(abs), nil
}

// parser turns the YAML document into a Config, naming file:line in every error.
type parser struct {
	path, dir string
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.path, n.Line, fmt.Sprintf(format, args...))
}

func (p *parser) parse(data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, err)
	}
	c := &Config{}
	if len(doc.Content) == 0 {
		return c, nil // an empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, p.errorf(root, "the configuration must be a mapping of settings")
	}
	var err error
	for k, v := range pairs(root) {
		switch k.Value {
		case "callback_plugins":
			c.CallbackPlugins, err = p.paths(v)
		case "stdout_callback":
			c.StdoutCallback, err = p.str(v)
		case "callbacks_enabled":
			c.CallbacksEnabled, err = p.list(v, ",")
		case "on_plugin_error":
			c.OnPluginError, err = p.str(v)
			if err == nil && c.OnPluginError != "warn" && c.OnPluginError != "fail" {
				err = p.errorf(v, "on_plugin_error is %q: want warn or fail", c.OnPluginError)
			}
		case "callback_log":
			c.CallbackLog, err = p.str(v)
			c.CallbackLog = p.resolve(c.CallbackLog)
		case "callback_limits":
			c.CallbackLimits, err = p.limits(v)
		case "callbacks":
			c.Callbacks, err = p.callbacks(v)
		case "host_key_checking":
			var b bool
			b, err = p.bool(v)
			c.HostKeyChecking = &b
		case "timeout":
			c.Timeout, err = p.duration(v)
		case "ansible_managed":
			c.AnsibleManaged, err = p.str(v)
		case "roles_path":
			c.RolesPath, err = p.paths(v)
		case "collections_path":
			c.CollectionsPath, err = p.paths(v)
		case "sinks":
			c.Sinks, err = p.sinks(v)
		case "sink_limits":
			c.SinkLimits, err = p.sinkLimits(v)
		case "engine":
			c.Engine, err = p.str(v)
			if err == nil && !slices.Contains(Engines, c.Engine) {
				err = p.errorf(v, "engine is %q: want tally or ansible", c.Engine)
			}
		case "ansible_playbook":
			c.AnsiblePlaybook, err = p.str(v)
			if strings.ContainsRune(c.AnsiblePlaybook, filepath.Separator) {
				c.AnsiblePlaybook = p.resolve(c.AnsiblePlaybook)
			}
		default:
			err = p.errorf(k, "unknown setting %q (tally knows %s)", k.Value, strings.Join(settings, ", "))
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// settings are the top-level settings, for errors.
var settings = []string{"callback_plugins", "stdout_callback", "callbacks_enabled", "on_plugin_error", "callback_log", "callback_limits", "callbacks", "host_key_checking", "timeout", "ansible_managed", "roles_path", "collections_path", "sinks", "sink_limits", "engine", "ansible_playbook"}

// pairs yields a mapping node's keys and values.
func pairs(n *yaml.Node) func(yield func(k, v *yaml.Node) bool) {
	return func(yield func(k, v *yaml.Node) bool) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}

func (p *parser) str(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errorf(n, "want a string")
	}
	return n.Value, nil
}

// bool reads a YAML boolean, or a word Ansible takes for one (yes, no, on, off, 1, 0).
func (p *parser) bool(n *yaml.Node) (bool, error) {
	if n.Kind == yaml.ScalarNode {
		if b, ok := ParseBool(n.Value); ok {
			return b, nil
		}
	}
	return false, p.errorf(n, "want true or false")
}

// ParseBool reads a boolean setting as Ansible does: true/false, yes/no, on/off, 1/0, any case.
func ParseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1", "y", "t":
		return true, true
	case "false", "no", "off", "0", "n", "f":
		return false, true
	}
	return false, false
}

// duration reads a positive duration: Go's form (10s, 1m30s) or a number of seconds, as
// Ansible's timeout.
func (p *parser) duration(n *yaml.Node) (time.Duration, error) {
	d, err := ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return 0, p.errorf(n, "want a positive duration such as 10s: %v", err)
	}
	return d, nil
}

// ParseDuration reads a positive duration: a number of seconds (10) or Go's form (10s, 1m30s).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if secs, serr := strconv.ParseFloat(s, 64); serr == nil {
		d, err = time.Duration(secs*float64(time.Second)), nil
	}
	if err == nil && d <= 0 {
		err = errors.New("must be positive")
	}
	return d, err
}

// list reads a YAML list of strings, or one string of items separated by sep.
func (p *parser) list(n *yaml.Node, sep string) ([]string, error) {
	var items []string
	switch n.Kind {
	case yaml.ScalarNode:
		items = strings.Split(n.Value, sep)
	case yaml.SequenceNode:
		for _, item := range n.Content {
			s, err := p.str(item)
			if err != nil {
				return nil, err
			}
			items = append(items, s)
		}
	default:
		return nil, p.errorf(n, "want a list, or a string separated by %q", sep)
	}
	out := items[:0]
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// paths reads a list of directories, or one string of them separated by ':', absolute.
func (p *parser) paths(n *yaml.Node) ([]string, error) {
	dirs, err := p.list(n, ":")
	for i, dir := range dirs {
		dirs[i] = p.resolve(dir)
	}
	return dirs, err
}

// resolve makes a path from the file absolute, expanding ~.
func (p *parser) resolve(path string) string {
	if path == "" {
		return ""
	}
	path = meta.ExpandHome(path)
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(p.dir, path)
}

func (p *parser) callbacks(n *yaml.Node) (map[string]Callback, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "callbacks: want a mapping of plugin names to their settings")
	}
	out := map[string]Callback{}
	for k, v := range pairs(n) {
		if v.Kind != yaml.MappingNode {
			return nil, p.errorf(v, "callbacks: %s: want a mapping with options and limits", k.Value)
		}
		var cb Callback
		for ck, cv := range pairs(v) {
			var err error
			switch ck.Value {
			case "options":
				cb.Options, err = p.options(cv)
			case "limits":
				cb.Limits, err = p.limits(cv)
			default:
				err = p.errorf(ck, "callbacks: %s: unknown setting %q (want options or limits)", k.Value, ck.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		out[k.Value] = cb
	}
	return out, nil
}

func (p *parser) options(n *yaml.Node) (map[string]meta.Setting, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "options: want a mapping of option names to values")
	}
	out := map[string]meta.Setting{}
	for k, v := range pairs(n) {
		var value any
		if err := v.Decode(&value); err != nil {
			return nil, p.errorf(v, "option %s: %v", k.Value, err)
		}
		out[k.Value] = meta.Setting{Value: value, Source: fmt.Sprintf("%s:%d", p.path, v.Line), Dir: p.dir}
	}
	return out, nil
}

func (p *parser) limits(n *yaml.Node) (Limits, error) {
	var l Limits
	if n.Kind != yaml.MappingNode {
		return l, p.errorf(n, "limits: want a mapping of memory, timeout and output")
	}
	for k, v := range pairs(n) {
		var err error
		switch k.Value {
		case "memory":
			l.Memory, err = ParseSize(v.Value)
		case "output":
			l.Output, err = ParseSize(v.Value)
		case "timeout":
			l.Timeout, err = ParseDuration(v.Value)
		default:
			return l, p.errorf(k, "limits: unknown limit %q (want memory, timeout or output)", k.Value)
		}
		if err != nil || v.Kind != yaml.ScalarNode {
			return l, p.errorf(v, "limits: %s %q: %v", k.Value, v.Value, err)
		}
	}
	return l, nil
}

// sizeUnits are the units ParseSize knows, all powers of 1024.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}

// ParseSize reads a size in bytes: a whole number with an optional unit, K, M or G (also
// written KB, KiB, ...; all mean powers of 1024). It must be positive.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if !ok || err != nil || n <= 0 || n > (1<<62)/unit {
		return 0, fmt.Errorf("want a positive size such as 64MiB")
	}
	return n * unit, nil
}
