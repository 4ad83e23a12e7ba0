package module

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/connection"
)

// noConn fails every call: controller modules must not touch the host.
type noConn struct{ connection.Connection }

func (noConn) Exec(context.Context, connection.Command) (connection.Result, error) {
	return connection.Result{}, &connection.UnreachableError{Host: "h", Err: errors.New("down")}
}

func TestControllerModules(t *testing.T) {
	tests := []struct {
		name    string
		module  string
		args    map[string]any
		vars    map[string]any
		want    Result
		wantErr string
	}{
		{name: "debug default", module: "debug", args: map[string]any{},
			want: Result{"msg": "Hello world!", "_ansible_verbose_always": true, "failed": false, "changed": false}},
		{name: "debug msg keeps its type", module: "debug", args: map[string]any{"msg": []any{"a", 1}},
			want: Result{"msg": []any{"a", 1}}},
		{name: "debug var", module: "debug", args: map[string]any{"var": "n"}, want: Result{"n": 3, "msg": nil}},
		{name: "debug undefined var", module: "debug", args: map[string]any{"var": "nope"}, want: Result{"nope": notDefined}},
		{name: "debug undefined var, verbose", module: "debug", args: map[string]any{"var": "nope"}, vars: map[string]any{"ansible_verbosity": 1},
			want: Result{"nope": notDefined + ": 'nope' is undefined"}},
		{name: "debug list var keyed by type", module: "debug", args: map[string]any{"var": []any{1}},
			want: Result{"<class 'list'>": notDefined}},
		{name: "debug var error", module: "debug", args: map[string]any{"var": "f("}, wantErr: "debug var f(: template error"},
		{name: "debug verbosity not met", module: "debug", args: map[string]any{"msg": "x", "verbosity": "2"}, vars: map[string]any{"ansible_verbosity": 1},
			want: Result{"skipped": true, "skipped_reason": "Verbosity threshold not met.", "msg": nil, "_ansible_verbose_always": nil}},
		{name: "debug verbosity met", module: "debug", args: map[string]any{"msg": "x", "verbosity": 2}, vars: map[string]any{"ansible_verbosity": 2},
			want: Result{"msg": "x", "skipped": nil}},
		{name: "debug msg and var", module: "debug", args: map[string]any{"msg": "x", "var": "n"},
			want: Result{"failed": true, "msg": "'msg' and 'var' are incompatible options"}},
		{name: "debug bad option", module: "debug", args: map[string]any{"foo": 1}, wantErr: "Invalid options for debug: foo"},

		{name: "set_fact converts boolean strings", module: "set_fact", args: map[string]any{"a": "yes", "b": "3", "c": "TRUE", "d": []any{1}, "cacheable": "yes"},
			want: Result{"changed": false, "ansible_facts": map[string]any{"a": true, "b": "3", "c": true, "d": []any{1}}}},
		{name: "set_fact bad name", module: "set_fact", args: map[string]any{"1x": 1},
			wantErr: "The variable name '1x' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores."},
		{name: "set_fact keyword", module: "set_fact", args: map[string]any{"class": 1}, wantErr: "The variable name 'class' is not valid."},
		{name: "set_fact nothing", module: "set_fact", args: map[string]any{"cacheable": true},
			wantErr: "No key/value pairs provided, at least one is required for this action to succeed"},

		{name: "set_stats defaults", module: "set_stats", args: map[string]any{"data": map[string]any{"x": 1}},
			want: Result{"changed": false, "ansible_stats": map[string]any{"data": map[string]any{"x": 1}, "per_host": false, "aggregate": true}}},
		{name: "set_stats options", module: "set_stats", args: map[string]any{"data": map[string]any{}, "per_host": "yes", "aggregate": "no"},
			want: Result{"ansible_stats": map[string]any{"data": map[string]any{}, "per_host": true, "aggregate": false}}},
		{name: "set_stats data not a dict", module: "set_stats", args: map[string]any{"data": "x=1"},
			want: Result{"failed": true, "msg": "The 'data' option needs to be a dictionary/hash"}},
		{name: "set_stats bad key", module: "set_stats", args: map[string]any{"data": map[string]any{"a-b": 1}},
			want: Result{"failed": true, "msg": "The variable name 'a-b' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores."}},

		{name: "fail default", module: "fail", args: map[string]any{},
			want: Result{"failed": true, "changed": false, "msg": "Failed as requested from task"}},
		{name: "fail msg", module: "fail", args: map[string]any{"msg": "boom"}, want: Result{"failed": true, "msg": "boom"}},
		{name: "fail bad option", module: "fail", args: map[string]any{"message": "boom"}, wantErr: "Invalid options for fail: message"},

		{name: "assert passes", module: "assert", args: map[string]any{"that": []any{"n == 3", true, "name"}},
			want: Result{"changed": false, "msg": "All assertions passed", "_ansible_verbose_always": true, "failed": nil}},
		{name: "assert one string", module: "assert", args: map[string]any{"that": "n == 3", "success_msg": "ok", "quiet": true},
			want: Result{"msg": "ok", "_ansible_verbose_always": nil}},
		{name: "assert fails on the first false", module: "assert", args: map[string]any{"that": []any{"n == 3", "n == 4", "nope"}},
			want: Result{"failed": true, "assertion": "n == 4", "evaluated_to": false, "msg": "Assertion failed"}},
		{name: "assert falsy value", module: "assert", args: map[string]any{"that": "empty", "msg": []any{"a", "b"}},
			want: Result{"failed": true, "assertion": "empty", "msg": []any{"a", "b"}}},
		{name: "assert fail_msg wins", module: "assert", args: map[string]any{"that": false, "msg": "m", "fail_msg": "f"},
			want: Result{"failed": true, "msg": "f"}},
		{name: "assert undefined", module: "assert", args: map[string]any{"that": "nope == 1"},
			wantErr: "The conditional check 'nope == 1' failed. The error was: 'nope' is undefined"},
		{name: "assert without that", module: "assert", args: map[string]any{}, wantErr: `conditional required in "that" string`},
		{name: "assert bad msg type", module: "assert", args: map[string]any{"that": true, "msg": 3},
			wantErr: "Incorrect type for fail_msg or msg, expected a string or list and got <class 'int'>"},

		{name: "pause without duration returns at once", module: "pause", args: map[string]any{"prompt": "go?"},
			want: Result{"changed": false, "rc": 0, "user_input": "", "echo": true, "delta": 0, "stdout": "Paused for 0.0 seconds"}},
		{name: "pause minutes and seconds", module: "pause", args: map[string]any{"minutes": 1, "seconds": 1},
			wantErr: "parameters are mutually exclusive: minutes|seconds"},
		{name: "pause bad option", module: "pause", args: map[string]any{"hours": 1},
			wantErr: "Unsupported parameters for (pause) module: hours. Supported parameters include: echo, minutes, prompt, seconds."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := newTask(t)
			task.Conn = noConn{}
			for k, v := range tt.vars {
				task.Vars[k] = v
			}
			r, err := runErr(task, tt.module, tt.args)
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
		})
	}
}

func TestPause(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := run(t, newTask(t), "pause", map[string]any{"seconds": "0", "echo": "no"})
	if d := time.Since(start); d < time.Second || d > 30*time.Second { // headroom for a busy machine
		t.Errorf("paused %v, want 1s (Ansible's minimum)", d)
	}
	check(t, r, map[string]any{"delta": 1, "echo": false})
	if !strings.HasPrefix(r["stdout"].(string), "Paused for 1.") || !strings.HasSuffix(r["stdout"].(string), " seconds") {
		t.Errorf("stdout = %q", r["stdout"])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	spec, _ := Lookup("pause")
	if _, err := spec.Run(ctx, newTask(t), map[string]any{"minutes": 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled pause: %v", err)
	}
}
