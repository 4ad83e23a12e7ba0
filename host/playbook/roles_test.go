package playbook

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// writeFiles creates each file of files (path: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRoleSearch(t *testing.T) {
	dir := t.TempDir()
	rolesPath, colls := filepath.Join(dir, "shared"), filepath.Join(dir, "colls")
	writeFiles(t, dir, map[string]string{
		"play/roles/local/tasks/main.yml":                                 "- debug: msg=local\n",
		"shared/fromPath/tasks/main.yml":                                  "- debug: msg=path\n",
		"colls/ansible_collections/ns/coll/roles/fromColl/tasks/main.yml": "- debug: msg=coll\n",
		"play/site.yml":    "- hosts: all\n  roles: [local, fromPath, ns.coll.fromColl]\n",
		"play/missing.yml": "- hosts: all\n  roles: [ns.coll.missing]\n",
	})
	opts := Options{RolesPath: []string{rolesPath}, CollectionsPath: []string{colls}}
	pb, err := LoadWith(filepath.Join(dir, "play/site.yml"), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "play/roles/local"), filepath.Join(rolesPath, "fromPath"),
		filepath.Join(colls, "ansible_collections/ns/coll/roles/fromColl")}
	names := []string{"local", "fromPath", "ns.coll.fromColl"}
	for i, b := range pb.Plays[0].RoleBlocks {
		if b.Role.Path != want[i] || b.Role.Name != names[i] {
			t.Errorf("role %d: %s at %s, want %s at %s", i, b.Role.Name, b.Role.Path, names[i], want[i])
		}
	}
	_, err = LoadWith(filepath.Join(dir, "play/missing.yml"), opts)
	if err == nil || !strings.Contains(err.Error(), "the role 'ns.coll.missing' was not found in "+colls+":") {
		t.Errorf("a missing collection role: %v, want the search path in the error", err)
	}
	if _, err := Load(filepath.Join(dir, "play/site.yml")); err == nil || !strings.Contains(err.Error(), "the role 'fromPath' was not found") {
		t.Errorf("without the roles path: %v, want fromPath not found", err)
	}
}

// TestRoleIdentity pins Ansible's ROLE_CACHE: uses with the same name and parameters are one
// role, whatever the dependency that brings them; other parameters make another role.
func TestRoleIdentity(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"roles/base/tasks/main.yml":        "- debug: msg=base\n",
		"roles/a/meta/main.yml":            "dependencies: [base]\n",
		"roles/b/meta/main.yml":            "dependencies: [{role: base, x: 1}]\n",
		"roles/vars/vars/main/2.yml":       "v: second\nonly2: 2\n",
		"roles/vars/vars/main/1.yml":       "v: first\nonly1: 1\n",
		"roles/vars/vars/main/.hidden.yml": "v: hidden\n",
		"site.yml":                         "- hosts: all\n  roles: [a, b, base, {role: base, x: 1}, vars]\n",
	})
	pb, err := Load(filepath.Join(dir, "site.yml"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := pb.Plays[0].RoleBlocks
	aBase, bBase := blocks[0].Role.Deps[0].Role, blocks[1].Role.Deps[0].Role
	if aBase != blocks[2].Role || bBase != blocks[3].Role || aBase == bBase {
		t.Errorf("base without parameters and base with x=1 should be two roles, each shared by its uses")
	}
	if bBase.Params["x"] != 1 {
		t.Errorf("base's parameters = %v, want x=1", bBase.Params)
	}
	vars := blocks[4].Role.Vars
	if vars["v"] != "second" || vars["only1"] != 1 || vars["only2"] != 2 {
		t.Errorf("vars/main/ = %v, want its files merged in name order, hidden files left out", vars)
	}
	if got := len(pb.Plays[0].Roles); got != 5 {
		t.Errorf("the play has %d roles, want 5 (its roles: entries, each once)", got)
	}
}

// TestImportTasksInARoleSearchesAsAnsible pins path_dwim_relative for import_tasks in a role: a
// handler's "tasks/x.yml" is found in the role's directory, a task's "other.yml" in the role's
// directory after its tasks/, a "play_tasks.yml" in the play's tasks/ directory.
func TestImportTasksInARoleSearchesAsAnsible(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"roles/r/handlers/main.yml":  "- name: h\n  import_tasks: tasks/handlers.yml\n",
		"roles/r/tasks/handlers.yml": "- debug: msg=handler-from-tasks\n",
		"roles/r/tasks/main.yml":     "- import_tasks: other.yml\n- import_tasks: play_tasks.yml\n",
		"roles/r/other.yml":          "- debug: msg=from-role-dir\n",
		"tasks/play_tasks.yml":       "- debug: msg=from-play-tasks\n",
		"site.yml":                   "- hosts: all\n  roles: [r]\n",
	})
	pb, err := Load(filepath.Join(dir, "site.yml"))
	if err != nil {
		t.Fatal(err)
	}
	r := pb.Plays[0].RoleBlocks[0].Role
	msgs := taskMsgs(append(slices.Clone(r.Handlers), r.Tasks...))
	if want := []string{"handler-from-tasks", "from-role-dir", "from-play-tasks"}; !slices.Equal(msgs, want) {
		t.Errorf("imported tasks = %v, want %v", msgs, want)
	}
}

