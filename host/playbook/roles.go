package playbook

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/tallyrun/tally/host/module"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
	"gopkg.in/yaml.v3"
)

// This file ports ansible/playbook/role: finding a role, reading its directories and its
// dependencies, and telling one use of a role from another (Ansible's ROLE_CACHE).

// Role is a role as one play uses it: its files read and its dependencies resolved. Two uses
// with the same name and parameters are the same *Role, which runs once per host unless
// AllowDuplicates.
type Role struct {
	// Name is the role's name as Ansible shows it: the last element of a path, or
	// "ns.coll.role" for a collection's role.
	Name string
	// Path is the role's directory, as found (relative when found from a relative
	// directory).
	Path     string
	Defaults map[string]any // defaults/
	Vars     map[string]any // vars/
	// EntryVars are the vars written with this use of the role (a roles: entry's vars, an
	// import_role's or include_role's task vars): role vars, below Vars.
	EntryVars map[string]any
	// Params are the other keys of a roles: or dependencies entry, above set_fact.
	Params   map[string]any
	Tasks    []*Task
	Handlers []*Task
	// Deps are the static blocks that run the dependencies of meta/main.yml, in order.
	Deps            []*Task
	AllowDuplicates bool
	// FromInclude is set for a role brought in by import_role or include_role.
	FromInclude bool

	argSpecs any // argument_specs of meta/main.yml
}

// AllDeps returns every dependency of r, recursively, deepest first (Role.get_all_dependencies).
func (r *Role) AllDeps() []*Role {
	var out []*Role
	for _, d := range r.Deps {
		out = append(out, d.Role.AllDeps()...)
		out = append(out, d.Role)
	}
	return out
}

// DefaultRolesPath and DefaultCollectionsPath are Ansible's defaults; home is the user's home
// directory.
func DefaultRolesPath(home string) []string {
	return []string{filepath.Join(home, ".ansible/roles"), "/usr/share/ansible/roles", "/etc/ansible/roles"}
}

func DefaultCollectionsPath(home string) []string {
	return []string{filepath.Join(home, ".ansible/collections"), "/usr/share/ansible/collections"}
}

// RoleSpec names a role to load and how it is used.
type RoleSpec struct {
	Name   string
	From   map[string]string // "tasks", "vars", "defaults", "handlers" -> file (the *_from arguments)
	Params map[string]any
	Vars   map[string]any
	// Keys are the keywords written with the role that set it apart (when, tags), as
	// Ansible hashes them with the parameters.
	Keys            string
	FromInclude     bool
	AllowDuplicates *bool // nil: meta/main.yml says
	// NoArgSpec is include_role's or import_role's rolespec_validate: false: the role runs
	// without the validation of its meta/argument_specs.
	NoArgSpec bool
}

// Key tells one use of a role from another: uses with equal keys are the same role (Ansible
// hashes the same parameters). A nil spec has the empty key.
func (s *RoleSpec) Key() string {
	if s == nil {
		return ""
	}
	dup := "meta"
	if s.AllowDuplicates != nil {
		dup = fmt.Sprint(*s.AllowDuplicates)
	}
	return fmt.Sprint(s.Name, s.Params, s.Vars, s.From, s.Keys, s.FromInclude, dup, s.NoArgSpec)
}

// roleSet is the roles of one play: the search options and the roles already loaded.
type roleSet struct {
	opts Options
	dir  string // the play's directory
	// playPos is the play's position, which a task written nowhere (a role's validation)
	// reports as its own, as Ansible's Base.get_path falls back to the play's.
	playPos Pos
	vars    map[string]any // the play's vars, for templated role names
	cache   map[string]*Role
	// stack holds the roles being loaded, against dependency cycles.
	stack []string
}

// LoadRole loads the role spec names for include_role at run time, sharing the play's roles
// (a role included twice with the same parameters is one role). parentDir is the directory of
// the role whose task includes it, "" outside a role. Every error is an *Error at pos.
func (p *Play) LoadRole(spec RoleSpec, parentDir string, pos Pos) (*Role, error) {
	return p.loader().role(spec, parentDir, pos)
}

