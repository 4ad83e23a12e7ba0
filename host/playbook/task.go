package playbook

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/tallyrun/tally/host/module"
	"github.com/tallyrun/tally/internal/pytext"
	"gopkg.in/yaml.v3"
)

// kind is what a task mapping turned out to be; each keyword is valid on some kinds.
type kind uint8

const (
	kTask    kind = 1 << iota
	kBlock        // block/rescue/always
	kInclude      // include_tasks
	kImport       // import_tasks, kept as a static block

	kAll = kTask | kBlock | kInclude | kImport
	// kInherited are the kinds whose keywords reach the tasks of a block.
	kInherited = kTask | kBlock | kImport
)

type keyword struct {
	on  kind
	set setter[*Task]
}

// taskKeywords are the task and block keywords tally reads.
var taskKeywords = map[string]keyword{
	"name":               {kAll, strField(func(t *Task) *string { return &t.Name })},
	"when":               {kAll, condField(func(t *Task) *[]string { return &t.When })},
	"tags":               {kAll, tagsField(func(t *Task) *[]string { return &t.Tags })},
	"vars":               {kAll, taskVars},
	"ignore_errors":      {kAll, rawField(func(t *Task) *any { return &t.IgnoreErrors })},
	"run_once":           {kAll, rawField(func(t *Task) *any { return &t.RunOnce })},
	"no_log":             {kAll, rawField(func(t *Task) *any { return &t.NoLog })},
	"ignore_unreachable": {kInherited, rawField(func(t *Task) *any { return &t.IgnoreUnreachable })},
	"any_errors_fatal":   {kInherited, rawField(func(t *Task) *any { return &t.AnyErrorsFatal })},
	"environment":        {kInherited, rawField(func(t *Task) *any { return &t.Environment })},
	"become":             {kInherited, rawField(func(t *Task) *any { return &t.Become })},
	"become_user":        {kInherited, strField(func(t *Task) *string { return &t.BecomeUser })},
	"become_method":      {kInherited, strField(func(t *Task) *string { return &t.BecomeMethod })},
	"remote_user":        {kInherited, strField(func(t *Task) *string { return &t.RemoteUser })},
	"delegate_to":        {kInherited, strField(func(t *Task) *string { return &t.DelegateTo })},
	"notify":             {kInherited, listField(func(t *Task) *[]string { return &t.Notify })},
	"check_mode":         {kInherited, rawField(func(t *Task) *any { return &t.CheckMode })},
	"diff":               {kInherited, rawField(func(t *Task) *any { return &t.Diff })},
	"loop":               {kTask | kInclude, loopField},
	"with_items":         {kTask | kInclude, loopField},
	"loop_control":       {kTask | kInclude, loopControlField},
	"register":           {kTask | kInclude, strField(func(t *Task) *string { return &t.Register })},
	"changed_when":       {kTask, condField(func(t *Task) *[]string { return &t.ChangedWhen })},
	"failed_when":        {kTask, condField(func(t *Task) *[]string { return &t.FailedWhen })},
	"until":              {kTask, condField(func(t *Task) *[]string { return &t.Until })},
	"retries":            {kTask, rawField(func(t *Task) *any { return &t.Retries })},
	"delay":              {kTask, rawField(func(t *Task) *any { return &t.Delay })},
	"listen":             {kTask | kInclude, listField(func(t *Task) *[]string { return &t.Listen })},
	"async":              {kTask, rawField(func(t *Task) *any { return &t.Async })},
	"poll":               {kTask, rawField(func(t *Task) *any { return &t.Poll })},
}

func keySet(base []string, more ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range append(slices.Clone(base), more...) {
		m[k] = true
	}
	return m
}

// The keywords Ansible 2.14 accepts on each kind of object, to tell a keyword tally lacks
// from a mistake.
var (
	ansibleBaseKeys = []string{
		"name", "connection", "port", "remote_user", "vars", "module_defaults", "environment", "no_log",
		"run_once", "ignore_errors", "ignore_unreachable", "check_mode", "diff", "any_errors_fatal",
		"throttle", "timeout", "debugger", "become", "become_method", "become_user", "become_flags",
		"become_exe", "tags",
	}
	ansibleBlockKeys = keySet(ansibleBaseKeys, "collections", "block", "rescue", "always", "notify",
		"delegate_to", "delegate_facts", "when")
	ansibleTaskKeys = keySet(ansibleBaseKeys, "collections", "action", "args", "async", "changed_when",
		"delay", "delegate_to", "delegate_facts", "failed_when", "local_action", "loop", "loop_control",
		"notify", "poll", "register", "retries", "until", "when")
	ansibleHandlerKeys = keySet(slices.Collect(maps.Keys(ansibleTaskKeys)), "listen")
	ansibleIncludeKeys = keySet(nil, "action", "args", "collections", "debugger", "ignore_errors", "loop",
		"loop_control", "name", "no_log", "register", "run_once", "tags", "timeout", "vars", "when")
)

