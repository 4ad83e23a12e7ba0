// Package module holds tally's task modules: Go code on the operator's machine that does a
// task's work on a host through a connection.Connection, needing nothing on the host but a
// POSIX shell. Results are shaped like Ansible's (rc, stdout, stderr, changed, msg, ...).
package module

import (
	"context"
	"strings"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/host/vault"
)

// Task is what a module sees of the task it runs for one host.
type Task struct {
	Host   string
	Conn   connection.Connection
	Become *connection.Become // nil: no become
	Env    map[string]string  // the task's environment keyword
	// Vars are the host's variables at this task (facts included), read-only.
	Vars map[string]any
	// Render renders Jinja2 template text with the task's variables.
	Render func(text string) (string, error)
	// RenderFile renders a template file's text with the task's variables (template module).
	RenderFile func(text string, o template.FileOptions) (string, error)
	// Eval evaluates a bare Jinja2 expression with the task's variables (assert, debug var).
	Eval func(expr string) (any, error)
	// Cond evaluates a condition as when does (assert's that).
	Cond func(expr string) (bool, error)
	// SearchPaths are the directories a relative src is looked up in, earliest first; a module
	// looks in each directory and in its files/ (copy, script) or templates/ (template)
	// subdirectory.
	SearchPaths []string
	// Vault opens vault-encrypted source files on the controller (copy, template); nil has
	// no secrets.
	Vault *vault.Keyring
	// Check is check mode: the module reports what it would change without changing anything
	// (or skips, as Ansible's modules without check mode support do).
	Check bool
	// Diff asks the module to add what it changes to its result as Ansible's "diff": a
	// before/after pair (or a list of them) of text or of attributes.
	Diff bool
}

// Result is a module's result, with Ansible's keys.
type Result map[string]any

// Func runs a module. A returned error fails the task with the error as msg, unless it is a
// *connection.UnreachableError, which makes the host unreachable. A module may also fail by
// returning a Result with "failed": true and a "msg".
type Func func(ctx context.Context, t *Task, args map[string]any) (Result, error)

// Spec describes a module.
type Spec struct {
	Run Func
	// FreeForm modules take their main argument as text ("command: ls -l"), passed as
	// args["_raw_params"].
	FreeForm bool
	// Controller modules run on the operator's machine without touching the host (debug,
	// set_fact, ...), so an unreachable host still gets a result from them.
	Controller bool
	// RunOnce modules run for the first host only, as if the task said run_once (Ansible's
	// BYPASS_HOST_LOOP: pause waits once for the whole play).
	RunOnce bool
}

var registry = map[string]Spec{}

// register adds a module under its short name; Lookup also accepts the ansible.builtin. and
// ansible.legacy. prefixes.
func register(name string, s Spec) { registry[name] = s }

// Lookup returns the module called name.
func Lookup(name string) (Spec, bool) {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "ansible.builtin."), "ansible.legacy.")
	s, ok := registry[name]
	return s, ok
}

// Canonical returns a module's short name: name without a collection prefix.
func Canonical(name string) string {
	return strings.TrimPrefix(strings.TrimPrefix(name, "ansible.builtin."), "ansible.legacy.")
}