// fqcrRE matches a collection's role name: ns.coll.role.
var fqcrRE = regexp.MustCompile(`^[A-Za-z_]\w*\.[A-Za-z_]\w*\.[A-Za-z_]\w*$`)

// findRole returns the name and directory of the role called name, as RoleDefinition's
// _load_role_path searches: a collection's role, roles/ next to the playbook, the roles path,
// the directory of the role that depends on it, the playbook's directory, then name as a path.
func (rs *roleSet) findRole(name, parentDir string) (string, string, error) {
	var searched []string
	if fqcrRE.MatchString(name) {
		parts := strings.Split(name, ".")
		for _, dir := range rs.opts.CollectionsPath {
			p := filepath.Join(dir, "ansible_collections", parts[0], parts[1], "roles", parts[2])
			if isDir(p) {
				return name, p, nil
			}
			searched = append(searched, dir)
		}
	}
	dirs := append([]string{filepath.Join(rs.dir, "roles")}, rs.opts.RolesPath...)
	if parentDir != "" {
		dirs = append(dirs, parentDir)
	}
	dirs = append(dirs, rs.dir)
	for _, dir := range dirs {
		if p := filepath.Join(dir, name); exists(p) {
			return name, p, nil
		}
	}
	if exists(name) {
		return filepath.Base(filepath.Clean(name)), filepath.Clean(name), nil
	}
	return "", "", fmt.Errorf("the role '%s' was not found in %s", name, strings.Join(append(searched, dirs...), ":"))
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// role loads the role spec names (Role.load): from the play's cache when this use is the
// same as an earlier one.
func (ld *loader) role(spec RoleSpec, parentDir string, pos Pos) (*Role, error) {
	rs := ld.roles
	name, err := rs.render(spec.Name, nil)
	if err != nil {
		return nil, &Error{Pos: pos, Msg: fmt.Sprintf("role name %s: %v", spec.Name, err)}
	}
	spec.Name = name
	name, path, err := rs.findRole(spec.Name, parentDir)
	if err != nil {
		return nil, &Error{Pos: pos, Msg: err.Error()}
	}
	key := path + "\x00" + spec.Key()
	if r := rs.cache[key]; r != nil {
		return r, nil
	}
	if slices.Contains(rs.stack, key) {
		return nil, &Error{Pos: pos, Msg: "A recursion loop was detected with the roles specified. Make sure child roles do not have dependencies on parent roles"}
	}
	rs.stack = append(rs.stack, key)
	defer func() { rs.stack = rs.stack[:len(rs.stack)-1] }()

	r := &Role{Name: name, Path: path, Params: spec.Params, EntryVars: spec.Vars, FromInclude: spec.FromInclude}
	if r.Vars, err = ld.roleVars(r, "vars", spec.From["vars"], pos); err != nil {
		return nil, err
	}
	if r.Defaults, err = ld.roleVars(r, "defaults", spec.From["defaults"], pos); err != nil {
		return nil, err
	}
	if err := ld.roleMeta(r, pos); err != nil {
		return nil, err
	}
	if spec.AllowDuplicates != nil {
		r.AllowDuplicates = *spec.AllowDuplicates
	}
	if r.Tasks, err = ld.roleTasks(r, "tasks", spec.From["tasks"], pos); err != nil {
		return nil, err
	}
	if !spec.NoArgSpec {
		check, err := ld.argSpecTask(r, spec.From["tasks"], pos)
		if err != nil {
			return nil, err
		}
		if check != nil {
			r.Tasks = append([]*Task{check}, r.Tasks...)
		}
	}
	if r.Handlers, err = ld.roleTasks(r, "handlers", spec.From["handlers"], pos); err != nil {
		return nil, err
	}
	rs.cache[key] = r
	return r, nil
}

// roleFiles returns the files of the role's subdir to read (Role._load_role_yaml with
// DataLoader.find_vars_files): main.yml, main.yaml, main.json or main (a directory of vars
// files when allowDir), or the file from names.
func roleFiles(r *Role, subdir, from string, allowDir bool) ([]string, error) {
	dir := filepath.Join(r.Path, subdir)
	if !isDir(dir) {
		if from != "" {
			return nil, fmt.Errorf("Could not find specified file in role: %s/%s", subdir, from)
		}
		return nil, nil
	}
	name, exts := "main", []string{".yml", ".yaml", ".json", ""}
	if from != "" {
		name, exts = from, []string{"", ".yml", ".yaml", ".json"}
	}
	for _, ext := range exts {
		p := name + ext
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(dir, p); err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("Failed loading '%s' for role (%s) as it is not inside the expected role path: '%s'", p, r.Name, dir)
		}
		if !st.IsDir() {
			return []string{p}, nil
		}
		if allowDir {
			return dirVarsFiles(p), nil
		}
	}
	if from != "" {
		return nil, fmt.Errorf("Could not find specified file in role: %s/%s", subdir, from)
	}
	return nil, nil
}

