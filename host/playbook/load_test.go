package playbook

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/valid")

// dump renders a parsed value for a golden file: zero struct fields left out, positions as
// "file:line", UUIDs checked and dropped.
func dump(t *testing.T, v reflect.Value, uuids map[string]bool) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return dump(t, v.Elem(), uuids)
	case reflect.Struct:
		if p, ok := v.Interface().(Pos); ok {
			return filepath.ToSlash(p.String())
		}
		out := map[string]any{}
		for i := range v.NumField() {
			f, name := v.Field(i), v.Type().Field(i).Name
			switch {
			case !v.Type().Field(i).IsExported():
				// loader state (a play's roles), not what was parsed
			case name == "UUID":
				if f.String() == "" || uuids[f.String()] {
					t.Errorf("missing or repeated UUID %q", f.String())
				}
				uuids[f.String()] = true
			case !f.IsZero():
				out[name] = dump(t, f, uuids)
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = dump(t, v.Index(i), uuids)
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[k.String()] = dump(t, v.MapIndex(k), uuids)
		}
		return out
	}
	return v.Interface()
}

// TestLoadValid loads each playbook of testdata/valid and compares the result with its
// golden file (go test -update rewrites them).
func TestLoadValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatal("no fixtures", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			pb, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(dump(t, reflect.ValueOf(pb), map[string]bool{})); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			golden := strings.TrimSuffix(file, ".yml") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(want) != got {
				t.Errorf("%s differs from %s; got:\n%s", file, golden, got)
			}
		})
	}
}

// TestLoadErrors loads each playbook of testdata/errors, whose first line is
// "# want: MESSAGE" with the file names in MESSAGE relative to testdata/errors (the first line
// of a message of several).
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatal("no fixtures", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			want := firstLine(t, file)
			want, ok := strings.CutPrefix(want, "# want: ")
			if !ok {
				t.Fatalf("%s does not start with '# want: '", file)
			}
			_, err := Load(file)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Load returned %v (%T), want an *Error", err, err)
			}
			// a message of several lines is pinned by its first
			got, _, _ := strings.Cut(strings.ReplaceAll(err.Error(), "testdata/errors/", ""), "\n")
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func firstLine(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan()
	return s.Text()
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nonexistent.yml")
	var perr *Error
	if !errors.As(err, &perr) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want an *Error wrapping fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(err.Error(), "testdata/nonexistent.yml: ") {
		t.Errorf("error %q does not start with the file", err)
	}
}

func TestLoadTasks(t *testing.T) {
	tasks, err := LoadTasks("testdata/valid/tasks/include_me.yml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, task := range tasks {
		got = append(got, task.Pos.String())
		for _, sub := range task.Block {
			got = append(got, "  "+sub.Pos.String()+" "+sub.Args["msg"].(string))
		}
	}
	want := []string{
		"testdata/valid/tasks/include_me.yml:1",
		"testdata/valid/tasks/include_me.yml:2",
		"  testdata/valid/tasks/nested.yml:1 nested, relative to tasks/",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if !tasks[1].Static || tasks[1].Handler {
		t.Errorf("import_tasks gave Static=%v Handler=%v, want a static non-handler block", tasks[1].Static, tasks[1].Handler)
	}
}

func TestLoadTasksErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"testdata/errors/inc/not_a_list.yml", "testdata/errors/inc/not_a_list.yml:1: a task file must contain a list of tasks, got a mapping"},
		{"testdata/errors/inc/bad_task.yml", "testdata/errors/inc/bad_task.yml:3: 'bogus' is not a valid attribute for a Task"},
	}
	for _, tt := range tests {
		_, err := LoadTasks(tt.file)
		if err == nil || err.Error() != tt.want {
			t.Errorf("LoadTasks(%s) = %v, want %s", tt.file, err, tt.want)
		}
	}
}

// FuzzLoad feeds arbitrary bytes to Load as a playbook file: it must never panic.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.yml", "testdata/errors/*.yml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	dir := f.TempDir()
	file := filepath.Join(dir, "site.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		pb, err := Load(file)
		var perr *Error
		if err != nil && !errors.As(err, &perr) {
			t.Fatalf("Load returned a %T, want an *Error: %v", err, err)
		}
		if err == nil && len(pb.Plays) == 0 {
			t.Fatal("Load returned no plays and no error")
		}
	})
}

// TestLoadHostileInput pins that malicious or broken YAML fails cleanly.
func TestLoadHostileInput(t *testing.T) {
	bomb := "- hosts: all\n  vars:\n    a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	for i, name := range "bcdefg" {
		ref := "*" + string("abcdef"[i])
		bomb += fmt.Sprintf("    %c: &%c [%s]\n", name, name, strings.Repeat(ref+",", 9)+ref)
	}
	tests := []struct{ name, src, want string }{
		{"alias bomb", bomb, "YAML document too large"},
		{"block containing itself", "- hosts: all\n  tasks: &t\n    - block: *t\n", "YAML nested more than 256 levels deep"},
		{"play merging itself", "- &a\n  <<: *a\n  hosts: all\n", "YAML nested more than 256 levels deep"},
		{"import of a device", "- import_playbook: /dev/zero\n", "cannot read imported file /dev/zero: not a regular file"},
		{"import of itself", "- hosts: all\n  tasks:\n    - import_tasks: site.yml\n", "import cycle"},
		{"binary", "\xb1\x00\xff", "YAML syntax error"},
		{"argument string starting with a newline", "- hosts: all\n  tasks:\n    - command: \"\\n  x\"\n", "unable to parse argument string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "site.yml")
			if err := os.WriteFile(file, []byte(tt.src), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(file)
			var perr *Error
			if !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an *Error containing %q", err, tt.want)
			}
		})
	}
}

// TestLoadUnsupportedKeywordFailsOnlyItsTask: a keyword Ansible accepts and tally lacks is
// recorded on its task (which fails when it runs), so the rest of the file still loads; one
// set to null is unset, as in Ansible, and accepted.
func TestLoadUnsupportedKeywordFailsOnlyItsTask(t *testing.T) {
	file := filepath.Join(t.TempDir(), "play.yml")
	src := "- hosts: all\n  tasks:\n    - debug: msg=a\n      throttle: 1\n    - debug: var=item\n      with_url: https://example.com/\n    - debug: msg=ok\n      debugger: ~\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	tasks := pb.Plays[0].Tasks
	want := [][]string{
		{"tally does not support 'throttle' on a task yet (" + file + ":4)"},
		{"tally does not support with_url loops yet; use loop (" + file + ":6)"},
		nil,
	}
	for i, task := range tasks {
		if !reflect.DeepEqual(task.Unsupported, want[i]) {
			t.Errorf("task %d: Unsupported = %q, want %q", i, task.Unsupported, want[i])
		}
	}
}