// lookups are Ansible's builtin lookup plugins: with_<lookup> is a loop keyword.
var lookups = keySet(nil, "config", "csvfile", "dict", "env", "file", "fileglob", "first_found",
	"indexed_items", "ini", "inventory_hostnames", "items", "lines", "list", "nested", "password", "pipe",
	"random_choice", "sequence", "subelements", "template", "together", "unvault", "url", "varnames", "vars")

// lookupsNotRun are the builtin lookups tally does not have: with_<lookup> is refused.
var lookupsNotRun = keySet(nil, "inventory_hostnames", "url")

func init() {
	for name := range lookups {
		if !lookupsNotRun[name] {
			taskKeywords["with_"+name] = taskKeywords["with_items"]
		}
	}
}

// isLoopKey reports whether key is loop or with_<lookup>.
func isLoopKey(key string) bool {
	name, ok := strings.CutPrefix(key, "with_")
	return key == "loop" || ok && lookups[name]
}

// taskCtx is where a task list is.
type taskCtx struct {
	handler bool   // under a play's handlers
	nested  bool   // inside a block: a null entry is an error, and a handler cannot be a block
	playDir string // import_tasks falls back to paths relative to the play's file
	roleDir string // the role whose tasks or handlers these are, "" for a play's
}

// taskList reads a list of tasks (the value of key).
func (d *doc) taskList(n *yaml.Node, key string, c taskCtx, depth int) ([]*Task, error) {
	n, err := d.resolve(n, depth)
	if err != nil {
		return nil, err
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errorf(n, "'%s' must be a list of tasks, got a %s", key, kindName(n))
	}
	out := make([]*Task, 0, len(n.Content))
	for _, item := range n.Content {
		item, err := d.resolve(item, depth+1)
		if err != nil {
			return nil, err
		}
		if !c.nested && item.Kind == yaml.ScalarNode && item.ShortTag() == "!!null" {
			continue // Ansible skips these outside blocks
		}
		t, err := d.task(item, c, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// task reads one task, block or task import.
func (d *doc) task(n *yaml.Node, c taskCtx, depth int) (*Task, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errorf(n, "a task must be a mapping, got a %s", kindName(n))
	}
	ps, err := d.pairs(n, depth)
	if err != nil {
		return nil, err
	}
	t := &Task{Pos: d.pos(n), UUID: uuid.NewString(), Handler: c.handler}
	if slices.ContainsFunc(ps, func(p pair) bool { return p.key == "block" || p.key == "rescue" || p.key == "always" }) {
		if c.handler && c.nested {
			return nil, d.errorf(n, "Using a block as a handler is not supported.")
		}
		return t, d.block(t, ps, c, depth)
	}
	a, err := d.parseAction(n, ps)
	if err != nil {
		return nil, err
	}
	t.Action, t.Args = a.name, a.args
	t.LoopControl.LoopVar = "item"
	k := kTask
	var file string
	canonical := module.Canonical(a.name)
	switch canonical {
	case "include_role", "import_role":
		if c.handler {
			return nil, d.errorf(n, "Using '%s' as a handler is not supported.", a.name)
		}
		if err := d.roleArgs(n, a.name, a.args); err != nil {
			return nil, err
		}
		if t.Apply, err = d.apply(n, a.args["apply"], c); err != nil {
			return nil, err
		}
		delete(t.Args, "apply")
		k = kInclude
		if canonical == "import_role" {
			k = kImport
			t.Static, t.Block, t.LoopControl = true, []*Task{}, LoopControl{}
		}
	case "include_tasks", "import_tasks":
		if file, err = d.includeFile(n, a.name, a.args); err != nil {
			return nil, err
		}
		if t.Apply, err = d.apply(n, a.args["apply"], c); err != nil {
			return nil, err
		}
		t.Args = map[string]any{"_raw_params": file}
		k = kInclude
		if canonical == "import_tasks" {
			k = kImport
			t.Action, t.Args, t.Static, t.Block, t.LoopControl = "", nil, true, []*Task{}, LoopControl{}
		}
	default:
		if msg := unsupportedActions[canonical]; msg != "" {
			return nil, d.errorf(n, "%s", msg)
		}
	}
	for _, p := range ps {
		if p.key == "action" || p.key == "local_action" || p.key == "args" || p.key == a.key {
			continue
		}
		if k == kImport && isLoopKey(p.key) && canonical == "import_role" {
			return nil, d.errorf(p.k, "You cannot use loops on 'import_role' statements. You should use 'include_role' instead.")
		}
		if err := d.setKeyword(t, k, p); err != nil {
			return nil, err
		}
	}
	if a.local {
		t.DelegateTo = "localhost"
	}
	switch {
	case canonical == "import_role":
		if err := d.importRole(t, n); err != nil {
			return nil, err
		}
	case k == kImport:
		// A templated name is rendered now, with what a static import can see: the task's
		// and the play's vars and the extra vars (Ansible's message names the limit).
		rendered, err := d.ld.roles.render(file, t.Vars)
		if err != nil {
			return nil, d.errorf(n, "Error when evaluating variable in import path: %s.\n\n"+
				"When using static imports, ensure that any variables used in their names are defined in vars/vars_files\n"+
				"or extra-vars passed in from the command line. Static imports cannot use variables from facts or inventory\n"+
				"sources like group or host vars.", file)
		}
		if t.Block, err = d.importTasks(n, a.name, rendered, c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// block reads a block (t) with its keys ps.
func (d *doc) block(t *Task, ps []pair, c taskCtx, depth int) error {
	t.Block = []*Task{}
	inner := c
	inner.nested = true
	for _, p := range ps {
		var list *[]*Task
		switch p.key {
		case "block":
			list = &t.Block
		case "rescue":
			list = &t.Rescue
		case "always":
			list = &t.Always
		default:
			if err := d.setKeyword(t, kBlock, p); err != nil {
				return err
			}
			continue
		}
		tasks, err := d.taskList(p.v, p.key, inner, depth+1)
		if err != nil {
			return err
		}
		if tasks != nil {
			*list = tasks
		}
	}
	if len(t.Block) == 0 {
		for _, p := range ps {
			if (p.key == "rescue" && len(t.Rescue) > 0) || (p.key == "always" && len(t.Always) > 0) {
				return d.errorf(p.k, "'%s' keyword cannot be used without 'block'", p.key)
			}
		}
	}
	return nil
}

// setKeyword reads keyword p of t, a task of kind k.
func (d *doc) setKeyword(t *Task, k kind, p pair) error {
	if k == kImport && isLoopKey(p.key) {
		return d.errorf(p.k, "You cannot use loops on 'import_tasks' statements. You should use 'include_tasks' instead.")
	}
	kw, ok := taskKeywords[p.key]
	if ok && kw.on&k != 0 && (p.key != "listen" || t.Handler) {
		return kw.set(d, p.key, t, p.v)
	}
	class, valid, where := "Task", ansibleTaskKeys, "a task"
	switch {
	case k == kBlock:
		class, valid, where = "Block", ansibleBlockKeys, "a block"
	case k == kInclude:
		class, valid, where = "TaskInclude", ansibleIncludeKeys, "include_tasks"
	case k == kImport:
		class, where = "TaskInclude", "import_tasks"
		if t.Handler {
			valid = ansibleHandlerKeys
		}
	case t.Handler:
		class, valid, where = "Handler", ansibleHandlerKeys, "a handler"
	}
	if t.Handler && class == "TaskInclude" {
		class = "HandlerTaskInclude"
	}
	// What Ansible accepts but tally lacks fails the task when it runs, not the whole file.
	if name, ok := strings.CutPrefix(p.key, "with_"); ok && valid["loop"] && lookups[name] {
		t.Unsupported = append(t.Unsupported, fmt.Sprintf("tally does not support %s loops yet; use loop (%s)", p.key, d.pos(p.k)))
		return nil
	}
	if valid[p.key] {
		// Null is the keyword unset ("debugger: ~"), which Ansible takes as its default.
		if !(p.v.Kind == yaml.ScalarNode && p.v.ShortTag() == "!!null") {
			t.Unsupported = append(t.Unsupported, fmt.Sprintf("tally does not support '%s' on %s yet (%s)", p.key, where, d.pos(p.k)))
		}
		return nil
	}
	return d.errorf(p.k, "'%s' is not a valid attribute for a %s", p.key, class)
}

// apply reads the apply option of include_tasks (v, nil when absent): block keywords that
// the included tasks inherit.
func (d *doc) apply(n *yaml.Node, v any, c taskCtx) (*Task, error) {
	if v == nil {
		return nil, nil
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, d.errorf(n, "Expected a dict for apply but got %s instead", pytext.Str(v))
	}
	var node yaml.Node
	if err := node.Encode(v); err != nil {
		return nil, d.errorf(n, "apply: %v", err)
	}
	setLines(&node, n.Line)
	ps, err := d.pairs(&node, 0)
	if err != nil {
		return nil, err
	}
	b := &Task{Pos: d.pos(n), UUID: uuid.NewString(), Handler: c.handler, Static: true, Block: []*Task{}}
	for _, p := range ps {
		if p.key == "block" || p.key == "rescue" || p.key == "always" {
			return nil, d.errorf(n, "'%s' is not a valid attribute for apply", p.key)
		}
		if err := d.setKeyword(b, kBlock, p); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// setLines places every node of an encoded value at line, where its task is written.
func setLines(n *yaml.Node, line int) {
	n.Line = line
	for _, c := range n.Content {
		setLines(c, line)
	}
}

// taskVars reads a task's or block's vars.
func taskVars(d *doc, key string, t *Task, n *yaml.Node) (err error) {
	class := "Task"
	if t.Block != nil {
		class = "Block"
	}
	t.Vars, err = d.vars(class, n)
	return err
}

// loopField reads loop or a with_<lookup>.
func loopField(d *doc, key string, t *Task, n *yaml.Node) (err error) {
	if t.LoopKeyword != "" {
		return d.errorf(n, "duplicate loop in task: items")
	}
	if t.Loop, err = d.value(n, 0); err != nil {
		return err
	}
	if t.Loop == nil && key != "loop" {
		return d.errorf(n, "you must specify a value when using %s", key)
	}
	t.LoopKeyword = key
	return nil
}

// loopControlField reads loop_control.
func loopControlField(d *doc, key string, t *Task, n *yaml.Node) error {
	n, err := d.resolve(n, 0)
	if err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, "the `loop_control` value must be specified as a dictionary and cannot "+
			"be a variable itself (though it can contain variables)")
	}
	ps, err := d.pairs(n, 0)
	if err != nil {
		return err
	}
	lc := &t.LoopControl
	for _, p := range ps {
		switch p.key {
		case "label":
			lc.Label, err = d.str(p.key, p.v)
		case "loop_var":
			var v string
			if v, err = d.str(p.key, p.v); v != "" {
				lc.LoopVar = v
			}
		case "index_var":
			lc.IndexVar, err = d.str(p.key, p.v)
		case "pause":
			lc.Pause, err = d.value(p.v, 0)
		case "extended":
			lc.Extended, err = d.value(p.v, 0)
		case "extended_allitems":
			lc.ExtendedAllitems, err = d.value(p.v, 0)
		default:
			return d.errorf(p.k, "'%s' is not a valid attribute for a LoopControl", p.key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// includeFile returns the file of an include_tasks or import_tasks called name with args.
func (d *doc) includeFile(n *yaml.Node, name string, args map[string]any) (string, error) {
	var bad []string
	for k := range args {
		if k != "file" && k != "_raw_params" && (k != "apply" || module.Canonical(name) == "import_tasks") {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return "", d.errorf(n, "Invalid options for %s: %s", name, strings.Join(bad, ","))
	}
	file := args["_raw_params"]
	if file == nil || file == "" {
		file = args["file"]
	}
	switch f := file.(type) {
	case nil:
	case string:
		if f != "" {
			return f, nil
		}
	default:
		return "", d.errorf(n, "the file of %s must be a string, got %s", name, pytext.Str(f))
	}
	return "", d.errorf(n, "No file specified for %s", name)
}

// importTasks reads the tasks that an import_tasks (task n, action name) brings in.
func (d *doc) importTasks(n *yaml.Node, name, file string, c taskCtx) ([]*Task, error) {
	path := file
	if !filepath.IsAbs(file) {
		path = filepath.Join(filepath.Dir(d.file), file)
		if !exists(path) {
			alts := importCandidates(file, c)
			if i := slices.IndexFunc(alts, exists); i >= 0 {
				path = alts[i]
			}
		}
	}
	return d.ld.taskFile(path, d.pos(n), taskCtx{handler: c.handler, playDir: c.playDir, roleDir: c.roleDir})
}

// importCandidates are where an import_tasks of the relative file is looked for after the
// importing file's directory, as Ansible's path_dwim_relative: in a role, its tasks/ (for a
// file not named after the subdirectory), the role itself, then the play's directory with
// and without the subdirectory (tasks or handlers); in a play, the play's directory.
func importCandidates(file string, c taskCtx) []string {
	if c.roleDir == "" {
		return []string{filepath.Join(c.playDir, file)}
	}
	subdir := "tasks"
	if c.handler {
		subdir = "handlers"
	}
	var paths []string
	if !strings.HasSuffix(file, subdir) {
		paths = append(paths, filepath.Join(c.roleDir, "tasks", file))
	}
	return append(paths, filepath.Join(c.roleDir, file), filepath.Join(c.playDir, subdir, file), filepath.Join(c.playDir, file))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
