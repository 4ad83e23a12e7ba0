package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tallyrun/tally/pluginsdk/meta"
)

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadReadsEverySetting(t *testing.T) {
	dir := t.TempDir()
	file := write(t, filepath.Join(dir, "tally.yaml"), `# tally's settings
callback_plugins: plugins:/opt/tally/plugins
stdout_callback: fancy
callbacks_enabled: [log_plays, junit]
on_plugin_error: fail
callback_log: logs/callbacks.log
callback_limits: {memory: 64MiB, timeout: 2s, output: 10k}
callbacks:
  log_plays:
    options:
      dir: logs
      keep: 3
    limits:
      timeout: 30s
roles_path: roles:/etc/ansible/roles
collections_path: [~/colls]
engine: ansible
ansible_playbook: venv/bin/ansible-playbook
`)
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Path:             file,
		CallbackPlugins:  []string{filepath.Join(dir, "plugins"), "/opt/tally/plugins"},
		StdoutCallback:   "fancy",
		CallbacksEnabled: []string{"log_plays", "junit"},
		OnPluginError:    "fail",
		CallbackLog:      filepath.Join(dir, "logs/callbacks.log"),
		CallbackLimits:   Limits{Memory: 64 << 20, Timeout: 2 * time.Second, Output: 10 << 10},
		Callbacks: map[string]Callback{"log_plays": {
			Options: map[string]meta.Setting{
				"dir":  {Value: "logs", Source: file + ":11", Dir: dir},
				"keep": {Value: 3, Source: file + ":12", Dir: dir},
			},
			Limits: Limits{Timeout: 30 * time.Second},
		}},
		RolesPath:       []string{filepath.Join(dir, "roles"), "/etc/ansible/roles"},
		CollectionsPath: []string{meta.ExpandHome("~/colls")},
		Engine:          "ansible",
		AnsiblePlaybook: filepath.Join(dir, "venv/bin/ansible-playbook"),
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", c, want)
	}
}

func TestLoadNamesTheLineOfAMistake(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"unknown setting", "stdout_callback: x\ncallback_whitelist: [a]\n", `:2: unknown setting "callback_whitelist" (tally knows callback_plugins,`},
		{"not a mapping", "- a\n", ":1: the configuration must be a mapping of settings"},
		{"bad policy", "on_plugin_error: ignore\n", `:1: on_plugin_error is "ignore": want warn or fail`},
		{"bad size", "callback_limits:\n  memory: lots\n", `:2: limits: memory "lots": want a positive size such as 64MiB`},
		{"bad timeout", "callback_limits:\n  timeout: -1s\n", `:2: limits: timeout "-1s": must be positive`},
		{"unknown limit", "callback_limits:\n  cpu: 1\n", `:2: limits: unknown limit "cpu"`},
		{"callback section", "callbacks:\n  x:\n    opts: {}\n", `:3: callbacks: x: unknown setting "opts" (want options or limits)`},
		{"list of lists", "callbacks_enabled: [[a]]\n", ":1: want a string"},
		{"yaml", "stdout_callback: [\n", "tally.yaml: yaml: "},
		{"unknown engine", "timeout: 5\nengine: python\n", `:2: engine is "python": want tally or ansible`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := write(t, filepath.Join(t.TempDir(), "tally.yaml"), tt.content)
			_, err := Load(file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFindTakesEnvironmentThenProjectThenUserThenSystem(t *testing.T) {
	root := t.TempDir()
	project := filepath.Join(root, "project")
	userHome := filepath.Join(root, "xdg")
	explicit := write(t, filepath.Join(root, "explicit.yaml"), "")
	local := write(t, filepath.Join(project, "tally.yaml"), "")
	user := write(t, filepath.Join(userHome, "tally", "config.yaml"), "")
	t.Chdir(project)
	tests := []struct {
		name string
		env  map[string]string
		rm   string // a file to remove first
		want string
	}{
		{"TALLY_CONFIG first", map[string]string{"TALLY_CONFIG": explicit, "XDG_CONFIG_HOME": userHome}, "", explicit},
		{"then ./tally.yaml", map[string]string{"XDG_CONFIG_HOME": userHome}, "", local},
		{"then the user's", map[string]string{"XDG_CONFIG_HOME": userHome}, local, user},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rm != "" {
				os.Remove(tt.rm)
			}
			got, err := Find(func(k string) string { return tt.env[k] }, func(w string) { t.Error(w) })
			if err != nil || got != tt.want {
				t.Errorf("Find = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := Find(func(k string) string { return map[string]string{"TALLY_CONFIG": filepath.Join(root, "nope.yaml")}[k] }, nil); err == nil {
		t.Error("TALLY_CONFIG naming no file: no error")
	}
}

func TestFindSkipsTallyYAMLInAWorldWritableDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "tally.yaml"), "")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	var warnings []string
	got, err := Find(func(string) string { return "" }, func(w string) { warnings = append(warnings, w) })
	if err != nil || strings.HasPrefix(got, dir) {
		t.Errorf("Find = %q, %v; want the world-writable directory's tally.yaml skipped", got, err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "the current directory is world-writable") {
		t.Errorf("warnings %q", warnings)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100": 100, "64MiB": 64 << 20, "1g": 1 << 30, "2 KB": 2 << 10, "7b": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1M", "1.5M", "12 parsecs"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
		}
	}
}

func TestLoadReadsSinksAndTheirLimits(t *testing.T) {
	dir := t.TempDir()
	file := write(t, filepath.Join(dir, "tally.yaml"), `sinks:
  runs:
    type: sqlite
    path: db/runs.db
  hook:
    type: http
    url: https://ci.example.com/tally
    headers_env: {Authorization: TALLY_HOOK_AUTH}
sink_limits: {record_size: 64KiB, records: 1000, bytes: 1GiB}
`)
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Sink{
		"runs": {Type: "sqlite", Params: map[string]any{"path": filepath.Join(dir, "db/runs.db")}, Source: file + ":2"},
		"hook": {Type: "http", Params: map[string]any{"url": "https://ci.example.com/tally", "headers_env": map[string]any{"Authorization": "TALLY_HOOK_AUTH"}}, Source: file + ":5"},
	}
	if !reflect.DeepEqual(c.Sinks, want) {
		t.Errorf("sinks = %#v, want %#v", c.Sinks, want)
	}
	if l := (SinkLimits{RecordSize: 64 << 10, Records: 1000, Bytes: 1 << 30}); c.SinkLimits != l {
		t.Errorf("sink limits = %+v, want %+v", c.SinkLimits, l)
	}
}

func TestLoadRefusesBadSinks(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"sinks:\n  Runs: {type: sqlite}\n", `name "Runs"`},
		{"sinks:\n  runs: {path: x.db}\n", "runs: type is required"},
		{"sinks:\n  runs: sqlite\n", "want a mapping with a type"},
		{"sink_limits: {records: many}\n", "sink_limits: records"},
	} {
		file := write(t, filepath.Join(t.TempDir(), "tally.yaml"), c.yaml)
		if _, err := Load(file); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}
