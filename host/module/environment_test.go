package module

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tallyrun/tally/host/connection"
)

// envConn records the environment of each command a module runs.
type envConn struct {
	connection.Connection
	envs []map[string]string
}

func (c *envConn) Exec(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	c.envs = append(c.envs, cmd.Env)
	return c.Connection.Exec(ctx, cmd)
}

// TestModulesRunInTheTaskEnvironment pins that every command a module runs on the host gets the
// task's environment keyword, as Ansible runs every module in it (a proxy for get_url, a PATH
// for a validate command), and that raw alone goes without, as Ansible's raw.
func TestModulesRunInTheTaskEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		module string
		args   map[string]any
	}{
		{"stat", map[string]any{"path": dir + "/f"}},
		{"file", map[string]any{"path": dir + "/d", "state": "directory"}},
		{"copy", map[string]any{"content": "x\n", "dest": dir + "/c"}},
		{"lineinfile", map[string]any{"path": dir + "/f", "line": "b"}},
		{"replace", map[string]any{"path": dir + "/f", "regexp": "a", "replace": "z"}},
		{"slurp", map[string]any{"src": dir + "/f"}},
		{"find", map[string]any{"paths": dir}},
		{"wait_for", map[string]any{"path": dir + "/f", "timeout": 5}},
		{"command", map[string]any{"_raw_params": "true"}},
		{"raw", map[string]any{"_raw_params": "true"}},
	} {
		t.Run(tt.module, func(t *testing.T) {
			task := newTask(t)
			conn := &envConn{Connection: task.Conn}
			task.Conn = conn
			task.Env = map[string]string{"TALLY_TASK_ENV": "1"}
			if r := run(t, task, tt.module, tt.args); r["failed"] == true {
				t.Fatalf("%s failed: %v", tt.module, r)
			}
			if len(conn.envs) == 0 {
				t.Fatalf("%s ran nothing on the host", tt.module)
			}
			for i, env := range conn.envs {
				if got, want := env["TALLY_TASK_ENV"] == "1", tt.module != "raw"; got != want {
					t.Errorf("command %d of %d has environment %v; want the task's: %v", i+1, len(conn.envs), env, want)
				}
			}
		})
	}
}
