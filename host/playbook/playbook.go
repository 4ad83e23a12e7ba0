// Package playbook parses Ansible playbooks and task files into plays, blocks and tasks, with
// the file:line of each, ready for the executor. It checks keywords and module names but
// evaluates no template: that happens per host at run time.
package playbook

import "fmt"

// Pos is where something was written.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Playbook is a parsed playbook file with its import_playbook entries expanded in place.
type Playbook struct {
	Path  string
	Plays []*Play
}

// Play is one play. Fields holding raw YAML values (any) may be templates, evaluated per run.
type Play struct {
	Pos  Pos
	UUID string
	// Name is the play's name; an unnamed play is named after its hosts, as in Ansible.
	Name string
	// Hosts is the host pattern; a YAML list is joined with ",".
	Hosts string
	// HostsList is hosts as written: a string is one entry (Ansible's play.hosts).
	HostsList []string
	// Dir is the directory of the file the play is written in: relative paths start there.
	Dir         string
	Vars        map[string]any
	VarsFiles   []string
	VarsPrompt  []VarPrompt
	GatherFacts any // nil: default (true)
	PreTasks    []*Task
	// RoleBlocks run the play's roles: entries, between pre_tasks and tasks: static blocks
	// with Role set.
	RoleBlocks []*Task
	// Roles are the play's roles whose defaults and vars every task of the play sees: the
	// roles: entries and the imported roles (Ansible's play.get_roles()).
	Roles     []*Role
	Tasks     []*Task
	PostTasks []*Task
	// Handlers are the play's handlers after those of its roles: entries, then those of
	// its imported roles, as Ansible orders them.
	Handlers          []*Task
	Become            any
	BecomeUser        string
	BecomeMethod      string
	RemoteUser        string
	Connection        string
	Serial            []any // each an int or a "NN%" string
	AnyErrorsFatal    any
	MaxFailPercentage any
	IgnoreUnreachable any
	IgnoreErrors      any
	Tags              []string
	Environment       any
	Order             string // order: the order hosts run in; "" is inventory order
	CheckMode         any    // check_mode; nil: the command line's --check
	Diff              any    // diff; nil: the command line's --diff
	// Strategy is "linear" (also for ""), "free" or "host_pinned"; a template is rendered
	// when the play starts.
	Strategy      string
	ForceHandlers any
	// When holds the conditions of the import_playbook entries that brought this play in.
	// They are already prepended to the When of every pre_task, task and post_task; the
	// executor checks them before gathering facts, as Ansible does.
	When []string

	roles *roleSet
}

// Task is a task, or a block when Block is non-nil. Fields holding raw YAML values (any) may
// be templates, evaluated per host at run time.
type Task struct {
	Pos  Pos
	UUID string
	Name string
	// Action is the module's name as written ("ansible.builtin.command", "debug",
	// "include_tasks", "meta"); empty for a block.
	Action string
	// Args are the module's arguments; a free-form argument is under "_raw_params".
	Args map[string]any

	Block  []*Task // non-nil: this is a block
	Rescue []*Task
	Always []*Task
	// Static is true for a block that stands for an import_tasks: its keywords (when, tags,
	// vars) apply to every task it imported, and it is never shown as a task of its own.
	Static bool
	// Role is set on a static block that runs a role (a roles: entry, a dependency, an
	// import_role or include_role): its tasks are the role's, with the role's variables.
	Role *Role
	// Apply holds the keywords of include_tasks' and include_role's apply option, as a block
	// with no tasks: ApplyBlock wraps what the include brings in in it.
	Apply *Task

	When        []string // conditions, all of which must hold; a YAML bool becomes "True"/"False"
	Loop        any      // loop (a list, or a template giving one) or with_<lookup>'s terms
	LoopKeyword string   // "loop" or "with_<lookup>" ("" with no loop)
	LoopControl LoopControl
	Register    string
	Notify      []string
	Listen      []string // handlers only
	Tags        []string
	Vars        map[string]any
	Environment any
	DelegateTo  string

	IgnoreErrors      any
	IgnoreUnreachable any
	ChangedWhen       []string // nil: not set
	FailedWhen        []string // nil: not set
	Until             []string
	Retries           any
	Delay             any
	RunOnce           any
	NoLog             any
	AnyErrorsFatal    any
	Become            any
	BecomeUser        string
	BecomeMethod      string
	RemoteUser        string
	CheckMode         any // check_mode; nil: inherited
	Diff              any // diff; nil: inherited
	Async             any // seconds the task may run in the background; nil: not async
	Poll              any // seconds between status checks of an async task; 0: do not wait
	// Unsupported names the keywords Ansible accepts here that tally does not implement yet:
	// the task fails when it runs rather than the whole file at load time.
	Unsupported []string

	Handler bool // listed under a play's handlers
}

// LoopControl holds a task's loop_control settings.
type LoopControl struct {
	Label    string // template for the item's label in the output
	LoopVar  string // default "item"
	IndexVar string
	Pause    any
	// Extended gives each item ansible_loop; ExtendedAllitems (default true) adds its
	// allitems. Both may be templates.
	Extended, ExtendedAllitems any
}

// IsBlock reports whether t is a block.
func (t *Task) IsBlock() bool { return t.Block != nil }

// ApplyBlock returns tasks as an include with apply keywords runs them: inside a copy of the
// apply block; tasks themselves when apply is nil.
func ApplyBlock(apply *Task, tasks []*Task) []*Task {
	if apply == nil {
		return tasks
	}
	b := *apply
	b.Block = tasks
	return []*Task{&b}
}