// dirVarsFiles lists the vars files under dir, sorted, recursively, without hidden files and
// backups, as DataLoader._get_dir_vars_files.
func dirVarsFiles(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		p, ext := filepath.Join(dir, n), filepath.Ext(n)
		switch {
		case e.IsDir() && ext == "":
			out = append(out, dirVarsFiles(p)...)
		case !e.IsDir() && slices.Contains([]string{"", ".yml", ".yaml", ".json"}, ext):
			out = append(out, p)
		}
	}
	return out
}

// roleVars reads the role's vars or defaults.
func (ld *loader) roleVars(r *Role, subdir, from string, pos Pos) (map[string]any, error) {
	files, err := roleFiles(r, subdir, from, true)
	if err != nil {
		return nil, &Error{Pos: pos, Msg: err.Error()}
	}
	out := map[string]any{}
	for _, f := range files {
		m, err := ld.varsFile(f, pos, fmt.Sprintf("The %s/main.yml file for role '%s' must contain a dictionary of variables", subdir, r.Name))
		if err != nil {
			return nil, err
		}
		maps.Copy(out, m)
	}
	return out, nil
}

// LoadVars reads a file of variables (a mapping, or nothing), as include_vars and vars_files
// do. Every error is an *Error.
func LoadVars(path string, opts Options) (map[string]any, error) {
	return (&loader{opts: opts}).varsFile(path, Pos{}, fmt.Sprintf("%s must be stored as a dictionary/hash", path))
}

// varsFile reads a file holding a mapping of variables; notMap is the message for anything
// else.
func (ld *loader) varsFile(file string, from Pos, notMap string) (map[string]any, error) {
	v, root, err := ld.varsValue(file, from)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return m, nil
	}
	return nil, &Error{Pos: Pos{File: file, Line: root.Line}, Msg: notMap}
}

// varsValue reads a file of variables (YAML or JSON, vault encrypted or not) as a value, and
// its root node: nil for a file with no document.
func (ld *loader) varsValue(file string, from Pos) (any, *yaml.Node, error) {
	d, root, err := ld.readYAML(file, from)
	if err != nil || root == nil {
		return nil, root, err
	}
	v, err := d.value(root, 0)
	return v, root, err
}

// roleTasks reads the role's tasks or handlers.
func (ld *loader) roleTasks(r *Role, subdir, from string, pos Pos) ([]*Task, error) {
	files, err := roleFiles(r, subdir, from, false)
	if err != nil {
		return nil, &Error{Pos: pos, Msg: err.Error()}
	}
	if len(files) == 0 {
		return nil, nil
	}
	return ld.taskFile(files[0], pos, taskCtx{handler: subdir == "handlers", playDir: ld.roles.dir, roleDir: r.Path})
}

// roleMeta reads meta/main.yml: allow_dependencies and dependencies.
func (ld *loader) roleMeta(r *Role, pos Pos) error {
	files, err := roleFiles(r, "meta", "", false)
	if err != nil || len(files) == 0 {
		return err
	}
	d, root, err := ld.readYAML(files[0], pos)
	if err != nil || root == nil {
		return err
	}
	if root.Kind != yaml.MappingNode {
		return d.errorf(root, "the 'meta/main.yml' for role %s is not a dictionary", r.Name)
	}
	ps, err := d.pairs(root, 0)
	if err != nil {
		return err
	}
	for _, p := range ps {
		switch p.key {
		case "allow_duplicates":
			v, err := d.value(p.v, 0)
			if err != nil {
				return err
			}
			r.AllowDuplicates = truthy(v)
		case "argument_specs":
			if r.argSpecs, err = d.value(p.v, 0); err != nil {
				return err
			}
		case "dependencies":
			n, err := d.resolve(p.v, 0)
			if err != nil {
				return err
			}
			if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
				continue
			}
			if n.Kind != yaml.SequenceNode {
				return d.errorf(n, "Expected role dependencies to be a list.")
			}
			for _, item := range n.Content {
				dep, err := d.roleEntry(item, filepath.Dir(r.Path), "dependencies")
				if err != nil {
					return err
				}
				r.Deps = append(r.Deps, dep)
			}
		}
	}
	return nil
}