// TestRoleArgSpecPrependsValidationUnlessOff pins Ansible's _prepend_validation_task: a role
// whose entry point (tasks_from, else main) has an argument spec starts with a
// validate_argument_spec task tagged always, named from the spec's short_description, given
// the spec's options, the role's parameters and its context; an entry point without a spec,
// and rolespec_validate: false (templated too), get none.
func TestRoleArgSpecPrependsValidationUnlessOff(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"roles/r/tasks/main.yml":          "- debug: msg=r\n",
		"roles/r/tasks/other.yml":         "- debug: msg=other\n",
		"roles/r/meta/argument_specs.yml": "argument_specs:\n  main:\n    short_description: R.\n    options:\n      n: {type: int}\n",
		"validated.yml":                   "- hosts: all\n  roles: [{role: r, n: 3}]\n",
		"other.yml":                       "- hosts: all\n  tasks:\n    - import_role: {name: r, tasks_from: other}\n",
		"off.yml":                         "- hosts: all\n  tasks:\n    - import_role: {name: r, rolespec_validate: \"{{ False | bool }}\"}\n",
	})
	pb, err := Load(filepath.Join(dir, "validated.yml"))
	if err != nil {
		t.Fatal(err)
	}
	check := pb.Plays[0].RoleBlocks[0].Role.Tasks[0]
	abs, _ := filepath.Abs(filepath.Join(dir, "roles/r"))
	want := map[string]any{
		"argument_spec":         map[string]any{"n": map[string]any{"type": "int"}},
		"provided_arguments":    map[string]any{"n": 3},
		"validate_args_context": map[string]any{"type": "role", "name": "r", "argument_spec_name": "main", "path": abs},
	}
	if check.Action != "ansible.builtin.validate_argument_spec" || check.Name != "Validating arguments against arg spec 'main' - R." ||
		!slices.Equal(check.Tags, []string{"always"}) || !reflect.DeepEqual(check.Args, want) {
		t.Errorf("first task of a role with a spec = %s %q tags %v args %v, want the validation of %v", check.Action, check.Name, check.Tags, check.Args, want)
	}
	for _, f := range []string{"other.yml", "off.yml"} {
		pb, err := Load(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var actions []string
		walkTasks(pb.Plays[0].Tasks, func(tk *Task) {
			if tk.Action != "" {
				actions = append(actions, tk.Action)
			}
		})
		if !slices.Equal(actions, []string{"debug"}) {
			t.Errorf("%s: the role runs %v, want only its debug task (no validation)", f, actions)
		}
	}
	spec, err := RoleSpecOf(map[string]any{"name": "r", "rolespec_validate": false}, nil)
	if err != nil || !spec.NoArgSpec {
		t.Errorf("RoleSpecOf with rolespec_validate false = %+v, %v; want NoArgSpec", spec, err)
	}
}

// TestTemplatedImportNamesUseWhatAStaticImportSees pins the names of import_playbook and
// import_tasks given as templates: import_playbook's with its own vars and the extra vars
// (PlaybookInclude.load_data), import_tasks' with the task's vars, the play's and the extra vars;
// and an imported play's import_role name with the import's vars (Play.load's vars).
func TestTemplatedImportNamesUseWhatAStaticImportSees(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"site.yml": "- import_playbook: \"{{ pb }}\"\n" +
			"- import_playbook: \"{{ own }}\"\n  vars: {own: b.yml}\n" +
			"- import_playbook: c.yml\n  vars: {rname: r}\n",
		"c.yml":                  "- hosts: all\n  tasks:\n    - import_role: {name: \"{{ rname }}\"}\n",
		"roles/r/tasks/main.yml": "- debug: msg=r\n",
		"a.yml": "- hosts: all\n  vars: {play_var: t1.yml}\n  tasks:\n" +
			"    - import_tasks: \"{{ play_var }}\"\n" +
			"    - import_tasks: \"{{ task_var }}\"\n      vars: {task_var: t2.yml}\n" +
			"    - import_tasks: \"{{ extra }}\"\n",
		"b.yml":  "- hosts: all\n  tasks:\n    - debug: msg=b\n",
		"t1.yml": "- debug: msg=t1\n",
		"t2.yml": "- debug: msg=t2\n",
		"t3.yml": "- debug: msg=t3\n",
	})
	pb, err := LoadWith(filepath.Join(dir, "site.yml"), Options{ExtraVars: map[string]any{"pb": "a.yml", "extra": "t3.yml"}})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, p := range pb.Plays {
		msgs = append(msgs, taskMsgs(p.Tasks)...)
	}
	if want := []string{"t1", "t2", "t3", "b", "r"}; !slices.Equal(msgs, want) {
		t.Errorf("imported tasks = %v, want %v", msgs, want)
	}
}

// walkTasks calls fn on each task of ts, depth first, a block's tasks before the block.
func walkTasks(ts []*Task, fn func(*Task)) {
	for _, tk := range ts {
		walkTasks(tk.Block, fn)
		fn(tk)
	}
}

// taskMsgs returns the msg argument of each task of ts that has one, in walkTasks' order.
func taskMsgs(ts []*Task) []string {
	var msgs []string
	walkTasks(ts, func(tk *Task) {
		if m, ok := tk.Args["msg"]; ok {
			msgs = append(msgs, fmt.Sprint(m))
		}
	})
	return msgs
}
