package playbook

import (
	"cmp"
	"fmt"
	"maps"
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

// Load reads the playbook at path, with each import_playbook replaced by the plays of the
// file it names (relative to the importing file). Every error is an *Error.
func Load(path string) (*Playbook, error) { return LoadWith(path, Options{}) }

// LoadWith is Load with options. A file that cannot be decrypted gives the vault's error
// (*vault.Error or *vault.FormatError), not an *Error: for Ansible it is no parse error.
func LoadWith(path string, opts Options) (*Playbook, error) {
	plays, err := (&loader{opts: opts}).playbook(path, Pos{})
	if err != nil {
		return nil, err
	}
	return &Playbook{Path: path, Plays: plays}, nil
}

// LoadTasks reads the task file at path, as include_tasks does at run time. Its import_tasks
// are relative to the file's directory. Every error is an *Error.
func LoadTasks(path string) ([]*Task, error) {
	dir := filepath.Dir(path)
	ld := &loader{roles: &roleSet{dir: dir, cache: map[string]*Role{}}}
	return ld.taskFile(path, Pos{}, taskCtx{playDir: dir})
}

// loader holds what the files of one Load or LoadTasks share.
type loader struct {
	nodes int      // YAML nodes visited, against maxNodes
	stack []string // absolute paths of the files being read, against import cycles
	opts  Options
	roles *roleSet // the roles of the play being read
	// importVars are the vars of the import_playbook being read: its plays start with them
	// (Play.load's vars), so that role names and import_role's arguments see them.
	importVars map[string]any
}

// enter marks file as being read, failing on an import cycle; the returned func unmarks it.
func (ld *loader) enter(file string, from Pos) (func(), error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	if slices.Contains(ld.stack, abs) {
		return nil, &Error{Pos: from, Msg: fmt.Sprintf("import cycle: %s imports itself", file)}
	}
	ld.stack = append(ld.stack, abs)
	return func() { ld.stack = ld.stack[:len(ld.stack)-1] }, nil
}

// taskFile reads a file holding a list of tasks; from is the import naming it, if any.
func (ld *loader) taskFile(file string, from Pos, c taskCtx) ([]*Task, error) {
	leave, err := ld.enter(file, from)
	if err != nil {
		return nil, err
	}
	defer leave()
	d, root, err := ld.readYAML(file, from)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return []*Task{}, nil
	}
	if root.Kind != yaml.SequenceNode {
		return nil, d.errorf(root, "a task file must contain a list of tasks, got a %s", kindName(root))
	}
	return d.taskList(root, "tasks", c, 0)
}

// playbook reads a playbook file; from is the import_playbook naming it, if any.
func (ld *loader) playbook(file string, from Pos) ([]*Play, error) {
	leave, err := ld.enter(file, from)
	if err != nil {
		return nil, err
	}
	defer leave()
	d, root, err := ld.readYAML(file, from)
	if err != nil {
		return nil, err
	}
	switch {
	case root == nil:
		return nil, &Error{Pos: Pos{File: file}, Msg: "Empty playbook, nothing to do"}
	case root.Kind != yaml.SequenceNode:
		return nil, d.errorf(root, "A playbook must be a list of plays, got a %s instead", kindName(root))
	case len(root.Content) == 0:
		return nil, d.errorf(root, "A playbook must contain at least one play")
	}
	var plays []*Play
	for _, entry := range root.Content {
		entry, err := d.resolve(entry, 1)
		if err != nil {
			return nil, err
		}
		if entry.Kind != yaml.MappingNode {
			return nil, d.errorf(entry, "playbook entries must be either valid plays or 'import_playbook' statements")
		}
		ps, err := d.pairs(entry, 1)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(ps, func(p pair) bool { return module.Canonical(p.key) == "import_playbook" }) {
			imported, err := d.importPlaybook(entry, ps)
			if err != nil {
				return nil, err
			}
			plays = append(plays, imported...)
			continue
		}
		p, err := d.play(entry, ps)
		if err != nil {
			return nil, err
		}
		plays = append(plays, p)
	}
	return plays, nil
}

// ansiblePlayKeys are the play keywords of Ansible 2.14.
var ansiblePlayKeys = keySet(ansibleBaseKeys, "collections", "hosts", "gather_facts", "gather_subset",
	"gather_timeout", "fact_path", "vars_files", "vars_prompt", "roles", "handlers", "pre_tasks",
	"post_tasks", "tasks", "force_handlers", "max_fail_percentage", "serial", "strategy", "order")

func taskListField(f func(*Play) *[]*Task) setter[*Play] {
	return func(d *doc, key string, p *Play, n *yaml.Node) (err error) {
		c := taskCtx{handler: key == "handlers", playDir: p.Dir}
		*f(p), err = d.taskList(n, key, c, 1)
		return err
	}
}

