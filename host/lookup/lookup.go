// Package lookup runs Ansible's builtin lookup plugins on the controller (ansible-core 2.14's
// plugins/lookup): for lookup(), query() and q() in templates (through template.Lookups), and
// for the with_<lookup> loops. Files are searched as Ansible's find_file_in_search_path does:
// in each directory of the ansible_search_path variable (the task's search path, which the
// executor fills: role paths when there are roles, the task file's directory, the playbook's
// directory), first in its files/ or templates/ subdirectory, then in the directory itself,
// and last in the playbook directory.
package lookup

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/internal/pytext"
)

// Registry holds the lookup plugins of a run. It is safe for concurrent use.
type Registry struct {
	tmpl  *template.Engine
	vault *vault.Keyring
	warn  func(string)
	// managed is the ansible_managed setting that the template lookup expands.
	managed string

	pwMu sync.Mutex // the password lookup reads and creates files one at a time
}

// New returns the registry of builtin lookups. tmpl templates what the plugins template
// (the template lookup, the vars lookup's values); keys open vault-encrypted files; managed is
// the ansible_managed setting for the template lookup; warn receives errors="warn" failures and
// other warnings (nil drops them).
func New(tmpl *template.Engine, keys *vault.Keyring, managed string, warn func(string)) *Registry {
	if warn == nil {
		warn = func(string) {}
	}
	return &Registry{tmpl: tmpl, vault: keys, managed: managed, warn: warn}
}

// plugin runs one lookup over its terms.
type plugin func(c *call, terms []any) ([]any, error)

// plugins are the builtin lookups, by name.
var plugins map[string]plugin

func init() {
	plugins = map[string]plugin{
		"config": configLookup, "csvfile": csvfileLookup, "dict": dictLookup, "env": envLookup,
		"file": fileLookup, "fileglob": fileglobLookup, "first_found": firstFoundLookup,
		"indexed_items": indexedItemsLookup, "ini": iniLookup, "items": itemsLookup,
		"lines": linesLookup, "list": listLookup, "nested": nestedLookup, "password": passwordLookup,
		"pipe": pipeLookup, "random_choice": randomChoiceLookup, "sequence": sequenceLookup,
		"subelements": subelementsLookup, "template": templateLookup, "together": togetherLookup,
		"unvault": unvaultLookup, "varnames": varnamesLookup, "vars": varsLookup,
	}
}

// Has reports whether name (short or ansible.builtin.NAME) is a lookup tally runs.
func Has(name string) bool {
	_, ok := plugins[shortName(name)]
	return ok
}

func shortName(name string) string {
	if rest, ok := strings.CutPrefix(name, "ansible.builtin."); ok {
		return rest
	}
	return strings.TrimPrefix(name, "ansible.legacy.")
}

// call is one run of a plugin.
type call struct {
	r      *Registry
	name   string
	opts   map[string]any // keyword options
	vars   map[string]any // the caller's variables
	subdir string         // where first_found looks ("files", or "templates" in a template task's loop)
}

// Error is a failure a plugin reports itself (Ansible's AnsibleLookupError): errors= applies
// to it, and its message is shown as it is.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// OptionsError is a lookup given options it cannot take (Ansible's AnsibleOptionsError):
// errors= does not apply.
type OptionsError struct{ Msg string }

func (e *OptionsError) Error() string { return e.Msg }

// exceptionError is a Python exception of class (not an AnsibleError) that Ansible's plugin
// lets through: Ansible names the class in its message.
type exceptionError struct{ class, msg string }

func (e *exceptionError) Error() string { return e.msg }

