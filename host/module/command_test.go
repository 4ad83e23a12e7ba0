package module

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/connection"
)

// countingConn counts the calls a module makes, to pin round trips.
type countingConn struct {
	connection.Connection
	execs, puts, fetches int
}

func (c *countingConn) Exec(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	c.execs++
	return c.Connection.Exec(ctx, cmd)
}

func (c *countingConn) Put(ctx context.Context, dst string, data []byte, mode os.FileMode, b *connection.Become) error {
	c.puts++
	return c.Connection.Put(ctx, dst, data, mode, b)
}

func (c *countingConn) Fetch(ctx context.Context, src string, b *connection.Become) ([]byte, error) {
	c.fetches++
	return c.Connection.Fetch(ctx, src, b)
}

func countCalls(task *Task) *countingConn {
	c := &countingConn{Connection: task.Conn}
	task.Conn = c
	return c
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "exists.txt"), "", 0o644)
	writeFile(t, filepath.Join(dir, "noexec"), "", 0o644)
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	physical, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		module string
		args   map[string]any
		want   map[string]any
	}{
		{name: "argv split like shlex", module: "command", args: map[string]any{"_raw_params": `echo "a  b" c\ d 'e f'`},
			want: map[string]any{"changed": true, "rc": 0, "stdout": "a  b c d e f", "cmd": []string{"echo", "a  b", "c d", "e f"},
				"stdout_lines": []string{"a  b c d e f"}, "stderr": "", "msg": ""}},
		{name: "no shell expansion", module: "command", args: map[string]any{"_raw_params": `echo $HOME *`},
			want: map[string]any{"stdout": "$HOME *"}},
		{name: "argv list", module: "command", args: map[string]any{"argv": []any{"printf", "%s|", "a b", 1}},
			want: map[string]any{"stdout": "a b|1|", "cmd": []string{"printf", "%s|", "a b", "1"}}},
		{name: "cmd argument", module: "command", args: map[string]any{"cmd": "echo x"},
			want: map[string]any{"stdout": "x"}},
		{name: "stdin with newline added", module: "command", args: map[string]any{"_raw_params": "od -c", "stdin": "hi"},
			want: map[string]any{"stdout_lines": []string{"0000000   h   i  \\n", "0000003"}}},
		{name: "stdin as is", module: "command", args: map[string]any{"_raw_params": "cat", "stdin": "hi\n\n", "stdin_add_newline": "no", "strip_empty_ends": false},
			want: map[string]any{"stdout": "hi\n\n"}},
		{name: "chdir", module: "command", args: map[string]any{"_raw_params": "pwd", "chdir": dir},
			want: map[string]any{"stdout": dir}},
		{name: "chdir through a link is to the physical directory, as Python's os.chdir", module: "shell",
			args: map[string]any{"_raw_params": `echo "$PWD"`, "chdir": dir + "/link"}, want: map[string]any{"stdout": physical}},
		{name: "non-zero rc fails", module: "command", args: map[string]any{"_raw_params": "sh -c 'echo out; echo err >&2; exit 3'"},
			want: map[string]any{"changed": true, "failed": true, "rc": 3, "msg": "non-zero return code", "stdout": "out", "stderr": "err",
				"stderr_lines": []string{"err"}}},
		{name: "creates skips", module: "command", args: map[string]any{"_raw_params": "false", "creates": dir + "/*.txt"},
			want: map[string]any{"changed": false, "rc": 0, "msg": "Did not run command since '" + dir + "/*.txt' exists",
				"stdout": "skipped, since " + dir + "/*.txt exists", "start": nil, "delta": nil}},
		{name: "creates relative to chdir", module: "command", args: map[string]any{"_raw_params": "false", "chdir": dir, "creates": "exists.txt"},
			want: map[string]any{"changed": false, "rc": 0}},
		{name: "creates runs when missing", module: "command", args: map[string]any{"_raw_params": "echo ran", "creates": dir + "/missing"},
			want: map[string]any{"changed": true, "stdout": "ran"}},
		{name: "removes skips", module: "command", args: map[string]any{"_raw_params": "false", "removes": dir + "/missing*"},
			want: map[string]any{"changed": false, "msg": "Did not run command since '" + dir + "/missing*' does not exist"}},
		{name: "chdir missing", module: "command", args: map[string]any{"_raw_params": "pwd", "chdir": dir + "/nope"},
			want: map[string]any{"failed": true, "changed": false, "rc": nil,
				"msg": "Unable to change directory before execution: [Errno 2] No such file or directory: b'" + dir + "/nope'"}},
		{name: "executable not found", module: "command", args: map[string]any{"_raw_params": "no-such-command a"},
			want: map[string]any{"failed": true, "changed": false, "rc": 2, "cmd": "no-such-command a",
				"msg": "[Errno 2] No such file or directory: b'no-such-command'"}},
		{name: "not executable", module: "command", args: map[string]any{"_raw_params": dir + "/noexec"},
			want: map[string]any{"failed": true, "rc": 13, "msg": "[Errno 13] Permission denied: b'" + dir + "/noexec'"}},
		{name: "no command", module: "command", args: map[string]any{"_raw_params": "  "},
			want: map[string]any{"failed": true, "rc": 256, "msg": "no command given", "cmd": nil}},
		{name: "both raw and argv", module: "command", args: map[string]any{"_raw_params": "ls", "argv": []any{"ls"}},
			want: map[string]any{"failed": true, "rc": 256, "msg": "only command or argv can be given, not both"}},
		{name: "shell pipes and expansion", module: "shell", args: map[string]any{"_raw_params": "echo $((1+2)) | tr 3 x; exit 4"},
			want: map[string]any{"changed": true, "rc": 4, "stdout": "x", "cmd": "echo $((1+2)) | tr 3 x; exit 4", "failed": true}},
		{name: "command ignores executable", module: "command", args: map[string]any{"_raw_params": "echo x", "executable": "/bin/bash"},
			want: map[string]any{"stdout": "x", "warnings": []string{"As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '/bin/bash'."}}},
		{name: "shell executable", module: "shell", args: map[string]any{"_raw_params": "echo $0", "executable": "/bin/sh"},
			want: map[string]any{"stdout": "/bin/sh"}},
		{name: "shell environment", module: "shell", args: map[string]any{"_raw_params": "echo $GREETING"},
			want: map[string]any{"stdout": "hello"}},
		{name: "raw keeps output as is", module: "raw", args: map[string]any{"_raw_params": "echo hi; echo err >&2"},
			want: map[string]any{"changed": true, "rc": 0, "stdout": "hi\n", "stdout_lines": []string{"hi"}, "stderr": "err\n"}},
		{name: "raw failure", module: "raw", args: map[string]any{"_raw_params": "exit 2"},
			want: map[string]any{"failed": true, "rc": 2, "msg": "non-zero return code"}},
		{name: "raw ignores the environment", module: "raw", args: map[string]any{"_raw_params": "echo \"[$GREETING]\""},
			want: map[string]any{"stdout": "[]\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := newTask(t)
			task.Env = map[string]string{"GREETING": "hello"}
			calls := countCalls(task)
			r := run(t, task, tt.module, tt.args)
			check(t, r, tt.want)
			if calls.execs > 1 || calls.puts+calls.fetches != 0 {
				t.Errorf("%d execs, %d puts, %d fetches; want at most one exec", calls.execs, calls.puts, calls.fetches)
			}
		})
	}
}

var pyTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$`)

func TestCommandTiming(t *testing.T) {
	r := run(t, newTask(t), "command", map[string]any{"_raw_params": "true"})
	if !pyTimestamp.MatchString(r["start"].(string)) || !pyTimestamp.MatchString(r["end"].(string)) {
		t.Errorf("start %q end %q are not Python datetimes", r["start"], r["end"])
	}
	if !regexp.MustCompile(`^0:00:\d\d(\.\d{6})?$`).MatchString(r["delta"].(string)) {
		t.Errorf("delta %q is not a Python timedelta", r["delta"])
	}
	if r["invocation"].(map[string]any)["module_args"].(map[string]any)["stdin_add_newline"] != true {
		t.Errorf("invocation lacks the defaults: %v", r["invocation"])
	}
}

func TestShellKeepsTheTaskArgs(t *testing.T) {
	args := map[string]any{"cmd": "true"}
	run(t, newTask(t), "shell", args)
	if len(args) != 1 || args["cmd"] != "true" {
		t.Errorf("shell changed its arguments to %v", args)
	}
}

func TestCommandErrors(t *testing.T) {
	tests := []struct {
		module  string
		args    map[string]any
		wantErr string
	}{
		{"command", map[string]any{"_raw_params": "echo", "warn": true}, "Unsupported parameters for (ansible.legacy.command) module: warn."},
		{"command", map[string]any{"_raw_params": "echo 'open"}, "No closing quotation"},
		{"command", map[string]any{"_raw_params": "echo", "cmd": "ls"}, "The 'cmd' argument cannot be used"},
		{"shell", map[string]any{"_raw_params": "echo", "strip_empty_ends": "maybe"}, "argument 'strip_empty_ends'"},
		{"raw", map[string]any{"_raw_params": "echo", "chdir": "/"}, "Invalid options for raw: chdir"},
	}
	for _, tt := range tests {
		_, err := runErr(newTask(t), tt.module, tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s %v: error %v, want %q", tt.module, tt.args, err, tt.wantErr)
		}
	}
}

func TestScript(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    map[string]any
		env     map[string]string
		want    map[string]any
		wantErr string
	}{
		{name: "runs with arguments as written", args: map[string]any{"_raw_params": `hello.sh "a  b" c`, "chdir": dir},
			env: map[string]string{"GREETING": "hi"},
			want: map[string]any{"changed": true, "rc": 0, "stderr": "err\n",
				"stdout_lines": []string{"args: a  b c", dir, "greeting: hi"}}},
		{name: "failure", args: map[string]any{"_raw_params": "hello.sh"}, env: map[string]string{"RC": "3"},
			want: map[string]any{"changed": true, "failed": true, "rc": 3, "msg": "non-zero return code"}},
		{name: "creates skips", args: map[string]any{"_raw_params": "hello.sh", "creates": dir},
			want: map[string]any{"changed": false, "skipped": true, "msg": dir + " exists, matching creates option"}},
		{name: "removes skips", args: map[string]any{"_raw_params": "hello.sh", "removes": dir + "/nope"},
			want: map[string]any{"changed": false, "skipped": true, "msg": dir + "/nope does not exist, matching removes option"}},
		{name: "executable", args: map[string]any{"cmd": "hello.sh x", "executable": "sh"},
			want: map[string]any{"rc": 0}},
		{name: "relative chdir", args: map[string]any{"_raw_params": "hello.sh", "chdir": "rel"},
			wantErr: "chdir rel must be an absolute path for a Unix-aware remote node"},
		{name: "missing script", args: map[string]any{"_raw_params": "nope.sh"},
			wantErr: "Could not find or access 'nope.sh'\nSearched in:\n\t"},
		{name: "missing absolute script", args: map[string]any{"_raw_params": "/nope.sh"},
			wantErr: "Could not find or access '/nope.sh' on the Ansible Controller.\nIf you are using a module"},
		{name: "unknown option", args: map[string]any{"_raw_params": "hello.sh", "bogus": 1},
			wantErr: "Invalid options for script: bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := newTask(t)
			task.Env = tt.env
			calls := countCalls(task)
			r, err := runErr(task, "script", tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			check(t, r, tt.want)
			if calls.execs != 1 || calls.puts != 0 {
				t.Errorf("%d execs, %d puts; want one exec", calls.execs, calls.puts)
			}
		})
	}
	if left, _ := filepath.Glob("/tmp/.tally-script-*"); len(left) > 0 {
		t.Errorf("scripts left on the host: %v", left)
	}
}

// TestModulesThroughBecome runs modules with become through a stand-in sudo that runs the
// command as it is given: the scripts must survive the wrapping, and stdin must reach the
// command past the password.
func TestModulesThroughBecome(t *testing.T) {
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "sudo"), "#!/bin/sh\nwhile [ \"$1\" != /bin/sh ]; do shift; done\nexec \"$@\"\n", 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	dir := t.TempDir()
	steps := []struct {
		module string
		args   map[string]any
		want   map[string]any
	}{
		{"command", map[string]any{"_raw_params": "cat", "stdin": "it's \"in\""}, map[string]any{"stdout": `it's "in"`, "rc": 0}},
		{"shell", map[string]any{"_raw_params": "echo '$x' | tr x y", "chdir": dir}, map[string]any{"stdout": "$y"}},
		{"copy", map[string]any{"content": "a\n", "dest": dir + "/f", "mode": "0600"}, map[string]any{"changed": true, "mode": "0600"}},
		{"lineinfile", map[string]any{"path": dir + "/f", "line": "b"}, map[string]any{"changed": true, "msg": "line added"}},
		{"file", map[string]any{"path": dir + "/d", "state": "directory"}, map[string]any{"changed": true}},
		{"stat", map[string]any{"path": dir + "/f"}, map[string]any{"changed": false}},
		{"script", map[string]any{"_raw_params": "hello.sh x"}, map[string]any{"rc": 0}},
		{"setup", map[string]any{"filter": "ansible_user_id"}, map[string]any{"changed": false}},
	}
	for _, s := range steps {
		task := newTask(t)
		task.Become = &connection.Become{User: "not-the-current-user", Password: "pw"}
		check(t, run(t, task, s.module, s.args), s.want)
	}
	if got := readFile(t, dir+"/f"); got != "a\nb\n" {
		t.Errorf("f holds %q", got)
	}
}