// playKeywords are the play keywords tally reads.
var playKeywords = map[string]setter[*Play]{
	"name":                strField(func(p *Play) *string { return &p.Name }),
	"hosts":               hostsField,
	"vars":                varsField("Play", func(p *Play) *map[string]any { return &p.Vars }),
	"vars_files":          varsFilesField,
	"gather_facts":        rawField(func(p *Play) *any { return &p.GatherFacts }),
	"pre_tasks":           taskListField(func(p *Play) *[]*Task { return &p.PreTasks }),
	"tasks":               taskListField(func(p *Play) *[]*Task { return &p.Tasks }),
	"post_tasks":          taskListField(func(p *Play) *[]*Task { return &p.PostTasks }),
	"handlers":            taskListField(func(p *Play) *[]*Task { return &p.Handlers }),
	"become":              rawField(func(p *Play) *any { return &p.Become }),
	"become_user":         strField(func(p *Play) *string { return &p.BecomeUser }),
	"become_method":       strField(func(p *Play) *string { return &p.BecomeMethod }),
	"remote_user":         strField(func(p *Play) *string { return &p.RemoteUser }),
	"connection":          strField(func(p *Play) *string { return &p.Connection }),
	"serial":              serialField,
	"any_errors_fatal":    rawField(func(p *Play) *any { return &p.AnyErrorsFatal }),
	"max_fail_percentage": rawField(func(p *Play) *any { return &p.MaxFailPercentage }),
	"ignore_unreachable":  rawField(func(p *Play) *any { return &p.IgnoreUnreachable }),
	"ignore_errors":       rawField(func(p *Play) *any { return &p.IgnoreErrors }),
	"tags":                tagsField(func(p *Play) *[]string { return &p.Tags }),
	"environment":         rawField(func(p *Play) *any { return &p.Environment }),
	"roles":               rolesField,
	"check_mode":          rawField(func(p *Play) *any { return &p.CheckMode }),
	"order":               strField(func(p *Play) *string { return &p.Order }),
	"vars_prompt":         varsPromptField,
	"diff":                rawField(func(p *Play) *any { return &p.Diff }),
	"strategy":            strategyField,
	"force_handlers":      rawField(func(p *Play) *any { return &p.ForceHandlers }),
}

// strategies are the strategy plugins tally has.
var strategies = map[string]bool{"linear": true, "free": true, "host_pinned": true}

func strategyField(d *doc, key string, p *Play, n *yaml.Node) (err error) {
	if p.Strategy, err = d.str(key, n); err != nil {
		return err
	}
	if p.Strategy != "" && !isTemplate(p.Strategy) && !strategies[p.Strategy] {
		return d.errorf(n, "Invalid play strategy specified: %s (tally has linear, free and host_pinned)", p.Strategy)
	}
	return nil
}