// Lookup runs plugin name on terms, for lookup() and query(); it implements template.Lookups.
// The errors option (strict, warn, ignore) says what a failure of the plugin does, as in
// Ansible: undefined variables and bad options always fail.
func (r *Registry) Lookup(name string, terms []any, opts, vars map[string]any) ([]any, error) {
	opts = maps.Clone(opts)
	mode := "strict"
	if v, ok := opts["errors"]; ok {
		mode = fmt.Sprint(v)
		delete(opts, "errors")
	}
	p, ok := plugins[shortName(name)]
	if !ok {
		return nil, fmt.Errorf("lookup plugin (%s) not found", name)
	}
	ran, err := p(&call{r: r, name: shortName(name), opts: opts, vars: vars, subdir: "files"}, terms)
	if err == nil {
		return nonNil(ran), nil
	}
	var (
		undef *template.UndefinedError
		bad   *OptionsError
		own   *Error
	)
	if errors.As(err, &undef) || errors.As(err, &bad) {
		return nil, err
	}
	msg := err.Error()
	if !errors.As(err, &own) {
		class := "ansible.errors.AnsibleError"
		if exc := (*exceptionError)(nil); errors.As(err, &exc) {
			class = exc.class
		}
		msg = fmt.Sprintf("An unhandled exception occurred while running the lookup plugin '%s'. Error was a <class '%s'>, original message: %s", name, class, msg)
		// Ansible's AnsibleError repeats the original message after its own.
		err = fmt.Errorf("%s. %w", msg, err)
	}
	switch mode {
	case "warn":
		r.warn("Lookup failed but the error is being ignored: " + msg)
	case "ignore":
	default:
		return nil, err
	}
	return nil, nil
}

// Loop runs the lookup of a with_<name> loop on its terms (the loop's value, templated), as
// Ansible's TaskExecutor._get_loop_items does: a list is the terms, a dict is given to the
// plugin as it is (with_dict takes it; with_list and with_indexed_items refuse it; the others
// see its keys), anything else is one term. action is the task's module, which tells
// first_found where to look (templates/ for template, vars/ for include_vars, else files/).
func (r *Registry) Loop(name string, value any, vars map[string]any, action string) ([]any, error) {
	name = shortName(name)
	p, ok := plugins[name]
	if !ok {
		return nil, fmt.Errorf("lookup plugin (%s) not found", name)
	}
	var terms []any
	switch v := value.(type) {
	case []any:
		terms = v
	case map[string]any:
		switch name {
		case "dict":
			terms = []any{v}
		case "list", "indexed_items":
			return nil, fmt.Errorf("with_%s expects a list", name)
		default:
			terms = append(terms, pytext.Keys(v)...)
		}
	default:
		terms = []any{v}
	}
	subdir := "files"
	for _, s := range []string{"template", "var", "file"} {
		if strings.Contains(action, s) {
			subdir = s + "s"
			break
		}
	}
	ran, err := p(&call{r: r, name: name, opts: map[string]any{}, vars: vars, subdir: subdir}, terms)
	return nonNil(ran), err
}

func nonNil(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// opt returns keyword option name, or def.
func (c *call) opt(name string, def any) any {
	if v, ok := c.opts[name]; ok {
		return v
	}
	return def
}

// optString returns a string option.
func (c *call) optString(name, def string) string {
	v := c.opt(name, nil)
	if v == nil {
		return def
	}
	return fmt.Sprint(v)
}

// strictOpts fails on options the plugin does not take, as Ansible's set_options does.
func (c *call) strictOpts(known ...string) error {
	for _, k := range slices.Sorted(maps.Keys(c.opts)) {
		if !slices.Contains(known, k) {
			return &OptionsError{Msg: fmt.Sprintf("Invalid option %q for the %s lookup", k, c.name)}
		}
	}
	return nil
}

// params are the plugin's options: defaults, overridden by the keyword options, which must
// be among them.
func (c *call) params(defaults map[string]any) (map[string]any, error) {
	if err := c.strictOpts(slices.Collect(maps.Keys(defaults))...); err != nil {
		return nil, err
	}
	maps.Copy(defaults, c.opts)
	return defaults, nil
}

// render templates v with the caller's variables.
func (c *call) render(v any) (any, error) {
	return c.r.tmpl.Render(v, c.vars)
}

// termString is a term that must be a string.
func termString(t any) (string, error) {
	s, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("Invalid setting identifier, \"%v\" is not a string, it is a %T", t, t)
	}
	return s, nil
}
