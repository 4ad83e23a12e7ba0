package pluginhost

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/config"
)

func TestDiscoverFirstOfANameWinsAndShadowsTheRest(t *testing.T) {
	root := t.TempDir()
	a, b, missing := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "missing")
	for _, f := range []string{"a/x.wasm", "a/notes.txt", "b/x.wasm", "b/y.wasm"} {
		path := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found, err := Discover([]string{a, missing, b})
	if err != nil {
		t.Fatal(err)
	}
	want := []Found{
		{Name: "x", Path: filepath.Join(a, "x.wasm"), Shadows: []string{filepath.Join(b, "x.wasm")}},
		{Name: "y", Path: filepath.Join(b, "y.wasm")},
	}
	if !slices.EqualFunc(found, want, func(f, w Found) bool {
		return f.Name == w.Name && f.Path == w.Path && slices.Equal(f.Shadows, w.Shadows)
	}) {
		t.Errorf("Discover = %+v, want %+v", found, want)
	}
	for name, want := range map[string]string{"x": filepath.Join(a, "x.wasm"), "y": filepath.Join(b, "y.wasm"), "z": "", "../a/x": ""} {
		if got := Lookup([]string{a, missing, b}, name); got != want {
			t.Errorf("Lookup(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestResolveTakesCommandLineThenEnvironmentThenConfigThenDefaults(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip(err)
	}
	cfg := &config.Config{CallbackPlugins: []string{"/cfg"}, StdoutCallback: "cfgout", CallbacksEnabled: []string{"cfg1"}}
	env := map[string]string{"TALLY_CALLBACK_PLUGINS": "/env1:/env2", "TALLY_STDOUT_CALLBACK": "envout", "TALLY_CALLBACKS_ENABLED": "env1,env2"}
	flags := Flags{CallbackPath: []string{"/cli1:/cli2", "/cli3"}, StdoutCallback: "cliout", Callbacks: []string{"cli1,cli2", "cli3"}}
	project := filepath.Join(t.TempDir(), "site.yml")
	tests := []struct {
		name      string
		cfg       *config.Config
		env       map[string]string
		flags     Flags
		playbooks []string
		path      []string
		stdout    string
		enabled   []string
	}{
		{"defaults", &config.Config{}, nil, Flags{}, nil,
			[]string{filepath.Join(home, ".tally/plugins/callback"), "/usr/share/tally/plugins/callback"}, "default", nil},
		{"config", cfg, nil, Flags{}, nil, []string{"/cfg"}, "cfgout", []string{"cfg1"}},
		{"environment", cfg, env, Flags{}, nil, []string{"/env1", "/env2"}, "envout", []string{"env1", "env2"}},
		{"command line", cfg, env, flags, nil, []string{"/cli1", "/cli2", "/cli3"}, "cliout", []string{"cli1", "cli2", "cli3"}},
		{"playbook directory first", cfg, nil, Flags{}, []string{project},
			[]string{filepath.Join(filepath.Dir(project), "callback_plugins"), "/cfg"}, "cfgout", []string{"cfg1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Resolve(tt.cfg, tt.flags, func(k string) string { return tt.env[k] }, tt.playbooks)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Path, tt.path) || s.Stdout != tt.stdout || !slices.Equal(s.Enabled, tt.enabled) {
				t.Errorf("path %q, stdout %q, enabled %q\nwant %q, %q, %q", s.Path, s.Stdout, s.Enabled, tt.path, tt.stdout, tt.enabled)
			}
		})
	}
}

func TestResolveReadsOptionsAndLimits(t *testing.T) {
	cfg := &config.Config{
		CallbackLimits: config.Limits{Timeout: 7e9},
		Callbacks:      map[string]config.Callback{"log": {Limits: config.Limits{Memory: 32 << 20}}},
		OnPluginError:  "fail",
	}
	s, err := Resolve(cfg, Flags{Options: []string{"log.dir=/var/log/x=y"}}, noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Flags["log"]["dir"]; got.Value != "/var/log/x=y" || got.Source != "--callback-opt log.dir=/var/log/x=y" {
		t.Errorf("option = %+v", got)
	}
	want := config.Limits{Memory: 32 << 20, Timeout: 7e9, Output: DefaultLimits.Output}
	if got := s.LimitsFor("log"); got != want {
		t.Errorf("LimitsFor(log) = %+v, want %+v", got, want)
	}
	if !s.FailRun {
		t.Error("on_plugin_error: fail did not set FailRun")
	}
	for _, bad := range []string{"nodot=1", "log.dir", ".dir=1", "log.=1"} {
		if _, err := Resolve(&config.Config{}, Flags{Options: []string{bad}}, noEnv, nil); err == nil || !strings.Contains(err.Error(), "want PLUGIN.OPTION=VALUE") {
			t.Errorf("--callback-opt %s: err = %v", bad, err)
		}
	}
}