// play reads the play n with keys ps.
func (d *doc) play(n *yaml.Node, ps []pair) (*Play, error) {
	p := &Play{Pos: d.pos(n), UUID: uuid.NewString(), Dir: filepath.Dir(d.file)}
	p.roles = &roleSet{opts: d.ld.opts, dir: p.Dir, playPos: p.Pos, cache: map[string]*Role{}}
	d.ld.roles = p.roles
	if d.ld.importVars != nil {
		p.Vars = maps.Clone(d.ld.importVars) // the play's own vars replace them, as in Ansible
		p.roles.vars = p.Vars
	}
	hosts := false
	// vars first: role names and import_role's arguments are templated with them.
	slices.SortStableFunc(ps, func(a, b pair) int {
		return cmp.Compare(boolInt(a.key != "vars"), boolInt(b.key != "vars"))
	})
	for _, kv := range ps {
		key := kv.key
		if key == "user" {
			if slices.ContainsFunc(ps, func(o pair) bool { return o.key == "remote_user" }) {
				return nil, d.errorf(kv.k, "both 'user' and 'remote_user' are set for this play. "+
					"The use of 'user' is deprecated, and should be removed")
			}
			key = "remote_user"
		}
		set, ok := playKeywords[key]
		switch {
		case ok:
			if err := set(d, key, p, kv.v); err != nil {
				return nil, err
			}
			p.roles.vars = p.Vars
			hosts = hosts || key == "hosts"
		case ansiblePlayKeys[key]:
			return nil, d.errorf(kv.k, "tally does not support '%s' on a play yet", key)
		default:
			return nil, d.errorf(kv.k, "'%s' is not a valid attribute for a Play", key)
		}
	}
	if !hosts {
		return nil, d.errorf(n, "the field 'hosts' is required but was not set")
	}
	if p.Name == "" {
		p.Name = p.Hosts // as Ansible names an unnamed play
	}
	p.addRoles()
	return p, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hostsField(d *doc, key string, p *Play, n *yaml.Node) error {
	v, err := d.value(n, 0)
	if err != nil {
		return err
	}
	var hosts []string
	switch v := v.(type) {
	case string:
		hosts = []string{v}
	case []any:
		for _, h := range v {
			switch h := h.(type) {
			case string:
				hosts = append(hosts, h)
			case nil:
				return d.errorf(n, "Hosts list cannot contain values of 'None'. Please check your playbook")
			default:
				return d.errorf(n, "Hosts list contains an invalid host value: '%s'", pytext.Str(h))
			}
		}
	case nil:
	default:
		return d.errorf(n, "Hosts list must be a sequence or string. Please check your playbook.")
	}
	if len(hosts) == 0 || len(hosts) == 1 && hosts[0] == "" {
		return d.errorf(n, "Hosts list cannot be empty. Please check your playbook")
	}
	p.Hosts, p.HostsList = strings.Join(hosts, ","), hosts
	return nil
}

func varsFilesField(d *doc, key string, p *Play, n *yaml.Node) error {
	v, err := d.value(n, 0)
	if err != nil {
		return err
	}
	if list, ok := v.([]any); ok {
		for _, f := range list {
			if _, ok := f.([]any); ok {
				return d.errorf(n, "tally does not support alternatives (a list in vars_files) yet")
			}
		}
	}
	p.VarsFiles, err = d.strList(key, n)
	return err
}

var percentRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?%$`)

func serialField(d *doc, key string, p *Play, n *yaml.Node) error {
	v, err := d.value(n, 0)
	if err != nil {
		return err
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	p.Serial = nil
	for _, item := range list {
		switch item := item.(type) {
		case nil:
			continue
		case int:
			p.Serial = append(p.Serial, item)
			continue
		case string:
			if percentRE.MatchString(item) || isTemplate(item) {
				p.Serial = append(p.Serial, item)
				continue
			}
			if i, ok := resolve11(item).(int); ok {
				p.Serial = append(p.Serial, i)
				continue
			}
		}
		return d.errorf(n, "serial must be a number, a percentage such as \"30%%\" or a list of them, got %s", pytext.Str(item))
	}
	return nil
}

// importPlaybook reads an import_playbook entry n (keys ps) and returns the plays it brings.
func (d *doc) importPlaybook(n *yaml.Node, ps []pair) ([]*Play, error) {
	var file string
	var vars map[string]any
	var when, tags []string
	for _, p := range ps {
		var err error
		switch {
		case module.Canonical(p.key) == "import_playbook":
			file, err = d.importedPlaybook(n, p.v)
		case p.key == "vars":
			vars, err = d.importVars(p.v)
		case p.key == "when":
			when, err = d.conditions(p.key, p.v)
		case p.key == "tags":
			tags, err = d.tags(p.v)
		case p.key == "name":
		case slices.Contains(ansibleBaseKeys, p.key):
			err = d.errorf(p.k, "tally does not support '%s' on import_playbook yet", p.key)
		default:
			err = d.errorf(p.k, "'%s' is not a valid attribute for a PlaybookInclude", p.key)
		}
		if err != nil {
			return nil, err
		}
	}
	if isTemplate(file) {
		// PlaybookInclude.load_data: the import's vars, under the extra vars.
		all := map[string]any{}
		if dir, err := filepath.Abs(filepath.Dir(d.file)); err == nil {
			all["playbook_dir"] = dir
		}
		maps.Copy(all, vars)
		maps.Copy(all, d.ld.opts.ExtraVars)
		rendered, err := template.New().RenderString(file, all)
		if err != nil {
			return nil, d.errorf(n, "%v", err)
		}
		file = rendered
	}
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(d.file), file)
	}
	outer := d.ld.importVars
	d.ld.importVars = vars
	plays, err := d.ld.playbook(path, d.pos(n))
	d.ld.importVars = outer
	if err != nil {
		return nil, err
	}
	for _, play := range plays {
		if vars != nil {
			if play.Vars == nil {
				play.Vars = map[string]any{}
			}
			maps.Copy(play.Vars, vars)
		}
		for _, t := range tags {
			if !slices.Contains(play.Tags, t) {
				play.Tags = append(play.Tags, t)
			}
		}
		if len(when) > 0 {
			play.When = append(slices.Clone(when), play.When...)
			for _, list := range [][]*Task{play.PreTasks, play.Tasks, play.PostTasks} {
				for _, t := range list {
					t.When = append(slices.Clone(when), t.When...)
				}
			}
		}
	}
	return plays, nil
}

// importVars reads the vars of an import_playbook: a mapping only.
func (d *doc) importVars(n *yaml.Node) (map[string]any, error) {
	r, err := d.resolve(n, 0)
	if err != nil {
		return nil, err
	}
	if r.Kind != yaml.MappingNode {
		return nil, d.errorf(n, "vars for import_playbook statements must be specified as a dictionary")
	}
	return d.vars("PlaybookInclude", n)
}

// importedPlaybook reads the value of import_playbook: a file name.
func (d *doc) importedPlaybook(n, v *yaml.Node) (string, error) {
	val, err := d.value(v, 0)
	if err != nil {
		return "", err
	}
	s, ok := val.(string)
	switch {
	case val == nil:
		return "", d.errorf(n, "playbook import parameter is missing")
	case !ok:
		return "", d.errorf(n, "playbook import parameter must be a string indicating a file path, got %s instead", kindName(v))
	}
	items, err := splitArgs(s)
	if err != nil {
		return "", d.argError(v, err)
	}
	if len(items) == 0 || strings.TrimSpace(items[0]) == "" {
		return "", d.errorf(n, "import_playbook statements must specify the file name to import")
	}
	return strings.TrimSpace(items[0]), nil
}
