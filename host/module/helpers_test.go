package module

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
)

// newTask returns a task on a local connection, with testdata as its search path and fake
// template functions: the template package is not this package's to test.
func newTask(t *testing.T) *Task {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"name": "world", "n": 3, "empty": "", "items": []any{1, 2}}
	return &Task{Host: "local", Conn: connection.NewLocal("local"), Vars: vars, SearchPaths: []string{dir},
		Render: fakeRender(vars), Eval: fakeEval(vars), Cond: fakeCond(vars), RenderFile: renderFile(vars)}
}

// fakeCond is fakeEval's value as a condition.
func fakeCond(vars map[string]any) func(string) (bool, error) {
	return func(expr string) (bool, error) {
		v, err := fakeEval(vars)(expr)
		return pytext.Truthy(v), err
	}
}

// renderFile renders template files with the real engine.
func renderFile(vars map[string]any) func(string, template.FileOptions) (string, error) {
	return func(text string, o template.FileOptions) (string, error) {
		return template.New().RenderFile(text, vars, o)
	}
}

var placeholder = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

// fakeRender substitutes {{ var }} placeholders.
func fakeRender(vars map[string]any) func(string) (string, error) {
	return func(text string) (string, error) {
		var err error
		out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
			name := placeholder.FindStringSubmatch(m)[1]
			v, ok := vars[name]
			if !ok {
				err = fmt.Errorf("'%s' is undefined", name)
			}
			return fmt.Sprint(v)
		})
		return out, err
	}
}

// fakeEval evaluates a variable name, an int, or "A == B" of those.
func fakeEval(vars map[string]any) func(string) (any, error) {
	operand := func(s string) (any, error) {
		s = strings.TrimSpace(s)
		if n, err := strconv.Atoi(s); err == nil {
			return n, nil
		}
		if v, ok := vars[s]; ok {
			return v, nil
		}
		if strings.ContainsAny(s, "(") {
			return nil, fmt.Errorf("template error while templating string: unexpected '('")
		}
		return nil, fmt.Errorf("'%s' is undefined", s)
	}
	return func(expr string) (any, error) {
		if a, b, ok := strings.Cut(expr, "=="); ok {
			x, err := operand(a)
			if err != nil {
				return nil, err
			}
			y, err := operand(b)
			if err != nil {
				return nil, err
			}
			return reflect.DeepEqual(x, y), nil
		}
		return operand(expr)
	}
}

// run runs module name and fails the test on an error.
func run(t *testing.T, task *Task, name string, args map[string]any) Result {
	t.Helper()
	r, err := runErr(task, name, args)
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return r
}

func runErr(task *Task, name string, args map[string]any) (Result, error) {
	spec, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("no module %s", name)
	}
	return spec.Run(context.Background(), task, args)
}

// check compares the keys of want with r's; want's nil values must be absent or nil.
func check(t *testing.T, r Result, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if got := r[k]; !reflect.DeepEqual(got, w) {
			t.Errorf("result[%q] = %#v, want %#v (result %v)", k, got, w, r)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func TestRegistry(t *testing.T) {
	want := map[string]Spec{
		"setup": {}, "ping": {}, "command": {FreeForm: true}, "shell": {FreeForm: true}, "raw": {FreeForm: true},
		"script": {FreeForm: true}, "copy": {}, "file": {}, "template": {}, "stat": {}, "lineinfile": {},
		"debug": {Controller: true}, "set_fact": {Controller: true}, "set_stats": {Controller: true},
		"fail": {Controller: true}, "assert": {Controller: true}, "wait_for": {}, "pause": {Controller: true},
		"add_host": {Controller: true}, "group_by": {Controller: true}, "validate_argument_spec": {Controller: true},
		"async_status": {},
		"replace":      {}, "blockinfile": {}, "slurp": {}, "fetch": {}, "tempfile": {}, "assemble": {}, "find": {},
		"get_url": {}, "uri": {}, "unarchive": {},
		"user": {}, "group": {}, "getent": {}, "known_hosts": {},
		"archive": {}, "community.general.archive": {},
		"systemd": {}, "systemd_service": {}, "service": {},
	}
	if len(registry) != len(want) {
		t.Errorf("%d modules registered, want %d", len(registry), len(want))
	}
	for name, w := range want {
		for _, full := range []string{name, "ansible.builtin." + name, "ansible.legacy." + name} {
			s, ok := Lookup(full)
			if !ok || s.Run == nil || s.FreeForm != w.FreeForm || s.Controller != w.Controller {
				t.Errorf("Lookup(%q) = %+v, %v; want FreeForm %v Controller %v", full, s, ok, w.FreeForm, w.Controller)
			}
		}
	}
}
