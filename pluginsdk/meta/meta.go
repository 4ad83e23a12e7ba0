// Package meta is the self-description of a tally callback plugin: its name, type, version, the
// events it subscribes to, its options and the capabilities it can use. A plugin returns it as
// JSON from its tally_describe export (docs/abi.md); the host and the Go SDK both check it with
// Validate and convert option values with Convert, so the two sides agree on every rule.
//
// The package depends on the standard library and the event schema only: plugins compile it to
// WebAssembly.
package meta

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// Type is what a plugin is for.
type Type string

// The plugin types, with Ansible's CALLBACK_TYPE names.
const (
	// Stdout is the plugin that draws the run on the terminal; a run has exactly one.
	Stdout Type = "stdout"
	// Aggregate plugins record or summarise a run (a log, a database, a report).
	Aggregate Type = "aggregate"
	// Notification plugins tell someone about a run.
	Notification Type = "notification"
)

// OptionType is the type of an option's value.
type OptionType string

// The option types. A value set as text (an environment variable, --callback-opt) is converted
// by Convert; in the config file it may also be written as the YAML type itself.
const (
	// Str is any text.
	Str OptionType = "str"
	// Bool is true or false; text accepts Ansible's spellings (yes/no, on/off, 1/0, ...).
	Bool OptionType = "bool"
	// Int is a whole number.
	Int OptionType = "int"
	// Float is a number.
	Float OptionType = "float"
	// List is a list of strings; text is split at commas, as Ansible's list options are.
	List OptionType = "list"
	// Dir is a directory on the operator's machine, the only way a plugin gets file access: the
	// host mounts exactly that directory, read-write, at the same path inside the sandbox. A
	// Dir option has no default, because access is granted by the operator, never by the
	// plugin.
	Dir OptionType = "dir"
)

// Capability is something a plugin can use beyond receiving events. The host grants it only as
// the operator configures it.
type Capability string

// The capabilities.
const (
	// Terminal: the plugin writes the run's output to the terminal (stdout plugins only; other
	// plugins' output goes to the log).
	Terminal Capability = "terminal"
	// Filesystem: the plugin reads and writes files in the directories its Dir options name.
	Filesystem Capability = "filesystem"
)

// Option declares one setting of a plugin, like an entry of Ansible's DOCUMENTATION options.
type Option struct {
	Name string     `json:"name"`
	Type OptionType `json:"type"`
	// Default is the value when the operator sets none, of the option's type (JSON types: a
	// string, true/false, a number, a list of strings). Nil means unset.
	Default any `json:"default,omitempty"`
	// Env lists environment variables that set the option, first found wins. Each must start
	// with EnvPrefix(plugin name), so that a plugin cannot read the operator's other variables.
	Env         []string `json:"env,omitempty"`
	Description string   `json:"description,omitempty"`
	// Required options must be set by the operator (or have a default).
	Required bool `json:"required,omitempty"`
}

// Metadata is a plugin's self-description.
type Metadata struct {
	// Name must be the plugin's file name without .wasm.
	Name        string `json:"name"`
	Version     string `json:"version"`
	Type        Type   `json:"type"`
	Description string `json:"description,omitempty"`
	// EventSchema is the event.SchemaVersion the plugin was built against.
	EventSchema int `json:"event_schema"`
	// Events are the events the plugin subscribes to; it receives no other.
	Events       []event.Type `json:"events"`
	Options      []Option     `json:"options,omitempty"`
	Capabilities []Capability `json:"capabilities,omitempty"`
	// Results asks for the run's consolidated results: every result event, by host, through
	// the module's tally_results export, just before the playbook_on_stats event.
	Results bool `json:"results,omitempty"`
	// Progress is the address, in the module's memory, of a little-endian uint64 in which the
	// module keeps the seq of the event it is handling; 0 if it keeps none. When a call
	// crashes, the host reads it to name the event the crash happened on.
	Progress uint32 `json:"progress,omitempty"`
}

// AllEvents lists every event type, in the order a run produces them.
var AllEvents = []event.Type{
	event.PlaybookOnStart, event.PlaybookOnPlayStart, event.PlaybookOnNoHostsMatched,
	event.PlaybookOnTaskStart, event.PlaybookOnHandlerTaskStart, event.PlaybookOnInclude,
	event.PlaybookOnNotify, event.RunnerOnStart, event.RunnerVerbose, event.RunnerRetry, event.RunnerItemOnOK,
	event.RunnerItemOnFailed, event.RunnerItemOnSkipped, event.RunnerOnOK, event.RunnerOnFailed,
	event.RunnerOnSkipped, event.RunnerOnUnreachable, event.PlaybookOnNoHostsRemaining,
	event.PlaybookOnStats,
}

