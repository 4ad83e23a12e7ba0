package module

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestCheckModeDiffs runs the file modules in check and diff mode on a file: each reports the
// change and Ansible's diff of it, and the file stays as it was.
func TestCheckModeDiffs(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	tests := []struct {
		name   string
		module string
		args   map[string]any
		diff   any
	}{
		{"copy content", "copy", map[string]any{"content": "one\n2\n", "dest": f},
			[]any{map[string]any{"before_header": f, "before": "one\ntwo\n", "after": "one\n2\n"}}},
		{"copy mode only", "copy", map[string]any{"content": "one\ntwo\n", "dest": f, "mode": "0600"},
			map[string]any{"before": map[string]any{"path": f, "mode": "0644"}, "after": map[string]any{"path": f, "mode": "0600"}}},
		{"copy to a new file", "copy", map[string]any{"content": "x", "dest": f + "2"},
			[]any{map[string]any{"before": "", "after": "x"}}},
		{"copy into a directory still to be made", "copy", map[string]any{"content": "x", "dest": filepath.Join(dir, "later", "f")},
			[]any{map[string]any{"before": "", "after": "x"}}},
		{"lineinfile", "lineinfile", map[string]any{"path": f, "line": "three", "mode": "0640"},
			[]any{map[string]any{"before": "one\ntwo\n", "after": "one\ntwo\nthree\n", "before_header": f + " (content)", "after_header": f + " (content)"},
				map[string]any{"before": map[string]any{"mode": "0644"}, "after": map[string]any{"mode": "0640"},
					"before_header": f + " (file attributes)", "after_header": f + " (file attributes)"}}},
		{"replace", "replace", map[string]any{"path": f, "regexp": "^two$", "replace": "2"},
			map[string]any{"before_header": f, "before": "one\ntwo\n", "after_header": f, "after": "one\n2\n"}},
		{"blockinfile", "blockinfile", map[string]any{"path": f, "block": "b", "mode": "0600"},
			[]any{map[string]any{"before": "one\ntwo\n", "after": "one\ntwo\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\n",
				"before_header": f + " (content)", "after_header": f + " (content)"},
				map[string]any{"before": map[string]any{"mode": "0644"}, "after": map[string]any{"mode": "0600"},
					"before_header": f + " (file attributes)", "after_header": f + " (file attributes)"}}},
		{"file absent", "file", map[string]any{"path": f, "state": "absent"},
			map[string]any{"before": map[string]any{"path": f, "state": "file"}, "after": map[string]any{"path": f, "state": "absent"}}},
		{"file directory", "file", map[string]any{"path": dir, "state": "absent"},
			map[string]any{"before": map[string]any{"path": dir, "state": "directory", "path_content": map[string]any{"directories": []any{}, "files": []any{f}}},
				"after": map[string]any{"path": dir, "state": "absent"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(f, []byte("one\ntwo\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(f, 0o644); err != nil {
				t.Fatal(err)
			}
			task := newTask(t)
			task.Check, task.Diff = true, true
			r := run(t, task, tt.module, tt.args)
			if r["changed"] != true {
				t.Errorf("changed = %v, want true: %v", r["changed"], r)
			}
			if !reflect.DeepEqual(r["diff"], tt.diff) {
				t.Errorf("diff =\n%#v\nwant\n%#v", r["diff"], tt.diff)
			}
			data, err := os.ReadFile(f)
			fi, _ := os.Stat(f)
			if err != nil || string(data) != "one\ntwo\n" || fi.Mode().Perm() != 0o644 {
				t.Errorf("the file changed in check mode: %q, %v, %v", data, fi.Mode(), err)
			}
			if _, err := os.Stat(f + "2"); err == nil {
				t.Errorf("check mode created %s2", f)
			}
		})
	}
}