// argSpecTask is the task Ansible puts first in a role whose entry point (tasks_from, else
// main) has an argument spec (meta/argument_specs, else meta/main.yml's argument_specs): it
// validates the role's parameters and the variables the spec names (validate_argument_spec).
// It returns nil for an entry point without a spec.
func (ld *loader) argSpecTask(r *Role, entry string, pos Pos) (*Task, error) {
	specs := r.argSpecs
	for _, ext := range []string{".yml", ".yaml", ".json"} {
		f := filepath.Join(r.Path, "meta", "argument_specs"+ext)
		if !exists(f) {
			continue
		}
		m, err := ld.varsFile(f, pos, "argument_specs must be a mapping")
		if err != nil {
			return nil, err
		}
		specs = m["argument_specs"]
		break
	}
	if entry == "" {
		entry = "main"
	}
	m, _ := specs.(map[string]any)
	spec, _ := m[entry].(map[string]any)
	if len(spec) == 0 {
		return nil, nil
	}
	name := fmt.Sprintf("Validating arguments against arg spec '%s'", entry)
	if d, ok := spec["short_description"]; ok {
		name += " - " + pytext.Str(d)
	}
	options, ok := spec["options"]
	if !ok {
		options = map[string]any{}
	}
	path, err := filepath.Abs(r.Path)
	if err != nil {
		path = r.Path
	}
	params := r.Params
	if params == nil {
		params = map[string]any{}
	}
	return &Task{Pos: ld.roles.playPos, UUID: uuid.NewString(), Name: name,
		Action: "ansible.builtin.validate_argument_spec", Tags: []string{"always"},
		Args: map[string]any{
			"argument_spec":      options,
			"provided_arguments": params,
			"validate_args_context": map[string]any{
				// a collection's role is named without its collection here (Role._role_name)
				"type": "role", "name": filepath.Base(path), "argument_spec_name": entry, "path": path,
			},
		}}, nil
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return slices.Contains([]string{"yes", "on", "1", "true", "y", "t"}, strings.ToLower(v))
	case int:
		return v != 0
	}
	return false
}

// roleEntryKeys are the keywords of a roles: entry (Role's attributes); any other key is a
// role parameter.
var roleEntryKeys = keySet(ansibleBaseKeys, "collections", "when", "delegate_to", "delegate_facts", "role")

// roleEntry reads one entry of a play's roles: or a role's dependencies: a name, or a mapping
// with role (or name), keywords and parameters. It returns the static block that runs it.
func (d *doc) roleEntry(n *yaml.Node, parentDir, key string) (*Task, error) {
	n, err := d.resolve(n, 1)
	if err != nil {
		return nil, err
	}
	t := &Task{Pos: d.pos(n), UUID: uuid.NewString(), Static: true, Block: []*Task{}}
	spec := RoleSpec{}
	switch n.Kind {
	case yaml.ScalarNode:
		spec.Name, err = d.str(key, n)
		if err != nil {
			return nil, err
		}
	case yaml.MappingNode:
		ps, err := d.pairs(n, 1)
		if err != nil {
			return nil, err
		}
		var keys []string
		for _, p := range ps {
			switch {
			case p.key == "role" || p.key == "name" && spec.Name == "":
				if spec.Name, err = d.str(p.key, p.v); err != nil {
					return nil, err
				}
			case p.key == "name":
			case p.key == "vars":
				if spec.Vars, err = d.vars("Role", p.v); err != nil {
					return nil, err
				}
			case roleEntryKeys[p.key]:
				if err := d.setKeyword(t, kImport, p); err != nil {
					return nil, err
				}
				v, _ := d.value(p.v, 0)
				keys = append(keys, fmt.Sprint(p.key, "=", v))
			default:
				if spec.Params == nil {
					spec.Params = map[string]any{}
				}
				if spec.Params[p.key], err = d.value(p.v, 0); err != nil {
					return nil, err
				}
			}
		}
		slices.Sort(keys)
		spec.Keys = strings.Join(keys, ",")
	default:
		return nil, d.errorf(n, "role definitions must contain a role name")
	}
	if spec.Name == "" {
		return nil, d.errorf(n, "role definitions must contain a role name")
	}
	r, err := d.ld.role(spec, parentDir, d.pos(n))
	if err != nil {
		return nil, err
	}
	t.Role = r
	t.Block = roleBody(r)
	return t, nil
}

