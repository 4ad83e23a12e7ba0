package module

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// step is one run of a module in a sequence sharing a directory: in args and want, $D stands
// for that directory and $T for testdata.
type step struct {
	args map[string]any
	want map[string]any
	// the most connection calls the step may make
	execs, puts int
}

func expand(v any, r *strings.Replacer) any {
	switch x := v.(type) {
	case string:
		return r.Replace(x)
	case map[string]any:
		out := map[string]any{}
		for k, v := range x {
			out[k] = expand(v, r)
		}
		return out
	}
	return v
}

func runSteps(t *testing.T, module string, steps []step) string {
	t.Helper()
	dir := t.TempDir()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	rep := strings.NewReplacer("$D", dir, "$T", testdata)
	for i, s := range steps {
		task := newTask(t)
		calls := countCalls(task)
		r := run(t, task, module, expand(s.args, rep).(map[string]any))
		check(t, r, expand(s.want, rep).(map[string]any))
		if calls.execs > s.execs || calls.puts > s.puts {
			t.Errorf("step %d: %d execs and %d puts, want at most %d and %d", i, calls.execs, calls.puts, s.execs, s.puts)
		}
	}
	return dir
}

func currentUser(t *testing.T) (*user.User, int) {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return u, uid
}

func TestCopy(t *testing.T) {
	u, uid := currentUser(t)
	const helloSum = "f572d396fae9206628714fb2ce00f72e94f2258f" // sha1 of "hello\n"
	dir := runSteps(t, "copy", []step{
		{args: map[string]any{"content": "hello\n", "dest": "$D/a"}, execs: 1, puts: 1,
			want: map[string]any{"changed": true, "dest": "$D/a", "checksum": helloSum, "size": int64(6), "mode": "0644",
				"state": "file", "md5sum": "b1946ac92492d2347c6235b4d2611184", "uid": uid, "owner": u.Username}},
		{args: map[string]any{"content": "hello\n", "dest": "$D/a"}, execs: 1,
			want: map[string]any{"changed": false, "dest": "$D/a", "path": "$D/a", "checksum": helloSum, "mode": "0644", "md5sum": nil}},
		{args: map[string]any{"content": "hello\n", "dest": "$D/a", "mode": "0600"}, execs: 2,
			want: map[string]any{"changed": true, "mode": "0600", "md5sum": nil}},
		{args: map[string]any{"content": "hello\n", "dest": "$D/a", "mode": "u=rw"}, execs: 1,
			want: map[string]any{"changed": false, "mode": "0600"}},
		{args: map[string]any{"content": "bye\n", "dest": "$D/a", "force": "no"}, execs: 1,
			want: map[string]any{"changed": false}},
		{args: map[string]any{"content": "bye\n", "dest": "$D/a", "mode": 0o640, "owner": u.Uid}, execs: 1, puts: 1,
			want: map[string]any{"changed": true, "mode": "0640", "size": int64(4), "owner": u.Username}},
		{args: map[string]any{"src": "data.txt", "dest": "$D/"}, execs: 1, puts: 1,
			want: map[string]any{"changed": true, "dest": "$D/data.txt", "src": "$T/files/data.txt"}},
		{args: map[string]any{"src": "data.txt", "dest": "$D"}, execs: 1,
			want: map[string]any{"changed": false, "dest": "$D/data.txt"}},
		{args: map[string]any{"src": "$T/files/data.txt", "dest": "$D/new/"}, execs: 1, puts: 1,
			want: map[string]any{"changed": true, "dest": "$D/new/data.txt"}},
		{args: map[string]any{"src": "hello.sh", "dest": "$D/s", "mode": "preserve"}, execs: 1, puts: 1,
			want: map[string]any{"changed": true, "mode": "0755"}},
		{args: map[string]any{"content": map[string]any{"k": []any{1, "v"}}, "dest": "$D/j"}, execs: 1, puts: 1,
			want: map[string]any{"changed": true, "size": int64(len(`{"k": [1, "v"]}`))}},
		{args: map[string]any{"content": "x", "dest": "$D/missing/f"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "Destination directory $D/missing does not exist"}},
		{args: map[string]any{"content": "x", "dest": "$D/new"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "can not use content with a dir as dest"}},
		{args: map[string]any{"content": "x", "dest": "$D/"},
			want: map[string]any{"failed": true, "msg": "can not use content with a dir as dest"}},
		{args: map[string]any{"dest": "$D/x"}, want: map[string]any{"failed": true, "msg": "src (or content) is required"}},
		{args: map[string]any{"content": "x", "src": "data.txt", "dest": "$D/x"},
			want: map[string]any{"failed": true, "msg": "src and content are mutually exclusive"}},
		{args: map[string]any{"content": "x", "dest": "$D/a", "mode": "yes"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "mode must be in octal or symbolic form", "details": "bad symbolic permission for mode: yes"}},
	})
	if got := readFile(t, filepath.Join(dir, "a")); got != "bye\n" {
		t.Errorf("a holds %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "j")); got != `{"k": [1, "v"]}` {
		t.Errorf("j holds %q", got)
	}
	if m := fileMode(t, filepath.Join(dir, "a")); m != 0o640 {
		t.Errorf("a has mode %v", m)
	}
}

// TestCopyRemoteSrc pins copy with remote_src: the host's file is read and put as a
// controller file would be, mode=preserve takes its mode, a missing one fails as Ansible's.
func TestCopyRemoteSrc(t *testing.T) {
	const helloSum = "f572d396fae9206628714fb2ce00f72e94f2258f" // sha1 of "hello\n"
	runSteps(t, "copy", []step{
		{args: map[string]any{"content": "hello\n", "dest": "$D/src", "mode": "0640"}, execs: 2, puts: 1,
			want: map[string]any{"changed": true}},
		{args: map[string]any{"src": "$D/src", "dest": "$D/dst", "remote_src": true}, execs: 2, puts: 1,
			want: map[string]any{"changed": true, "dest": "$D/dst", "src": "$D/src", "checksum": helloSum, "mode": "0644"}},
		{args: map[string]any{"src": "$D/src", "dest": "$D/dst", "remote_src": "yes"}, execs: 2,
			want: map[string]any{"changed": false, "checksum": helloSum}},
		{args: map[string]any{"src": "$D/src", "dest": "$D/", "remote_src": true, "mode": "preserve"}, execs: 2,
			want: map[string]any{"changed": false, "dest": "$D/src", "mode": "0640"}},
		{args: map[string]any{"src": "$D/src", "dest": "$D/kept", "remote_src": true, "mode": "preserve"}, execs: 2, puts: 1,
			want: map[string]any{"changed": true, "mode": "0640"}},
		{args: map[string]any{"src": "$D/none", "dest": "$D/x", "remote_src": true}, execs: 1,
			want: map[string]any{"failed": true, "msg": "Source $D/none not found"}},
	})
}

// TestCopyDirectory pins copy of a controller directory: without a trailing slash the
// directory itself lands in dest, with one its contents; directory_mode goes to the directories
// made; a second run is unchanged; the result is Ansible's dest (with a slash), src, changed.
func TestCopyDirectory(t *testing.T) {
	dir := runSteps(t, "copy", []step{
		{args: map[string]any{"src": "$T/files", "dest": "$D/one", "directory_mode": "0750", "mode": "0600"}, execs: 4, puts: 2,
			want: map[string]any{"changed": true, "dest": "$D/one/", "src": "$T/files"}},
		{args: map[string]any{"src": "$T/files", "dest": "$D/one", "directory_mode": "0750", "mode": "0600"}, execs: 3,
			want: map[string]any{"changed": false, "dest": "$D/one/", "src": "$T/files"}},
		{args: map[string]any{"src": "files/", "dest": "$D/two/"}, execs: 4, puts: 2,
			want: map[string]any{"changed": true, "dest": "$D/two/", "src": "$T/files/"}},
	})
	for name, want := range map[string]os.FileMode{"one": fs.ModeDir | 0o750, "one/files": fs.ModeDir | 0o750, "one/files/hello.sh": 0o600, "two/data.txt": 0o644} {
		if m := fileMode(t, filepath.Join(dir, name)); m != want {
			t.Errorf("%s has mode %v, want %v", name, m, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "two/files")); !os.IsNotExist(err) {
		t.Errorf("two/files: %v, want it absent", err)
	}
}

// TestWalkSourceLocalFollow pins _walk_dirs' handling of links: followed, a link to a file is
// that file and a link to a directory is walked, except one back to a walked directory.
func TestWalkSourceLocalFollow(t *testing.T) {
	top := t.TempDir()
	for _, d := range []string{"sub"} {
		if err := os.Mkdir(filepath.Join(top, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a", "sub/b"} {
		if err := os.WriteFile(filepath.Join(top, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"la": "a", "lsub": "sub", "sub/up": ".."} {
		if err := os.Symlink(target, filepath.Join(top, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		follow bool
		want   string
	}{
		{true, "files [a:t/a la:t/a lsub/b:t/sub/b sub/b:t/sub/b] dirs [t/lsub t/sub] links [lsub/up->.. sub/up->..]"},
		{false, "files [a:t/a sub/b:t/sub/b] dirs [t/sub] links [la->a lsub->sub sub/up->..]"},
	} {
		var tree srcTree
		if err := walkSource(top, "t", tt.follow, []string{top}, &tree); err != nil {
			t.Fatal(err)
		}
		var files, links []string
		for _, f := range tree.files {
			files = append(files, strings.TrimPrefix(f[1], "t/")+":t"+strings.TrimPrefix(f[0], top))
		}
		for _, l := range tree.links {
			links = append(links, strings.TrimPrefix(l[1], "t/")+"->"+l[0])
		}
		sort.Strings(files)
		sort.Strings(links)
		sort.Strings(tree.dirs)
		if got := fmt.Sprintf("files %v dirs %v links %v", files, tree.dirs, links); got != tt.want {
			t.Errorf("local_follow %v: %s\nwant %s", tt.follow, got, tt.want)
		}
	}
}

func TestCopyCensorsContent(t *testing.T) {
	r := run(t, newTask(t), "copy", map[string]any{"content": "secret", "dest": t.TempDir() + "/f"})
	args := r["invocation"].(map[string]any)["module_args"].(map[string]any)
	if args["content"] != "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" || args["force"] != true {
		t.Errorf("invocation = %v", args)
	}
}

// TestCopyAndTemplateValidateBeforeWriting pins validate as Ansible's copy module runs it (for
// template too): only when the content changes, after the backup, on a file holding the new
// content with dest's new mode, formatted with Python's % and run without a shell; a failure
// leaves dest as it was.
func TestCopyAndTemplateValidateBeforeWriting(t *testing.T) {
	dir := runSteps(t, "copy", []step{
		{args: map[string]any{"content": "good\n", "dest": "$D/v", "validate": "grep -q good %s"}, execs: 3, puts: 2,
			want: map[string]any{"changed": true, "failed": nil}},
		{args: map[string]any{"content": "good\n", "dest": "$D/v", "validate": "false %s"}, execs: 1,
			want: map[string]any{"changed": false, "failed": nil}},
		{args: map[string]any{"content": "bad\n", "dest": "$D/v", "validate": "sh -c 'echo out; echo err >&2; exit 3' %s", "backup": true},
			execs: 4, puts: 1,
			want: map[string]any{"failed": true, "msg": "failed to validate", "exit_status": 3, "stdout": "out\n", "stderr": "err\n"}},
		{args: map[string]any{"content": "bad\n", "dest": "$D/v", "validate": "true"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "validate must contain %s: true"}},
		{args: map[string]any{"content": "new\n", "dest": "$D/m", "mode": "0640", "validate": `sh -c 'test "$(stat -c %%a "$0")" = 640' %s`},
			execs: 3, puts: 2, want: map[string]any{"changed": true, "mode": "0640"}},
		// Python's % formatting and no shell: a second %s raises, $(...) is not expanded.
		{args: map[string]any{"content": "x\n", "dest": "$D/p", "validate": "echo %s %s"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error",
				"module_stderr": "not enough arguments for format string\n"}},
		{args: map[string]any{"content": "x\n", "dest": "$D/p", "validate": `test "$(echo 1)" = 1 %s`}, execs: 3, puts: 1,
			want: map[string]any{"failed": true, "msg": "failed to validate"}},
	})
	if got := readFile(t, filepath.Join(dir, "v")); got != "good\n" {
		t.Errorf("v holds %q after a failed validation, want the content before it", got)
	}
	backups, _ := filepath.Glob(filepath.Join(dir, "v.*~"))
	if len(backups) != 1 {
		t.Errorf("backups of v: %v, want the one made before the failed validation", backups)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "*tally-validate*")); len(leftovers) > 0 {
		t.Errorf("validation files left behind: %v", leftovers)
	}
	runSteps(t, "template", []step{
		{args: map[string]any{"src": "greeting.j2", "dest": "$D/t", "validate": "grep -q nothing-like-it %s"}, execs: 4, puts: 1,
			want: map[string]any{"failed": true, "msg": "failed to validate", "exit_status": 1}},
	})
}

// TestTemplateFailuresAreAnsiblesExceptions pins the template action's message for a template
// that fails to render: the exception's class, then its text.
func TestTemplateFailuresAreAnsiblesExceptions(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ text, msg string }{
		{"Hello {{ who }}\n", "AnsibleUndefinedVariable: 'who' is undefined. 'who' is undefined"},
		{"{{ 1 | asdf }}\n", "AnsibleError: template error while templating string: Could not load \"asdf\": 'asdf'. String: {{ 1 | asdf }}\n. Could not load \"asdf\": 'asdf'"},
		{"{{ [1] | select('asdf ') | list }}\n", "TemplateSyntaxError: Could not load \"asdf \": 'invalid plugin name: ansible.builtin.asdf '\n  line 0"},
	} {
		writeFile(t, dir+"/t.j2", c.text, 0o644)
		r := run(t, newTask(t), "template", map[string]any{"src": dir + "/t.j2", "dest": dir + "/out"})
		check(t, r, map[string]any{"failed": true, "changed": false, "msg": c.msg})
	}
}

func TestCopyErrors(t *testing.T) {
	for _, tt := range []struct {
		args    map[string]any
		wantErr string
	}{
		{map[string]any{"src": "nope.txt", "dest": "/nonexistent/x"}, "Could not find or access 'nope.txt'"},
		{map[string]any{"content": "x", "dest": "/nonexistent/x", "checksum_algo": "md5"}, "Unsupported parameters for (copy) module: checksum_algo."},
	} {
		_, err := runErr(newTask(t), "copy", tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("copy %v: error %v, want %q", tt.args, err, tt.wantErr)
		}
	}
}

func TestTemplate(t *testing.T) {
	dir := runSteps(t, "template", []step{
		{args: map[string]any{"src": "greeting.j2", "dest": "$D/g", "mode": "0600"}, execs: 1, puts: 1,
			want: map[string]any{"changed": true, "dest": "$D/g", "mode": "0600", "size": int64(len("hello world\n"))}},
		{args: map[string]any{"src": "greeting.j2", "dest": "$D/g", "mode": "0600"}, execs: 1,
			want: map[string]any{"changed": false}},
		{args: map[string]any{"src": "greeting.j2", "dest": "$D/"}, execs: 1, puts: 1,
			want: map[string]any{"changed": true, "dest": "$D/greeting.j2"}},
	})
	if got := readFile(t, filepath.Join(dir, "g")); got != "hello world\n" {
		t.Errorf("rendered %q", got)
	}
	if _, err := runErr(newTask(t), "template", map[string]any{"src": "greeting.j2"}); err == nil || err.Error() != "src and dest are required" {
		t.Errorf("template without dest: %v", err)
	}
}

func TestFile(t *testing.T) {
	u, uid := currentUser(t)
	dir := runSteps(t, "file", []step{
		{args: map[string]any{"path": "$D/d", "state": "directory"}, execs: 2,
			want: map[string]any{"changed": true, "path": "$D/d", "state": "directory", "mode": "0755", "uid": uid, "owner": u.Username}},
		{args: map[string]any{"path": "$D/d", "state": "directory"}, execs: 1,
			want: map[string]any{"changed": false, "state": "directory"}},
		{args: map[string]any{"path": "$D/d/e/f", "state": "directory", "mode": "0700"}, execs: 2,
			want: map[string]any{"changed": true, "mode": "0700"}},
		{args: map[string]any{"path": "$D/d/e", "mode": "u=rwx,go="}, execs: 1,
			want: map[string]any{"changed": false, "state": "directory", "mode": "0700"}},
		{args: map[string]any{"path": "$D/t", "state": "touch"}, execs: 2,
			want: map[string]any{"changed": true, "dest": "$D/t", "state": "file", "size": int64(0), "mode": "0644"}},
		{args: map[string]any{"path": "$D/t", "state": "touch", "mode": "0600"}, execs: 2,
			want: map[string]any{"changed": true, "mode": "0600"}},
		{args: map[string]any{"path": "$D/t", "mode": "0640"}, execs: 2,
			want: map[string]any{"changed": true, "path": "$D/t", "state": "file", "mode": "0640"}},
		{args: map[string]any{"path": "$D/t", "mode": "0640", "owner": u.Username}, execs: 1,
			want: map[string]any{"changed": false}},
		{args: map[string]any{"path": "$D/missing"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "file ($D/missing) is absent, cannot continue", "state": "absent"}},
		{args: map[string]any{"path": "$D/d", "state": "file"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "file ($D/d) is directory, cannot continue"}},
		{args: map[string]any{"path": "$D/t", "state": "directory"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "$D/t already exists as a file"}},
		{args: map[string]any{"path": "$D/l", "src": "$D/t", "state": "link"}, execs: 2,
			want: map[string]any{"changed": true, "dest": "$D/l", "src": "$D/t", "state": "link", "mode": "0777"}},
		{args: map[string]any{"path": "$D/l", "src": "$D/t", "state": "link"}, execs: 1,
			want: map[string]any{"changed": false, "state": "link"}},
		{args: map[string]any{"path": "$D/l", "src": "d", "state": "link"}, execs: 2,
			want: map[string]any{"changed": true, "src": "d"}},
		{args: map[string]any{"path": "$D/l"}, execs: 1,
			want: map[string]any{"changed": false, "state": "link"}},
		{args: map[string]any{"path": "$D/l2", "src": "nope", "state": "link"}, execs: 1,
			want: map[string]any{"failed": true, "msg": `src file does not exist, use "force=yes" if you really want to create the link: $D/nope`}},
		{args: map[string]any{"path": "$D/l2", "src": "nope", "state": "link", "force": true}, execs: 2,
			want: map[string]any{"changed": true}},
		{args: map[string]any{"path": "$D/loop", "src": "loop", "state": "link", "force": true}, execs: 2,
			want: map[string]any{"changed": true}},
		{args: map[string]any{"path": "$D/loop", "state": "absent"}, execs: 2,
			want: map[string]any{"changed": true, "path": "$D/loop", "state": "absent"}},
		{args: map[string]any{"path": "$D/t", "src": "$D/d", "state": "link"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "refusing to convert from file to symlink for $D/t"}},
		{args: map[string]any{"path": "$D/x", "src": "$D/d"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "src option requires state to be 'link' or 'hard'"}},
		{args: map[string]any{"path": "$D/d", "state": "absent"}, execs: 2,
			want: map[string]any{"changed": true, "path": "$D/d", "state": "absent"}},
		{args: map[string]any{"path": "$D/d", "state": "absent"}, execs: 1,
			want: map[string]any{"changed": false, "state": "absent"}},
		{args: map[string]any{"path": "$D/l", "state": "file"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "file ($D/d) is absent, cannot continue"}},
	})
	if _, err := os.Stat(filepath.Join(dir, "d")); !os.IsNotExist(err) {
		t.Errorf("d still exists: %v", err)
	}
	if target, _ := os.Readlink(filepath.Join(dir, "l")); target != "d" {
		t.Errorf("l points to %q", target)
	}
}

// TestFileHard pins state=hard as Ansible's ensure_hardlink: a new link, a second run ok, a
// different link or a file replaced only with force, Ansible's messages, and a diff always.
func TestFileHard(t *testing.T) {
	dir := runSteps(t, "file", []step{
		{args: map[string]any{"path": "$D/a", "state": "touch", "mode": "0640"}, execs: 2, want: map[string]any{"changed": true}},
		{args: map[string]any{"path": "$D/b", "state": "touch"}, execs: 2, want: map[string]any{"changed": true}},
		{args: map[string]any{"path": "$D/h", "src": "$D/a", "state": "hard"}, execs: 3,
			want: map[string]any{"changed": true, "dest": "$D/h", "src": "$D/a", "state": "hard", "mode": "0640",
				"diff": map[string]any{"before": map[string]any{"path": "$D/h", "state": "absent"}, "after": map[string]any{"path": "$D/h", "state": "hard"}}}},
		{args: map[string]any{"path": "$D/h", "src": "$D/a", "state": "hard"}, execs: 2,
			want: map[string]any{"changed": false, "state": "hard", "diff": map[string]any{"before": map[string]any{"path": "$D/h"}, "after": map[string]any{"path": "$D/h"}}}},
		{args: map[string]any{"path": "$D/h"}, execs: 1,
			want: map[string]any{"changed": false, "dest": "$D/h", "src": nil, "state": "hard"}},
		{args: map[string]any{"path": "$D/h", "src": "$D/b", "state": "hard"}, execs: 2,
			want: map[string]any{"failed": true, "msg": "Cannot link, different hard link exists at destination", "dest": "$D/h", "src": "$D/b", "state": "hard"}},
		{args: map[string]any{"path": "$D/h", "src": "$D/b", "state": "hard", "force": true, "mode": "0600"}, execs: 3,
			want: map[string]any{"changed": true, "mode": "0600", "diff": map[string]any{"before": map[string]any{"path": "$D/h", "mode": "0644"}, "after": map[string]any{"path": "$D/h", "mode": "0600"}}}},
		{args: map[string]any{"path": "$D/a", "src": "$D/b", "state": "hard"}, execs: 2,
			want: map[string]any{"failed": true, "msg": "Cannot link, file exists at destination", "state": "file"}},
		{args: map[string]any{"path": "$D/x", "src": "$D/none", "state": "hard"}, execs: 2,
			want: map[string]any{"failed": true, "msg": "src does not exist", "dest": "$D/x", "src": "$D/none"}},
		{args: map[string]any{"path": "$D/y", "state": "hard"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "src is required for creating new hardlinks"}},
		// As Ansible's additional_parameter_handling: a directory path means the file of src's name in it.
		{args: map[string]any{"path": "$D/sub", "state": "directory"}, execs: 2, want: map[string]any{"changed": true}},
		{args: map[string]any{"path": "$D/sub", "src": "$D/a", "state": "hard"}, execs: 4,
			want: map[string]any{"changed": true, "dest": "$D/sub/a", "src": "$D/a", "state": "hard"}},
		{args: map[string]any{"path": "$D/sub", "_original_basename": "o", "state": "touch"}, execs: 3,
			want: map[string]any{"changed": true, "dest": "$D/sub/o", "state": "file"}},
	})
	a, _ := os.Stat(filepath.Join(dir, "b"))
	h, _ := os.Stat(filepath.Join(dir, "h"))
	if a == nil || h == nil || !os.SameFile(a, h) {
		t.Errorf("h is not a hard link of b")
	}
}

// TestFileDiffPeek pins Ansible's internal _diff_peek: changes nothing, and tells a file with a
// NUL in its first 8192 bytes as binary.
func TestFileDiffPeek(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/text", "text\n", 0o644)
	writeFile(t, dir+"/bin", "a\x00b", 0o644)
	for name, want := range map[string]bool{"text": false, "bin": true, "missing": false} {
		check(t, run(t, newTask(t), "file", map[string]any{"path": dir + "/" + name, "_diff_peek": true}),
			map[string]any{"changed": false, "path": dir + "/" + name, "appears_binary": want, "state": nil})
	}
}

// TestFileTimes pins modification_time and access_time as Ansible's update_timestamp_for_file:
// a time in its format is set and changes only when it differs, preserve keeps the times (and
// touch then only creates), now always changes, and a time that does not parse fails.
func TestFileTimes(t *testing.T) {
	const stampText = "202001021530.45"
	stamp := time.Date(2020, 1, 2, 15, 30, 45, 0, time.Local)
	dir := runSteps(t, "file", []step{
		{args: map[string]any{"path": "$D/f", "state": "touch", "modification_time": stampText, "access_time": "preserve"}, execs: 4,
			want: map[string]any{"changed": true, "dest": "$D/f"}},
		{args: map[string]any{"path": "$D/f", "state": "touch", "modification_time": stampText, "access_time": "preserve"}, execs: 2,
			want: map[string]any{"changed": false}},
		{args: map[string]any{"path": "$D/f", "access_time": "2020-01-02 15:30:45", "access_time_format": "%Y-%m-%d %H:%M:%S"}, execs: 3,
			want: map[string]any{"changed": true, "path": "$D/f"}},
		{args: map[string]any{"path": "$D/f", "state": "file", "access_time": stampText, "modification_time": stampText}, execs: 2,
			want: map[string]any{"changed": false}},
		{args: map[string]any{"path": "$D/g", "state": "touch", "modification_time": "preserve", "access_time": "preserve"}, execs: 2,
			want: map[string]any{"changed": true}},
		{args: map[string]any{"path": "$D/g", "state": "touch", "modification_time": "preserve", "access_time": "preserve"}, execs: 1,
			want: map[string]any{"changed": false}},
		{args: map[string]any{"path": "$D/g", "modification_time": "now"}, execs: 3,
			want: map[string]any{"changed": true}},
		{args: map[string]any{"path": "$D/f", "modification_time": "bad"}, execs: 1,
			want: map[string]any{"failed": true, "msg": "Error while obtaining timestamp for time bad using format %Y%m%d%H%M.%S: time data 'bad' does not match format '%Y%m%d%H%M.%S'"}},
	})
	fi, err := os.Stat(filepath.Join(dir, "f"))
	if err != nil || !fi.ModTime().Equal(stamp) {
		t.Errorf("f's modification time is %v (%v), want %v", fi.ModTime(), err, stamp)
	}
}

// TestFileDirectoryToleratesAnotherHostCreatingItFirst pins Ansible's tolerance of EEXIST in
// ensure_directory: when two hosts on one machine create the same missing parent, the one whose
// mkdir finds it already made goes on. A mkdir on the PATH makes the directory just before the
// real one runs, as the other host would; the mode is still set on it.
func TestFileDirectoryToleratesAnotherHostCreatingItFirst(t *testing.T) {
	shim := t.TempDir()
	real, err := exec.LookPath("mkdir")
	if err != nil {
		t.Skip(err)
	}
	script := "#!/bin/sh\n[ \"$1\" = -- ] && shift\n" + real + " -- \"$1\"\nexec " + real + " -- \"$1\"\n"
	if err := os.WriteFile(filepath.Join(shim, "mkdir"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", shim+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	r := run(t, newTask(t), "file", map[string]any{"path": dir + "/a/b", "state": "directory", "mode": "0700"})
	check(t, r, map[string]any{"changed": true, "state": "directory", "mode": "0700"})
	if fi, err := os.Stat(filepath.Join(dir, "a")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("a: %v, want a directory with mode 0700", err)
		if err == nil {
			t.Errorf("a's mode is %v", fi.Mode())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "b")); err != nil {
		t.Error(err)
	}
}

func TestFileErrors(t *testing.T) {
	for _, tt := range []struct {
		args    map[string]any
		wantErr string
	}{
		{map[string]any{"state": "file"}, "missing required arguments: path"},
		{map[string]any{"path": "/x", "state": "fifo"}, "value of state must be one of: absent, directory, file, hard, link, touch, got: fifo"},
		{map[string]any{"path": "/x", "state": "directory", "recurse": true, "modification_time": "now"}, "recurse with modification_time or access_time is not supported"},
	} {
		_, err := runErr(newTask(t), "file", tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("file %v: error %v, want %q", tt.args, err, tt.wantErr)
		}
	}
}

func TestStat(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	writeFile(t, f, "hello\n", fs.ModeSetuid|0o751)
	if err := os.Symlink("f", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	u, uid := currentUser(t)
	tests := []struct {
		name string
		args map[string]any
		want map[string]any
	}{
		{name: "file", args: map[string]any{"path": f},
			want: map[string]any{"exists": true, "path": f, "isreg": true, "isdir": false, "islnk": false, "mode": "4751",
				"size": int64(6), "uid": uid, "pw_name": u.Username, "isuid": true, "xoth": true, "woth": false,
				"checksum": "f572d396fae9206628714fb2ce00f72e94f2258f", "readable": true}},
		{name: "other checksum", args: map[string]any{"path": f, "checksum_algorithm": "sha256"},
			want: map[string]any{"checksum": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"}},
		{name: "no checksum", args: map[string]any{"path": f, "get_checksum": "no"},
			want: map[string]any{"checksum": nil}},
		{name: "link not followed", args: map[string]any{"path": dir + "/l"},
			want: map[string]any{"islnk": true, "isreg": false, "lnk_target": "f", "lnk_source": f, "checksum": nil}},
		{name: "link followed", args: map[string]any{"path": dir + "/l", "follow": true},
			want: map[string]any{"islnk": false, "isreg": true, "checksum": "f572d396fae9206628714fb2ce00f72e94f2258f"}},
		{name: "directory", args: map[string]any{"dest": dir},
			want: map[string]any{"isdir": true, "exists": true}},
		{name: "missing", args: map[string]any{"path": dir + "/nope"},
			want: map[string]any{"exists": false, "isreg": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := newTask(t)
			calls := countCalls(task)
			r := run(t, task, "stat", tt.args)
			check(t, r, map[string]any{"changed": false})
			check(t, r["stat"].(map[string]any), tt.want)
			if calls.execs != 1 {
				t.Errorf("%d execs, want 1", calls.execs)
			}
		})
	}
	mtime := run(t, newTask(t), "stat", map[string]any{"path": f})["stat"].(map[string]any)["mtime"].(float64)
	fi, _ := os.Stat(f)
	if want := float64(fi.ModTime().UnixNano()) / 1e9; mtime < want-1e-3 || mtime > want+1e-3 {
		t.Errorf("mtime = %f, want %f", mtime, want)
	}
}

func TestLineinfile(t *testing.T) {
	tests := []struct {
		name    string
		initial string // "" for no file
		args    map[string]any
		want    string
		changed bool
		msg     string
	}{
		{name: "append", initial: "a=1\nb=2\n", args: map[string]any{"line": "c=3"}, want: "a=1\nb=2\nc=3\n", changed: true, msg: "line added"},
		{name: "present already", initial: "a=1\nc=3\n", args: map[string]any{"line": "c=3"}, want: "a=1\nc=3\n"},
		{name: "append after missing newline", initial: "a=1", args: map[string]any{"line": "b=2"}, want: "a=1\nb=2\n", changed: true, msg: "line added"},
		{name: "replace last match", initial: "a=1\nb=2\na=3\n", args: map[string]any{"regexp": "^a=", "line": "a=9"},
			want: "a=1\nb=2\na=9\n", changed: true, msg: "line replaced"},
		{name: "replace first match", initial: "a=1\nb=2\na=3\n", args: map[string]any{"regexp": "^a=", "line": "a=9", "firstmatch": true},
			want: "a=9\nb=2\na=3\n", changed: true, msg: "line replaced"},
		{name: "regexp matching the line already", initial: "a=9\n", args: map[string]any{"regexp": "^a=", "line": "a=9"}, want: "a=9\n"},
		{name: "search string", initial: "x foo y\n", args: map[string]any{"search_string": "foo", "line": "bar"},
			want: "bar\n", changed: true, msg: "line replaced"},
		{name: "backrefs", initial: "a=1\n", args: map[string]any{"regexp": `^(\w)=(\d)$`, "line": `\2=\1 \g<1>`, "backrefs": "yes"},
			want: "1=a a\n", changed: true, msg: "line replaced"},
		{name: "backrefs without match do nothing", initial: "a=1\n", args: map[string]any{"regexp": "^zz", "line": "x", "backrefs": true}, want: "a=1\n"},
		{name: "insertbefore BOF", initial: "a\n", args: map[string]any{"line": "first", "insertbefore": "BOF"},
			want: "first\na\n", changed: true, msg: "line added"},
		{name: "insertafter regex", initial: "[s]\nk=v\n[t]\n", args: map[string]any{"line": "n=1", "insertafter": `^\[s\]`},
			want: "[s]\nn=1\nk=v\n[t]\n", changed: true, msg: "line added"},
		{name: "insertafter regex already there", initial: "[s]\nn=1\n", args: map[string]any{"line": "n=1", "insertafter": `^\[s\]`}, want: "[s]\nn=1\n"},
		{name: "insertbefore regex", initial: "a\n[t]\n", args: map[string]any{"line": "b", "insertbefore": `^\[t\]`},
			want: "a\nb\n[t]\n", changed: true, msg: "line added"},
		{name: "insertafter without a match appends", initial: "a\n", args: map[string]any{"line": "b", "insertafter": "^nomatch"},
			want: "a\nb\n", changed: true, msg: "line added"},
		{name: "absent by regexp", initial: "a=1\nb=2\na=3\n", args: map[string]any{"regexp": "^a=", "state": "absent"},
			want: "b=2\n", changed: true, msg: "2 line(s) removed"},
		{name: "absent by line", initial: "a\nb\n", args: map[string]any{"line": "b", "state": "absent"}, want: "a\n", changed: true, msg: "1 line(s) removed"},
		{name: "absent nothing to remove", initial: "a\n", args: map[string]any{"line": "b", "state": "absent"}, want: "a\n"},
		{name: "create", args: map[string]any{"line": "new", "create": "yes", "path": "$D/sub/f"}, want: "new\n", changed: true, msg: "line added"},
		{name: "mode only", initial: "a\n", args: map[string]any{"line": "a", "mode": "0600"}, want: "a\n", changed: true,
			msg: "ownership, perms or SE linux context changed"},
		{name: "line and mode", initial: "a\n", args: map[string]any{"line": "b", "mode": "0600"}, want: "a\nb\n", changed: true,
			msg: "line added and ownership, perms or SE linux context changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			args := map[string]any{"path": path}
			for k, v := range tt.args {
				args[k] = expand(v, strings.NewReplacer("$D", dir))
			}
			path = args["path"].(string)
			if tt.initial != "" {
				writeFile(t, path, tt.initial, 0o644)
			}
			for i, wantChanged := range []bool{tt.changed, false} {
				task := newTask(t)
				calls := countCalls(task)
				r := run(t, task, "lineinfile", args)
				msg := tt.msg
				if i > 0 {
					msg = ""
				}
				check(t, r, map[string]any{"changed": wantChanged, "msg": msg, "backup": ""})
				if calls.execs > 2 || calls.puts > 1 || calls.fetches > 0 {
					t.Errorf("%d execs, %d puts, %d fetches", calls.execs, calls.puts, calls.fetches)
				}
			}
			if got := readFile(t, path); got != tt.want {
				t.Errorf("file holds %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLineinfileFailures(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args map[string]any
		want map[string]any
	}{
		{map[string]any{"path": dir + "/nope", "line": "x"}, map[string]any{"failed": true, "rc": 257, "msg": "Destination " + dir + "/nope does not exist !"}},
		{map[string]any{"path": dir, "line": "x"}, map[string]any{"failed": true, "rc": 256, "msg": "Path " + dir + " is a directory !"}},
		{map[string]any{"path": dir + "/nope", "line": "x", "state": "absent"}, map[string]any{"changed": false, "msg": "file not present"}},
		{map[string]any{"path": dir + "/f"}, map[string]any{"failed": true, "msg": "line is required with state=present"}},
		{map[string]any{"path": dir + "/f", "backrefs": true, "line": "x"}, map[string]any{"failed": true, "msg": "regexp is required with backrefs=true"}},
		{map[string]any{"path": dir + "/f", "state": "absent"}, map[string]any{"failed": true, "msg": "one of line, search_string, or regexp is required with state=absent"}},
	}
	for _, tt := range tests {
		check(t, run(t, newTask(t), "lineinfile", tt.args), tt.want)
	}
	_, err := runErr(newTask(t), "lineinfile", map[string]any{"path": dir + "/f", "line": "x", "insertafter": "a", "insertbefore": "b"})
	if err == nil || err.Error() != "parameters are mutually exclusive: insertbefore|insertafter" {
		t.Errorf("insertafter with insertbefore: %v", err)
	}
	_, err = runErr(newTask(t), "lineinfile", map[string]any{"path": dir + "/f", "line": "x", "regexp": "(x"})
	if err == nil || !strings.Contains(err.Error(), "lineinfile regexp") {
		t.Errorf("invalid regexp: %v", err)
	}
}

// TestLineinfileEmptyPatternWarns pins Ansible's warnings for an empty regexp or search_string,
// which match every line, so that the last line is replaced.
func TestLineinfileEmptyPatternWarns(t *testing.T) {
	tests := []struct {
		name, arg, warning string
	}{
		{"regexp", "regexp", "The regular expression is an empty string, which will match every line in the file. " +
			"This may have unintended consequences, such as replacing the last line in the file rather than appending. " +
			"If this is desired, use '^' to match every line in the file and avoid this warning."},
		{"search string", "search_string", "The search string is an empty string, which will match every line in the file. " +
			"This may have unintended consequences, such as replacing the last line in the file rather than appending."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			writeFile(t, path, "a\nb\n", 0o644)
			r := run(t, newTask(t), "lineinfile", map[string]any{"path": path, tt.arg: "", "line": "c"})
			check(t, r, map[string]any{"changed": true, "warnings": []string{tt.warning}})
			if got := readFile(t, path); got != "a\nc\n" {
				t.Errorf("file holds %q, want %q", got, "a\nc\n")
			}
		})
	}
}