// The characters names may have; the first character of a name must also be in first. (Not
// regexp: it would make every plugin half a megabyte larger, and slower to load.)
const (
	lower  = "abcdefghijklmnopqrstuvwxyz"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits = "0123456789"
)

// wellFormed reports whether s is a non-empty string of characters in rest that starts with
// one in first.
func wellFormed(s, first, rest string) bool {
	if s == "" || !strings.ContainsRune(first, rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune(rest, r) {
			return false
		}
	}
	return true
}

// EnvPrefix is the prefix every environment variable a plugin declares must have:
// TALLY_ and the plugin's name in upper case, with characters other than letters and digits
// as underscores, then an underscore ("log_plays" -> "TALLY_LOG_PLAYS_").
func EnvPrefix(plugin string) string {
	return "TALLY_" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, plugin) + "_"
}

// MaxNameLength is the longest name a plugin may have: its name prefixes every line it logs.
const MaxNameLength = 64

// ValidName checks a plugin's name: at most MaxNameLength lower-case letters, digits, '_', '.'
// and '-', starting with a letter or digit.
func ValidName(name string) error {
	if len(name) > MaxNameLength {
		return fmt.Errorf("name %.20q...: longer than %d characters", name, MaxNameLength)
	}
	if !wellFormed(name, lower+digits, lower+digits+"_.-") {
		return fmt.Errorf("name %q: want lower-case letters, digits, '_', '.' or '-'", name)
	}
	return nil
}

// Validate checks m and returns every problem found, joined, or nil.
func (m *Metadata) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := ValidName(m.Name); err != nil {
		errs = append(errs, err)
	}
	if m.Version == "" {
		bad("no version")
	}
	switch m.Type {
	case Stdout, Aggregate, Notification:
	default:
		bad("type %q: want stdout, aggregate or notification", m.Type)
	}
	if m.EventSchema != event.SchemaVersion {
		bad("event schema %d: this tally has event schema %d", m.EventSchema, event.SchemaVersion)
	}
	if len(m.Events) == 0 {
		bad("subscribes to no event")
	}
	for i, e := range m.Events {
		if !slices.Contains(AllEvents, e) {
			bad("subscribes to unknown event %q", e)
		} else if slices.Contains(m.Events[:i], e) {
			bad("subscribes to %q twice", e)
		}
	}
	for _, c := range m.Capabilities {
		if c != Terminal && c != Filesystem {
			bad("unknown capability %q", c)
		}
	}
	prefix := EnvPrefix(m.Name)
	for i, o := range m.Options {
		if !wellFormed(o.Name, lower, lower+digits+"_") {
			bad("option %q: want a lower-case name of letters, digits and '_'", o.Name)
		}
		if slices.ContainsFunc(m.Options[:i], func(p Option) bool { return p.Name == o.Name }) {
			bad("option %q declared twice", o.Name)
		}
		if err := o.validate(prefix, m.Capabilities); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (o *Option) validate(envPrefix string, caps []Capability) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("option %q: "+format, append([]any{o.Name}, args...)...))
	}
	switch o.Type {
	case Str, Bool, Int, Float, List:
		if o.Default != nil {
			if _, err := Convert(o.Type, o.Default); err != nil {
				bad("default: %v", err)
			}
		}
	case Dir:
		if o.Default != nil {
			bad("a dir option cannot have a default: the operator grants directories")
		}
		if !slices.Contains(caps, Filesystem) {
			bad("a dir option needs the %q capability", Filesystem)
		}
	default:
		bad("type %q: want str, bool, int, float, list or dir", o.Type)
	}
	for _, env := range o.Env {
		if !wellFormed(env, upper+"_", upper+digits+"_") || !strings.HasPrefix(env, envPrefix) || env == envPrefix {
			bad("environment variable %q: must be %sSOMETHING", env, envPrefix)
		}
	}
	return errors.Join(errs...)
}

// Option returns the option called name, or false.
func (m *Metadata) Option(name string) (Option, bool) {
	i := slices.IndexFunc(m.Options, func(o Option) bool { return o.Name == name })
	if i < 0 {
		return Option{}, false
	}
	return m.Options[i], true
}