// roleBody is what a use of r runs: its dependencies, then its tasks.
func roleBody(r *Role) []*Task {
	return append(append([]*Task{}, r.Deps...), r.Tasks...) // never nil: a block, even if empty
}

// roleHandlers returns the handler blocks of the roles the blocks use, dependencies first,
// each role once (Role.get_handler_blocks). Each block keeps the keywords of its use.
func roleHandlers(blocks []*Task, seen map[*Role]bool) []*Task {
	var out []*Task
	for _, b := range blocks {
		r := b.Role
		if r == nil || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, roleHandlers(r.Deps, seen)...)
		if len(r.Handlers) > 0 {
			h := *b
			h.UUID = uuid.NewString()
			h.Block = r.Handlers
			h.Handler = true
			out = append(out, &h)
		}
	}
	return out
}

// RoleHandlers returns the handler blocks that a role block brought in at run time
// (include_role) adds to the play.
func RoleHandlers(block *Task) []*Task {
	return roleHandlers([]*Task{block}, map[*Role]bool{})
}

// RoleBlock returns the static block that runs role r for an include_role.
func RoleBlock(r *Role, pos Pos) *Task {
	return &Task{Pos: pos, UUID: uuid.NewString(), Static: true, Role: r, Block: roleBody(r)}
}

// rolesField reads a play's roles.
func rolesField(d *doc, key string, p *Play, n *yaml.Node) error {
	n, err := d.resolve(n, 0)
	if err != nil {
		return err
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return d.errorf(n, "A malformed role declaration was encountered.")
	}
	for _, item := range n.Content {
		b, err := d.roleEntry(item, "", "roles")
		if err != nil {
			return err
		}
		p.RoleBlocks = append(p.RoleBlocks, b)
	}
	return nil
}

// addRoles completes a parsed play: its roles and the handlers they bring.
func (p *Play) addRoles() {
	imported := ImportedRoles(p.PreTasks, p.RoleBlocks, p.Tasks, p.PostTasks)
	for _, b := range append(slices.Clone(p.RoleBlocks), imported...) {
		if !slices.Contains(p.Roles, b.Role) {
			p.Roles = append(p.Roles, b.Role)
		}
	}
	seen := map[*Role]bool{}
	handlers := roleHandlers(p.RoleBlocks, seen)
	handlers = append(handlers, p.Handlers...)
	p.Handlers = append(handlers, roleHandlers(imported, seen)...)
}

// ImportedRoles returns the import_role blocks in the task lists, however deep, in order.
// Ansible adds each imported role to its play when it reads it: its variables are the play's.
func ImportedRoles(lists ...[]*Task) []*Task {
	var out []*Task
	var walk func([]*Task)
	walk = func(ts []*Task) {
		for _, t := range ts {
			if t.Role != nil && t.Role.FromInclude {
				out = append(out, t)
			}
			walk(t.Block)
			walk(t.Rescue)
			walk(t.Always)
		}
	}
	for _, l := range lists {
		walk(l)
	}
	return out
}

// loader returns a loader that shares the play's roles.
func (p *Play) loader() *loader {
	if p.roles == nil {
		p.roles = &roleSet{dir: p.Dir, playPos: p.Pos, cache: map[string]*Role{}}
	}
	return &loader{opts: p.roles.opts, roles: p.roles}
}

