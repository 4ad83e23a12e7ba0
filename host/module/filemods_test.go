package module

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// editCase is a run of an editing module on a file holding initial ("" for none): the file
// it leaves, and the first run's changed and msg; a second run must change nothing, and a run
// in check mode before them must leave the file as it was.
type editCase struct {
	name    string
	initial string
	args    map[string]any
	want    string
	changed bool
	msg     string
}

func runEditCases(t *testing.T, module string, tests []editCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			args := map[string]any{"path": path}
			for k, v := range tt.args {
				args[k] = v
			}
			if tt.initial != "" {
				writeFile(t, path, tt.initial, 0o644)
			}
			dry := newTask(t)
			dry.Check = true
			if r := run(t, dry, module, args); r["changed"] != tt.changed {
				t.Errorf("check mode: changed = %v, want %v", r["changed"], tt.changed)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.initial {
				t.Errorf("check mode changed the file to %q", got)
			}
			for i, wantChanged := range []bool{tt.changed, false} {
				msg := tt.msg
				if i > 0 {
					msg = ""
				}
				task := newTask(t)
				calls := countCalls(task)
				check(t, run(t, task, module, args), map[string]any{"changed": wantChanged, "msg": msg})
				if calls.execs > 2 || calls.puts > 1 {
					t.Errorf("run %d: %d execs, %d puts", i, calls.execs, calls.puts)
				}
			}
			if got := readFile(t, path); got != tt.want {
				t.Errorf("file holds %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReplace(t *testing.T) {
	runEditCases(t, "replace", []editCase{
		{name: "every match, multiline", initial: "a=1\nb=2\na=3\n", args: map[string]any{"regexp": `^a=(\d)$`, "replace": `a=\1\1`},
			want: "a=11\nb=2\na=33\n", changed: true, msg: "2 replacements made"},
		{name: "named group", initial: "k: v\n", args: map[string]any{"regexp": `(?P<key>\w+): v`, "replace": `\g<key>: w`},
			want: "k: w\n", changed: true, msg: "1 replacements made"},
		{name: "empty replace deletes", initial: "keep\n# drop\n", args: map[string]any{"regexp": `^#.*\n`},
			want: "keep\n", changed: true, msg: "1 replacements made"},
		{name: "after and before bound the section", initial: "x\n[s]\nx\n[t]\nx\n", args: map[string]any{"regexp": "x", "replace": "y", "after": `\[s\]`, "before": `\[t\]`},
			want: "x\n[s]\ny\n[t]\nx\n", changed: true, msg: "1 replacements made"},
		{name: "after only", initial: "x\nSTART\nx\nx\n", args: map[string]any{"regexp": "^x$", "replace": "y", "after": "START"},
			want: "x\nSTART\ny\ny\n", changed: true, msg: "2 replacements made"},
		{name: "a match replaced by itself is no change", initial: "a\n", args: map[string]any{"regexp": "a", "replace": "a"}, want: "a\n"},
		{name: "no match", initial: "a\n", args: map[string]any{"regexp": "z"}, want: "a\n"},
		{name: "mode only", initial: "a\n", args: map[string]any{"regexp": "z", "mode": "0600"}, want: "a\n", changed: true,
			msg: "ownership, perms or SE linux context changed"},
		{name: "backtracking pattern", initial: "aa ab\n", args: map[string]any{"regexp": `(a)\1`, "replace": "X"}, want: "X ab\n", changed: true, msg: "1 replacements made"},
	})
}

func TestReplaceFailures(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/f", "a\n", 0o644)
	for _, tt := range []struct {
		args map[string]any
		want map[string]any
	}{
		{map[string]any{"path": dir + "/nope", "regexp": "a"}, map[string]any{"failed": true, "rc": 257, "msg": "Path " + dir + "/nope does not exist !"}},
		{map[string]any{"path": dir, "regexp": "a"}, map[string]any{"failed": true, "rc": 256, "msg": "Path " + dir + " is a directory !"}},
		{map[string]any{"path": dir + "/f", "regexp": "a", "after": "zz"},
			map[string]any{"changed": false, "rc": 0, "msg": "Pattern for before/after params did not match the given file: zz(?P<subsection>.*)"}},
		{map[string]any{"path": dir + "/f", "regexp": "a", "replace": "b", "validate": "false %s"},
			map[string]any{"failed": true, "msg": "failed to validate: rc:1 error:"}},
	} {
		check(t, run(t, newTask(t), "replace", tt.args), tt.want)
	}
	if got := readFile(t, dir+"/f"); got != "a\n" {
		t.Errorf("a failed validation changed the file: %q", got)
	}
	if _, err := runErr(newTask(t), "replace", map[string]any{"path": dir + "/f"}); err == nil || err.Error() != "missing required arguments: regexp" {
		t.Errorf("replace without regexp: %v", err)
	}
}

func TestBlockinfile(t *testing.T) {
	const block = "# BEGIN ANSIBLE MANAGED BLOCK\nx\ny\n# END ANSIBLE MANAGED BLOCK\n"
	runEditCases(t, "blockinfile", []editCase{
		{name: "append", initial: "a\n", args: map[string]any{"block": "x\ny"}, want: "a\n" + block, changed: true, msg: "Block inserted"},
		{name: "append after a missing newline", initial: "a", args: map[string]any{"block": "x\ny\n"}, want: "a\n" + block, changed: true, msg: "Block inserted"},
		{name: "replace the block between its markers", initial: "a\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\nb\n",
			args: map[string]any{"block": "x\ny"}, want: "a\n" + block + "b\n", changed: true, msg: "Block inserted"},
		{name: "insertbefore BOF", initial: "a\n", args: map[string]any{"block": "x\ny", "insertbefore": "BOF"}, want: block + "a\n", changed: true, msg: "Block inserted"},
		{name: "insertafter the last match", initial: "[s]\n[s]\nz\n", args: map[string]any{"block": "x\ny", "insertafter": `^\[s\]$`},
			want: "[s]\n[s]\n" + block + "z\n", changed: true, msg: "Block inserted"},
		{name: "insertbefore a match", initial: "a\nz\n", args: map[string]any{"block": "x\ny", "insertbefore": "^z"},
			want: "a\n" + block + "z\n", changed: true, msg: "Block inserted"},
		{name: "insertafter a (?m) match across lines", initial: "a\nS =\n  (L =\nz\n", args: map[string]any{"block": "x\ny", "insertafter": `(?m)S =\n.*\(L =`},
			want: "a\nS =\n  (L =\n" + block + "z\n", changed: true, msg: "Block inserted"},
		{name: "insertbefore a (?m) match across lines", initial: "a\nS =\n  (L =\nz\n", args: map[string]any{"block": "x\ny", "insertbefore": `(?m)S =\n.*\(L =`},
			want: "a\n" + block + "S =\n  (L =\nz\n", changed: true, msg: "Block inserted"},
		{name: "a pattern across lines without (?m) matches no line", initial: "a\nS =\n  (L =\nz\n", args: map[string]any{"block": "x\ny", "insertafter": `S =\n.*\(L =`},
			want: "a\nS =\n  (L =\nz\n" + block, changed: true, msg: "Block inserted"},
		{name: "own markers", initial: "a\n", args: map[string]any{"block": "x", "marker": "<!-- {mark} -->", "marker_begin": "B", "marker_end": "E"},
			want: "a\n<!-- B -->\nx\n<!-- E -->\n", changed: true, msg: "Block inserted"},
		{name: "absent", initial: "a\n" + block + "b\n", args: map[string]any{"state": "absent"}, want: "a\nb\n", changed: true, msg: "Block removed"},
		{name: "empty block removes", initial: block, args: map[string]any{"block": ""}, want: "", changed: true, msg: "Block removed"},
		{name: "create", args: map[string]any{"block": "x\ny", "create": true}, want: block, changed: true, msg: "File created"},
	})
}

func TestBlockinfileFailures(t *testing.T) {
	dir := t.TempDir()
	check(t, run(t, newTask(t), "blockinfile", map[string]any{"path": dir + "/nope", "block": "x"}),
		map[string]any{"failed": true, "rc": 257, "msg": "Path " + dir + "/nope does not exist !"})
	check(t, run(t, newTask(t), "blockinfile", map[string]any{"path": dir + "/nope", "state": "absent", "create": true}),
		map[string]any{"changed": false, "msg": "File " + dir + "/nope not present"})
	_, err := runErr(newTask(t), "blockinfile", map[string]any{"path": dir + "/f", "insertafter": "a", "insertbefore": "b"})
	if err == nil || err.Error() != "parameters are mutually exclusive: insertbefore|insertafter" {
		t.Errorf("insertafter with insertbefore: %v", err)
	}
}

func TestSlurp(t *testing.T) {
	dir := t.TempDir()
	data := "bin\x00ary\nand text"
	writeFile(t, dir+"/f", data, 0o644)
	writeFile(t, dir+"/secret", "x", 0o000)
	r := run(t, newTask(t), "slurp", map[string]any{"src": dir + "/f"})
	check(t, r, map[string]any{"changed": false, "encoding": "base64", "source": dir + "/f",
		"content": base64.StdEncoding.EncodeToString([]byte(data))})
	for _, tt := range []struct{ src, msg string }{
		{dir + "/nope", "file not found: " + dir + "/nope"},
		{dir, "source is a directory and must be a file: " + dir},
		{dir + "/f/x", "unable to slurp file: " + dir + "/f/x"}, // ENOTDIR, as Python's open() raises
	} {
		check(t, run(t, newTask(t), "slurp", map[string]any{"path": tt.src}), map[string]any{"failed": true, "msg": tt.msg})
	}
}

func TestFetch(t *testing.T) {
	remote, local := t.TempDir(), t.TempDir()
	writeFile(t, remote+"/f", "hello\n", 0o644)
	const sum = "f572d396fae9206628714fb2ce00f72e94f2258f"
	nested := local + "/local" + remote + "/f" // dest/HOST/PATH
	steps := []struct {
		args map[string]any
		want map[string]any
	}{
		{map[string]any{"src": remote + "/f", "dest": local},
			map[string]any{"changed": true, "dest": nested, "checksum": sum, "remote_checksum": sum, "md5sum": "b1946ac92492d2347c6235b4d2611184"}},
		{map[string]any{"src": remote + "/f", "dest": local},
			map[string]any{"changed": false, "dest": nested, "checksum": sum, "file": remote + "/f", "remote_checksum": nil}},
		{map[string]any{"src": remote + "/f", "dest": local + "/flat/", "flat": "yes"},
			map[string]any{"changed": true, "dest": local + "/flat/f"}},
		{map[string]any{"src": remote + "/f", "dest": local + "/flat", "flat": true},
			map[string]any{"failed": true, "msg": "dest is an existing directory, use a trailing slash if you want to fetch src into that directory"}},
		{map[string]any{"src": "rel/f", "dest": "fetched", "flat": true},
			map[string]any{"failed": true, "msg": "the remote file does not exist, not transferring, ignored"}},
		{map[string]any{"src": remote + "/nope", "dest": local, "fail_on_missing": false},
			map[string]any{"changed": false, "failed": nil, "file": remote + "/nope", "msg": "the remote file does not exist, not transferring, ignored"}},
		{map[string]any{"src": remote, "dest": local},
			map[string]any{"changed": false, "failed": true, "msg": "remote file is a directory, fetch cannot work on directories"}},
		{map[string]any{"src": remote + "/f"}, map[string]any{"failed": true, "msg": "src and dest are required"}},
	}
	for i, s := range steps {
		task := newTask(t)
		calls := countCalls(task)
		check(t, run(t, task, "fetch", s.args), s.want)
		if calls.execs > 1 || calls.puts > 0 {
			t.Errorf("step %d: %d execs, %d puts", i, calls.execs, calls.puts)
		}
	}
	for _, p := range []string{nested, local + "/flat/f"} {
		if got := readFile(t, p); got != "hello\n" {
			t.Errorf("%s holds %q", p, got)
		}
	}
	task := newTask(t)
	task.Check = true
	check(t, run(t, task, "fetch", map[string]any{"src": remote + "/f", "dest": local + "/c"}), map[string]any{"skipped": true})
	if _, err := os.Stat(local + "/c"); err == nil {
		t.Error("fetch in check mode wrote a file")
	}
	if _, err := runErr(newTask(t), "fetch", map[string]any{"src": "a", "dest": "b", "mode": "0644"}); err == nil || err.Error() != "Invalid options for fetch: mode" {
		t.Errorf("fetch with mode: %v", err)
	}
}

func TestTempfile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args       map[string]any
		mode, kind string
	}{
		{map[string]any{"path": dir}, "0600", "file"},
		{map[string]any{"path": dir, "state": "directory", "prefix": "p-", "suffix": ".d"}, "0700", "directory"},
	} {
		r := run(t, newTask(t), "tempfile", tt.args)
		check(t, r, map[string]any{"changed": true, "mode": tt.mode, "state": tt.kind})
		p, _ := r["path"].(string)
		prefix, suffix := "ansible.", ""
		if s, ok := tt.args["prefix"].(string); ok {
			prefix, suffix = s, tt.args["suffix"].(string)
		}
		base := filepath.Base(p)
		if filepath.Dir(p) != dir || !strings.HasPrefix(base, prefix) || !strings.HasSuffix(base, suffix) || len(base) != len(prefix)+8+len(suffix) {
			t.Errorf("path %q, want %s/%sXXXXXXXX%s", p, dir, prefix, suffix)
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	check(t, run(t, newTask(t), "tempfile", map[string]any{"path": dir + "/nope"}), map[string]any{"failed": true})
	task := newTask(t)
	task.Check = true
	check(t, run(t, task, "tempfile", map[string]any{"path": dir + "/nope"}),
		map[string]any{"skipped": true, "msg": "remote module (tempfile) does not support check mode"})
}

func TestAssemble(t *testing.T) {
	frags := t.TempDir()
	for name, data := range map[string]string{"10-b": "b", "01-a": "a\n", ".hidden": "h\n", "20-c.off": "c\n"} {
		writeFile(t, filepath.Join(frags, name), data, 0o644)
	}
	if err := os.Mkdir(filepath.Join(frags, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"all in name order", map[string]any{}, "h\na\nb\nc\n"},
		{"delimiter with escapes", map[string]any{"delimiter": `--\t`, "ignore_hidden": true}, "a\n--\t\nb\n--\t\nc\n"},
		{"regexp on names", map[string]any{"regexp": `^\d+-[ab]$`}, "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "dest")
			args := map[string]any{"src": frags, "dest": dest, "mode": "0640"}
			for k, v := range tt.args {
				args[k] = v
			}
			for i, changed := range []bool{true, false} {
				task := newTask(t)
				calls := countCalls(task)
				check(t, run(t, task, "assemble", args), map[string]any{"changed": changed, "msg": "OK", "src": frags, "dest": dest,
					"mode": "0640", "checksum": sha1Hex([]byte(tt.want))})
				if calls.execs > 4 || calls.puts > 1 {
					t.Errorf("run %d: %d execs, %d puts", i, calls.execs, calls.puts)
				}
			}
			if got := readFile(t, dest); got != tt.want {
				t.Errorf("assembled %q, want %q", got, tt.want)
			}
		})
	}
	task := newTask(t)
	task.Check = true
	check(t, run(t, task, "assemble", map[string]any{"src": frags, "dest": frags + "/x"}), map[string]any{"skipped": true})
	check(t, run(t, newTask(t), "assemble", map[string]any{"src": frags + "/nope", "dest": frags + "/x"}),
		map[string]any{"failed": true, "msg": "Source (" + frags + "/nope) does not exist"})

	// From the controller: the files search path, and the diff of copy.
	dest := filepath.Join(t.TempDir(), "dest")
	task = newTask(t)
	task.Diff = true
	r := run(t, task, "assemble", map[string]any{"src": "files", "dest": dest, "remote_src": false})
	want := readFile(t, "testdata/files/data.txt") + readFile(t, "testdata/files/hello.sh")
	check(t, r, map[string]any{"changed": true, "diff": map[string]any{"before": "", "after": want}})
	check(t, run(t, newTask(t), "assemble", map[string]any{"src": "files", "dest": dest, "remote_src": false}),
		map[string]any{"changed": false, "path": dest})
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a", "a/b", ".h"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{"x.txt": "needle\n", "y.log": "hay\n", ".z.txt": "", "a/w.txt": "a needle\n",
		"a/b/v.txt": "big file\n", ".h/u.txt": ""} {
		writeFile(t, filepath.Join(dir, name), data, 0o644)
	}
	if err := os.Symlink("a", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     map[string]any
		want     []string
		examined int
	}{
		{"top level files", map[string]any{}, []string{"x.txt", "y.log"}, 6},
		{"patterns", map[string]any{"patterns": "*.txt,*.none"}, []string{"x.txt"}, 6},
		{"excludes", map[string]any{"patterns": "*", "excludes": "y*"}, []string{"x.txt"}, 6},
		{"hidden", map[string]any{"patterns": "*.txt", "hidden": true}, []string{".z.txt", "x.txt"}, 6},
		{"recurse, each directory's files first", map[string]any{"patterns": "*.txt", "recurse": true, "hidden": true},
			[]string{".z.txt", "x.txt", ".h/u.txt", "a/w.txt", "a/b/v.txt"}, 10},
		{"depth", map[string]any{"patterns": "*.txt", "recurse": true, "depth": 2}, []string{"x.txt", ".h/u.txt", "a/w.txt"}, 10},
		{"depth 1", map[string]any{"patterns": "*.txt", "recurse": true, "depth": 1}, []string{"x.txt"}, 9},
		{"regex matched at the start", map[string]any{"patterns": `[xy]\.`, "use_regex": true}, []string{"x.txt", "y.log"}, 6},
		{"contains, by line start", map[string]any{"contains": "needle", "recurse": true}, []string{"x.txt"}, 10},
		{"contains, whole file", map[string]any{"contains": "needle", "read_whole_file": true, "recurse": true}, []string{"x.txt", "a/w.txt"}, 10},
		{"contains, whole file: $ matches before the final newline", map[string]any{"contains": "needle$", "read_whole_file": true, "recurse": true},
			[]string{"x.txt", "a/w.txt"}, 10},
		{"contains, whole file: \\Z only at the end", map[string]any{"contains": `needle\Z`, "read_whole_file": true, "recurse": true}, nil, 10},
		{"directories", map[string]any{"file_type": "directory", "recurse": true}, []string{"a", "a/b"}, 10},
		{"links", map[string]any{"file_type": "link"}, []string{"link"}, 6},
		{"size", map[string]any{"size": "8", "recurse": true}, []string{"a/w.txt", "a/b/v.txt"}, 10},
		{"age", map[string]any{"age": "-1h"}, []string{"x.txt", "y.log"}, 6},
		{"old age", map[string]any{"age": "1d"}, nil, 6},
		{"follow", map[string]any{"patterns": "w.txt", "recurse": true, "follow": true}, []string{"a/w.txt", "link/w.txt"}, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := map[string]any{"paths": dir}
			for k, v := range tt.args {
				args[k] = v
			}
			task := newTask(t)
			task.Check = true // find changes nothing and runs in check mode
			r := run(t, task, "find", args)
			var got []string
			for _, f := range r["files"].([]any) {
				rel, _ := filepath.Rel(dir, f.(map[string]any)["path"].(string))
				got = append(got, rel)
			}
			// os.walk's order: a directory's entries in readdir order, then its subdirectories'.
			for i := 1; i < len(got); i++ {
				if strings.Count(got[i], "/") < strings.Count(got[i-1], "/") {
					t.Errorf("found %q: a deeper entry before a shallower one", got)
				}
			}
			slices.Sort(got)
			slices.Sort(tt.want)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("found %q, want %q", got, tt.want)
			}
			check(t, r, map[string]any{"changed": false, "matched": len(tt.want), "examined": tt.examined,
				"msg": "All paths examined", "skipped_paths": map[string]any{}})
		})
	}
	r := run(t, newTask(t), "find", map[string]any{"paths": []any{dir + "/x.txt", dir}, "get_checksum": true, "patterns": "x.txt"})
	check(t, r, map[string]any{"matched": 1, "msg": "Not all paths examined, check warnings for details",
		"skipped_paths": map[string]any{dir + "/x.txt": "'" + dir + "/x.txt' is not a directory"}})
	f := r["files"].([]any)[0].(map[string]any)
	check(t, f, map[string]any{"checksum": sha1Hex([]byte("needle\n")), "isreg": true, "mode": "0644", "size": int64(7)})
	check(t, run(t, newTask(t), "find", map[string]any{"paths": dir, "age": "soon"}), map[string]any{"failed": true, "msg": "failed to process age", "age": "soon"})
}