// Convert checks v against the option type t and returns it in its canonical form: a string
// for Str and Dir (Dir made absolute and clean), a bool, an int64, a float64, or a []string.
// v may be text (converted as Ansible converts option text) or already of the type (a YAML or
// JSON value).
func Convert(t OptionType, v any) (any, error) {
	s, isText := v.(string)
	switch t {
	case Str:
		switch x := v.(type) {
		case string:
			return x, nil
		case bool, int, int64, uint64, float64:
			return fmt.Sprint(x), nil
		}
	case Dir:
		if isText && s != "" {
			abs, err := filepath.Abs(ExpandHome(s))
			if err != nil {
				return nil, fmt.Errorf("directory %q: %w", s, err)
			}
			return abs, nil
		}
	case Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if isText {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "y", "yes", "on", "1", "true", "t":
				return true, nil
			case "n", "no", "off", "0", "false", "f":
				return false, nil
			}
		}
	case Int:
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int64:
			return x, nil
		case uint64:
			if x <= math.MaxInt64 {
				return int64(x), nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), nil
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
		}
	case Float:
		switch x := v.(type) {
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case uint64:
			return float64(x), nil
		case float64:
			return x, nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
	case List:
		switch x := v.(type) {
		case string:
			var out []string
			for _, part := range strings.Split(x, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
			return out, nil
		case []string:
			return x, nil
		case []any:
			out := make([]string, 0, len(x))
			for _, item := range x {
				str, err := Convert(Str, item)
				if err != nil {
					return nil, fmt.Errorf("list item: %w", err)
				}
				out = append(out, str.(string))
			}
			return out, nil
		}
	default:
		return nil, fmt.Errorf("unknown option type %q", t)
	}
	return nil, fmt.Errorf("want %s, got %s", describeType(t), describeValue(v))
}

func describeType(t OptionType) string {
	switch t {
	case Str:
		return "a string"
	case Dir:
		return "a directory path"
	case Bool:
		return "a boolean (true/false, yes/no, on/off, 1/0)"
	case Int:
		return "an integer"
	case Float:
		return "a number"
	}
	return "a list (comma-separated)"
}

func describeValue(v any) string {
	if v == nil {
		return "nothing"
	}
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%T %v", v, v)
}

// Setting is a value the operator gave an option, and where it came from, for error messages
// ("--callback-opt", "tally.yaml:12", an environment variable's name).
type Setting struct {
	Value  any
	Source string
	// Dir is the directory a relative Dir option is relative to (the configuration file's);
	// empty for the current directory.
	Dir string
}

// Resolve returns the values of m's options: for each option, the first layer that sets it
// (layers come highest precedence first), else its default, converted by Convert. A key that
// names no option, a value of the wrong type or a required option left unset is an error that
// names where the value came from; every such error is returned, joined. Options without a
// value are left out.
func (m *Metadata) Resolve(layers ...map[string]Setting) (map[string]any, error) {
	var errs []error
	for _, layer := range layers {
		for _, key := range slices.Sorted(maps.Keys(layer)) {
			if _, ok := m.Option(key); !ok {
				errs = append(errs, fmt.Errorf("%s: plugin %s has no option %q%s", layer[key].Source, m.Name, key, m.optionList()))
			}
		}
	}
	out := map[string]any{}
	for _, o := range m.Options {
		var value any
		source, base := "default", ""
		for _, layer := range layers {
			if s, ok := layer[o.Name]; ok {
				value, source, base = s.Value, s.Source, s.Dir
				break
			}
		}
		if value == nil {
			value = o.Default
		}
		if path, ok := value.(string); ok && o.Type == Dir && base != "" && path != "" {
			if path = ExpandHome(path); !filepath.IsAbs(path) {
				value = filepath.Join(base, path)
			}
		}
		if value == nil {
			if o.Required {
				errs = append(errs, fmt.Errorf("plugin %s: option %q is required", m.Name, o.Name))
			}
			continue
		}
		v, err := Convert(o.Type, value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: plugin %s option %q: %w", source, m.Name, o.Name, err))
			continue
		}
		out[o.Name] = v
	}
	return out, errors.Join(errs...)
}

func (m *Metadata) optionList() string {
	if len(m.Options) == 0 {
		return " (it has none)"
	}
	names := make([]string, len(m.Options))
	for i, o := range m.Options {
		names[i] = o.Name
	}
	return " (it has " + strings.Join(names, ", ") + ")"
}

// ExpandHome replaces a leading ~ with the user's home directory, as Ansible's path settings
// do.
func ExpandHome(path string) string {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	return filepath.Join(home, path[1:])
}