// LoadTasks reads a task file that include_tasks names while p runs: its import_role
// entries share the play's roles.
func (p *Play) LoadTasks(path string) ([]*Task, error) {
	return p.loader().taskFile(path, Pos{}, taskCtx{playDir: filepath.Dir(path)})
}

// roleArgs are the arguments of include_role and import_role (IncludeRole.VALID_ARGS).
var roleArgs = keySet(nil, "name", "role", "tasks_from", "vars_from", "defaults_from", "handlers_from",
	"apply", "public", "allow_duplicates", "rolespec_validate")

// roleArgs checks the arguments of an include_role or import_role called name.
func (d *doc) roleArgs(n *yaml.Node, name string, args map[string]any) error {
	var bad []string
	for k := range args {
		if !roleArgs[k] || (k == "public" || k == "apply") && module.Canonical(name) == "import_role" {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return d.errorf(n, "Invalid options for %s: %s", name, strings.Join(bad, ","))
	}
	if args["name"] == nil && args["role"] == nil {
		return d.errorf(n, "'name' is a required field for %s.", name)
	}
	for _, k := range []string{"tasks_from", "vars_from", "defaults_from", "handlers_from"} {
		if v, ok := args[k]; ok {
			if _, ok := v.(string); !ok {
				return d.errorf(n, "Expected a string for %s but got %T instead", k, v)
			}
		}
	}
	if apply, ok := args["apply"]; ok {
		if _, ok := apply.(map[string]any); !ok {
			return d.errorf(n, "Expected a dict for apply but got %T instead", apply)
		}
	}
	return nil
}

// RoleSpecOf returns the role that the (rendered) arguments of an include_role or
// import_role name, with vars, the task's vars.
func RoleSpecOf(args, vars map[string]any) (RoleSpec, error) {
	spec := RoleSpec{FromInclude: true, Vars: vars, From: map[string]string{}}
	name := args["name"]
	if name == nil {
		name = args["role"]
	}
	s, ok := name.(string)
	if !ok || s == "" {
		return spec, fmt.Errorf("'name' is a required field for include_role")
	}
	spec.Name = s
	for _, k := range []string{"tasks", "vars", "defaults", "handlers"} {
		if v, ok := args[k+"_from"].(string); ok {
			spec.From[k] = v
		}
	}
	dup := true // IncludeRole's default, whatever meta/main.yml says
	if v, ok := args["allow_duplicates"]; ok {
		dup = truthy(v)
	}
	spec.AllowDuplicates = &dup
	if v, ok := args["rolespec_validate"]; ok {
		spec.NoArgSpec = !truthy(v)
	}
	return spec, nil
}

// render templates s, a role name or an import_role argument, with the play's vars, the
// extra vars and more (an import_role's task vars), as Ansible does when it reads the play.
func (rs *roleSet) render(s string, more map[string]any) (string, error) {
	if !isTemplate(s) {
		return s, nil
	}
	vars := map[string]any{"playbook_dir": rs.dir}
	if abs, err := filepath.Abs(rs.dir); err == nil {
		vars["playbook_dir"] = abs
	}
	maps.Copy(vars, rs.vars)
	maps.Copy(vars, more)
	maps.Copy(vars, rs.opts.ExtraVars)
	return template.New().RenderString(s, vars)
}

// importRole loads the role of an import_role task t, which becomes a static block running it.
func (d *doc) importRole(t *Task, n *yaml.Node) error {
	args := maps.Clone(t.Args)
	for k, v := range args {
		if s, ok := v.(string); ok {
			r, err := d.ld.roles.render(s, t.Vars)
			if err != nil {
				return d.errorf(n, "import_role %s: %v", k, err)
			}
			args[k] = r
		}
	}
	spec, err := RoleSpecOf(args, t.Vars)
	if err != nil {
		return d.errorf(n, "%v", err)
	}
	for k, f := range spec.From {
		spec.From[k] = filepath.Base(f) // as IncludeRole.load; include_role keeps the path
	}
	r, err := d.ld.role(spec, "", d.pos(n))
	if err != nil {
		return err
	}
	t.Action, t.Args, t.Role, t.Block = "", nil, r, roleBody(r)
	return nil
}
