package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a getenv that knows only vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// warnings collects warnings.
type warnings []string

func (w *warnings) warn(msg string) { *w = append(*w, msg) }

func TestReadAnsibleReadsTheKeysTallyKnowsAndWarnsAboutTheOthers(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, filepath.Join(dir, "ansible.cfg"), `# a project's ansible.cfg
[defaults]
inventory = inventory.ini, /etc/hosts.ini
forks: 12
remote_user = deploy ; who logs in
gathering = smart
host_key_checking = False
roles_path = roles:~/shared/roles
timeout = 30
private_key_file = keys/id_ed25519
stdout_callback = ansible.posix.json
callbacks_enabled = profile_tasks,
    ansible.posix.timer
ansible_managed = Managed by the ops team
retry_files_enabled = False

[privilege_escalation]
become = yes
become_user = admin
become_method = su

[ssh_connection]
pipelining = True
ssh_common_args = -o ProxyJump=bastion
`)
	home, _ := os.UserHomeDir()
	var w warnings
	got, err := ReadAnsible(env(map[string]string{"ANSIBLE_CONFIG": cfg}), w.warn)
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := &Config{
		AnsiblePath:      cfg,
		Inventory:        []string{filepath.Join(dir, "inventory.ini"), "/etc/hosts.ini"},
		Forks:            12,
		RemoteUser:       "deploy",
		HostKeyChecking:  &no,
		RolesPath:        []string{filepath.Join(dir, "roles"), filepath.Join(home, "shared/roles")},
		Timeout:          30 * time.Second,
		PrivateKeyFile:   filepath.Join(dir, "keys/id_ed25519"),
		StdoutCallback:   "json",
		CallbacksEnabled: []string{"profile_tasks", "timer"},
		AnsibleManaged:   "Managed by the ops team",
		Become:           &yes,
		BecomeUser:       "admin",
		BecomeMethod:     "su",
		SSHCommonArgs:    "-o ProxyJump=bastion",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadAnsible =\n%+v\nwant\n%+v", got, want)
	}
	wantWarnings := []string{
		cfg + ":6: tally ignores gathering in [defaults]",
		cfg + ":15: tally ignores retry_files_enabled in [defaults]",
		cfg + ":23: tally ignores pipelining in [ssh_connection]",
	}
	if !reflect.DeepEqual([]string(w), wantWarnings) {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(w, "\n"), strings.Join(wantWarnings, "\n"))
	}
}

func TestAnsibleEnvironmentBeatsAnsibleCfg(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, filepath.Join(dir, "ansible.cfg"), "[defaults]\nforks = 12\ninventory = a.ini\nhost_key_checking = true\n[ssh_connection]\nhost_key_checking = false\n")
	t.Chdir(t.TempDir())
	cwd, _ := os.Getwd()
	got, err := ReadAnsible(env(map[string]string{
		"ANSIBLE_CONFIG": dir, // a directory means its ansible.cfg
		"ANSIBLE_FORKS":  "3", "ANSIBLE_INVENTORY": "b.ini,c.ini", "ANSIBLE_BECOME_USER": "ops",
	}), func(msg string) { t.Error(msg) })
	if err != nil {
		t.Fatal(err)
	}
	if got.AnsiblePath != cfg || got.Forks != 3 || got.BecomeUser != "ops" ||
		!reflect.DeepEqual(got.Inventory, []string{filepath.Join(cwd, "b.ini"), filepath.Join(cwd, "c.ini")}) {
		t.Errorf("got %+v", got)
	}
	// Of two keys in the file for one setting, the later in Ansible's list wins.
	if got.HostKeyChecking == nil || *got.HostKeyChecking {
		t.Errorf("host_key_checking %v, want [ssh_connection]'s false", got.HostKeyChecking)
	}
}

func TestFindAnsibleTakesTheFirstOfAnsiblesPlaces(t *testing.T) {
	home, cwd, other := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Chdir(cwd)
	homeCfg := write(t, filepath.Join(home, ".ansible.cfg"), "")
	var w warnings
	if got := FindAnsible(env(nil), w.warn); got != homeCfg {
		t.Errorf("with only ~/.ansible.cfg: %q", got)
	}
	cwdCfg := write(t, filepath.Join(cwd, "ansible.cfg"), "")
	if got := FindAnsible(env(nil), w.warn); got != cwdCfg {
		t.Errorf("with ./ansible.cfg: %q", got)
	}
	envCfg := write(t, filepath.Join(other, "mine.cfg"), "")
	if got := FindAnsible(env(map[string]string{"ANSIBLE_CONFIG": envCfg}), w.warn); got != envCfg {
		t.Errorf("with ANSIBLE_CONFIG: %q", got)
	}
	if got := FindAnsible(env(map[string]string{"ANSIBLE_CONFIG": filepath.Join(other, "none.cfg")}), w.warn); got != cwdCfg {
		t.Errorf("with ANSIBLE_CONFIG naming no file: %q, want the next place", got)
	}
	if len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
	if err := os.Chmod(cwd, 0o777); err != nil {
		t.Fatal(err)
	}
	if got := FindAnsible(env(nil), w.warn); got != homeCfg || len(w) != 1 || !strings.Contains(w[0], "world-writable") {
		t.Errorf("in a world-writable directory: %q, warnings %q", got, w)
	}
}

func TestTallyConfigurationBeatsAnsibles(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("HOME", dir)
	tally := write(t, filepath.Join(dir, "tally.yaml"), "stdout_callback: minimal\ntimeout: 5\n")
	ansible := write(t, filepath.Join(dir, "ansible.cfg"), "[defaults]\nstdout_callback = json\ntimeout = 30\nforks = 7\n")
	got, err := Read(env(map[string]string{"TALLY_CONFIG": tally, "ANSIBLE_CONFIG": ansible}), func(msg string) { t.Error(msg) })
	if err != nil {
		t.Fatal(err)
	}
	if got.StdoutCallback != "minimal" || got.Timeout != 5*time.Second || got.Forks != 7 || got.AnsiblePath != ansible {
		t.Errorf("got %+v", got)
	}
}

func TestReadAnsibleNamesTheLineOfABadValue(t *testing.T) {
	for _, tt := range []struct{ content, want string }{
		{"[defaults]\nforks = many\n", `ansible.cfg:2: "many": want a whole number`},
		{"[defaults]\nforks = 0\n", "ansible.cfg:2: forks 0: must be >= 1"},
		{"[privilege_escalation]\nbecome = perhaps\n", `ansible.cfg:2: "perhaps": want true or false`},
		{"forks = 3\n", "ansible.cfg:1: want key = value in a [section]"},
		{"[defaults\n", "ansible.cfg:1: want a [section] header"},
	} {
		cfg := write(t, filepath.Join(t.TempDir(), "ansible.cfg"), tt.content)
		_, err := ReadAnsible(env(map[string]string{"ANSIBLE_CONFIG": cfg}), func(string) {})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.content, err, tt.want)
		}
	}
	_, err := ReadAnsible(env(map[string]string{"ANSIBLE_CONFIG": "/nonexistent", "ANSIBLE_FORKS": "x"}), func(string) {})
	if err == nil || !strings.Contains(err.Error(), `ANSIBLE_FORKS: "x": want a whole number`) {
		t.Errorf("ANSIBLE_FORKS=x: %v", err)
	}
}
