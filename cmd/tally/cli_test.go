package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// cliProject writes a one-task playbook and a local inventory into a temporary directory, and
// points tally's and Ansible's configuration at nothing, so that the machine's files do not
// count. It returns the playbook and inventory.
func cliProject(t *testing.T) (site, inv string) {
	t.Helper()
	dir := t.TempDir()
	site = filepath.Join(dir, "site.yml")
	inv = filepath.Join(dir, "inventory.ini")
	writeFile(t, site, "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: hi\n")
	writeFile(t, inv, "h1 ansible_connection=local\n")
	writeFile(t, filepath.Join(dir, "tally.yaml"), "")
	t.Setenv("TALLY_CONFIG", filepath.Join(dir, "tally.yaml"))
	t.Setenv("ANSIBLE_CONFIG", filepath.Join(dir, "no-ansible.cfg"))
	t.Setenv("HOME", dir)
	t.Setenv("TALLY_CALLBACK_PLUGINS", dir)
	return site, inv
}

// runMain runs the command line args and returns its exit code, standard output and error.
func runMain(args ...string) (int, string, string) {
	var stdout, stderr strings.Builder
	rc := mainRC(args, &stdout, &stderr)
	return rc, stdout.String(), stderr.String()
}

// TestCommandLineMistakesExit2WithTheUsage pins what ansible-playbook's argument parser does
// with a mistake, in every subcommand: the usage, the error, exit 2.
func TestCommandLineMistakesExit2WithTheUsage(t *testing.T) {
	site, inv := cliProject(t)
	tests := []struct {
		args        []string
		usage, want string
	}{
		{[]string{"run", "-i", inv, "--bogus", site}, "Usage: tally run", "tally run: error: unknown flag: --bogus"},
		{[]string{"run", "-i", inv, "-f", "abc", site}, "Usage: tally run", `tally run: error: invalid argument "abc" for "-f, --forks"`},
		{[]string{"run", "-i", inv, "-f", "0", site}, "Usage: tally run", "the number of processes (--forks) must be >= 1"},
		{[]string{"run", "-i", inv, "-f", "-3", site}, "Usage: tally run", "the number of processes (--forks) must be >= 1"},
		{[]string{"run", "-i", inv, "--timeout", "x", site}, "Usage: tally run", `invalid argument "x" for "-T, --timeout"`},
		{[]string{"run", "-i", inv}, "Usage: tally run", "the following arguments are required: PLAYBOOK"},
		{[]string{"plugins", "--bogus", "list"}, "tally plugins list", "tally plugins: error: unknown flag: --bogus"},
		{[]string{"plugins", "frob"}, "tally plugins list", `unknown command "frob": want list, inspect, check or warm`},
		{[]string{"plugins", "inspect"}, "tally plugins list", "inspect takes 1 arguments, not 0"},
		{[]string{"plugin", "--bogus", "new", "x"}, "tally plugin new NAME", "tally plugin: error: unknown flag: --bogus"},
		{[]string{"plugin", "new", "x", "--lang", "rust", "--dir", filepath.Join(t.TempDir(), "x")}, "tally plugin new NAME", `--lang "rust": want go or c`},
		{[]string{"plugin", "old", "x"}, "tally plugin new NAME", "want: new NAME"},
		{[]string{"frob"}, "Usage:\n  tally run", `tally: error: unknown command "frob"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			rc, stdout, stderr := runMain(tt.args...)
			if rc != 2 || !strings.Contains(stderr, tt.usage) || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit code %d, want 2; stderr has the usage %v and %q %v:\n%s%s", rc,
					strings.Contains(stderr, tt.usage), tt.want, strings.Contains(stderr, tt.want), stdout, stderr)
			}
		})
	}
}

// TestFlagsNotSupportedYetAreNamed pins that each flag of ansible-playbook that tally does not
// implement yet is refused by name, not as an unknown flag, with its value or without.
func TestFlagsNotSupportedYetAreNamed(t *testing.T) {
	site, inv := cliProject(t)
	for _, f := range notYet {
		forms := [][]string{{"--" + f.long}}
		if f.value {
			forms = [][]string{{"--" + f.long, "x"}, {"--" + f.long + "=x"}}
		}
		if f.short != "" && !f.value {
			forms = append(forms, []string{"-" + f.short})
		}
		for _, form := range forms {
			t.Run(strings.Join(form, " "), func(t *testing.T) {
				args := append(append([]string{"run", "-i", inv}, form...), site)
				rc, _, stderr := runMain(args...)
				want := "tally run: error: tally does not support --" + f.long + " yet"
				if rc != 2 || !strings.Contains(stderr, want) {
					t.Errorf("exit code %d, want 2 and %q:\n%s", rc, want, stderr)
				}
			})
		}
	}
}

// TestRunRefusesWhatAnsiblePlaybookRefuses pins the exit codes and messages of a run that
// cannot start, as ansible-playbook's.
func TestRunRefusesWhatAnsiblePlaybookRefuses(t *testing.T) {
	site, inv := cliProject(t)
	tests := []struct {
		name string
		args []string
		rc   int
		want string
	}{
		{"missing playbook", []string{"run", "-i", inv, filepath.Join(t.TempDir(), "nosuch.yml")}, 1, "nosuch.yml could not be found"},
		{"playbook is a directory", []string{"run", "-i", inv, t.TempDir()}, 1, "does not appear to be a file"},
		{"bad job ID", []string{"run", "-i", inv, "--job-id", "a/b", site}, 5, `invalid job ID "a/b"`},
		{"limit matches nothing", []string{"run", "-i", inv, "-l", "nosuch", site}, 1, "ERROR! Specified inventory, host pattern and/or --limit leaves us with no hosts to target."},
		{"limit matches nothing, listing", []string{"run", "-i", inv, "-l", "nosuch", "--list-hosts", site}, 1, "leaves us with no hosts to target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, stdout, stderr := runMain(tt.args...)
			if rc != tt.rc || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit code %d, want %d and %q:\n%s%s", rc, tt.rc, tt.want, stdout, stderr)
			}
		})
	}
}

// TestRunReadsAnsibleCfgAndAnsibleEnvironment pins that a project's ansible.cfg and the
// ANSIBLE_* variables give tally run its defaults, as ansible-playbook's: here the inventory
// and the forks, with a warning naming the file and line of a key tally ignores.
func TestRunReadsAnsibleCfgAndAnsibleEnvironment(t *testing.T) {
	site, inv := cliProject(t)
	cfg := filepath.Join(filepath.Dir(site), "ansible.cfg")
	writeFile(t, cfg, "[defaults]\ninventory = inventory.ini\nforks = 0\n")
	t.Setenv("ANSIBLE_CONFIG", cfg)
	if rc, _, stderr := runMain("run", site); rc != 1 || !strings.Contains(stderr, "ansible.cfg:3: forks 0: must be >= 1") {
		t.Errorf("forks = 0: exit code %d:\n%s", rc, stderr)
	}
	writeFile(t, cfg, "[defaults]\ninventory = inventory.ini\ngathering = smart\n")
	rc, stdout, stderr := runMain("run", site)
	if rc != 0 || !strings.Contains(stdout, "h1 ") || !strings.Contains(stderr, cfg+":3: tally ignores gathering in [defaults]") {
		t.Errorf("with ansible.cfg's inventory: exit code %d:\n%s%s", rc, stdout, stderr)
	}
	t.Setenv("ANSIBLE_CONFIG", "")
	t.Setenv("ANSIBLE_INVENTORY", inv)
	if rc, stdout, stderr := runMain("run", site); rc != 0 || !strings.Contains(stdout, "h1 ") {
		t.Errorf("with ANSIBLE_INVENTORY: exit code %d:\n%s%s", rc, stdout, stderr)
	}
}

// TestErrorsBeforeTheFirstTaskAreRecorded pins that a run that ends before its first task
// still reaches the plugins and the artifacts: playbook_on_start, then the stats with status
// error and the message, with ansible-playbook's exit code.
func TestErrorsBeforeTheFirstTaskAreRecorded(t *testing.T) {
	site, inv := cliProject(t)
	dir := filepath.Dir(site)
	writeFile(t, filepath.Join(dir, "bad.yml"), "- hosts: all\n  tasks:\n    - nosuchmodule: {}\n")
	writeFile(t, filepath.Join(dir, "badinv.yml"), "all: [unclosed\n")
	writeFile(t, filepath.Join(dir, "vars.yml"), "- hosts: all\n  gather_facts: false\n  vars_files: [missing.yml]\n  tasks:\n    - debug: {}\n")
	tests := []struct {
		name string
		args []string
		rc   string
		msg  string
	}{
		{"parse error", []string{"-i", inv, filepath.Join(dir, "bad.yml")}, "4", "nosuchmodule"},
		{"bad inventory", []string{"-i", filepath.Join(dir, "badinv.yml"), site}, "4", "badinv.yml"},
		{"limit matches nothing", []string{"-i", inv, "-l", "nosuch", site}, "1", "leaves us with no hosts"},
		{"missing vars file", []string{"-i", inv, filepath.Join(dir, "vars.yml")}, "1", "missing.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arts := t.TempDir()
			rc, stdout, stderr := runMain(append([]string{"run", "--artifacts", arts}, tt.args...)...)
			if fmt.Sprint(rc) != tt.rc || !strings.Contains(stderr, "ERROR! ") {
				t.Fatalf("exit code %d, want %s and an error:\n%s%s", rc, tt.rc, stdout, stderr)
			}
			status, artRC, stats, events := readArtifacts(t, arts)
			if status != "error" || artRC != tt.rc || !strings.Contains(fmt.Sprint(stats["message"]), tt.msg) {
				t.Errorf("status %q rc %q message %q, want error, %s and %q", status, artRC, stats["message"], tt.rc, tt.msg)
			}
			if first, last := events[0], events[len(events)-1]; first.Event != event.PlaybookOnStart || last.Event != event.PlaybookOnStats {
				t.Errorf("events %s ... %s, want playbook_on_start ... playbook_on_stats", first.Event, last.Event)
			}
		})
	}
}

// TestAnsibleManagedComesFromTheConfiguration pins that ansible.cfg's ansible_managed reaches
// the template module, expanded as Ansible's: {file} is the src as the task gives it, and
// strftime directives take the template's modification time.
func TestAnsibleManagedComesFromTheConfiguration(t *testing.T) {
	_, inv := cliProject(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ansible.cfg"), "[defaults]\nansible_managed = Managed by ops ({file}, %Y)\n")
	writeFile(t, filepath.Join(dir, "m.j2"), "{{ ansible_managed }}")
	out := filepath.Join(dir, "out.txt")
	writeFile(t, filepath.Join(dir, "site.yml"), "- hosts: all\n  gather_facts: false\n  tasks:\n    - template: src=m.j2 dest="+out+"\n")
	t.Setenv("ANSIBLE_CONFIG", filepath.Join(dir, "ansible.cfg"))
	if rc, stdout, stderr := runMain("run", "-i", inv, filepath.Join(dir, "site.yml")); rc != 0 {
		t.Fatalf("exit code %d:\n%s%s", rc, stdout, stderr)
	}
	fi, err := os.Stat(filepath.Join(dir, "m.j2"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(out); err != nil || string(got) != fmt.Sprintf("Managed by ops (m.j2, %d)", fi.ModTime().Year()) {
		t.Errorf("rendered %q, %v", got, err)
	}
}

// TestSlowPluginAtTheEndIsNamed pins that a plugin still working a second after the run's end
// is named, with the events it has left (those of the call it is in included): here one that
// loops in the stats call until its time limit of 3 s stops it.
func TestSlowPluginAtTheEndIsNamed(t *testing.T) {
	site, inv := cliProject(t)
	plugins := t.TempDir()
	plugintest.Install(t, plugins, "hostile", plugintest.Build(t, "../../host/pluginhost/testdata/plugins/hostile"))
	writeFile(t, os.Getenv("TALLY_CONFIG"), "callbacks:\n  hostile:\n    limits:\n      timeout: 3s\n")
	rc, stdout, stderr := runMain("run", "-i", inv, "--callback-path", plugins, "--callbacks", "hostile",
		"--callback-opt", "hostile.mode=loop", "--callback-opt", "hostile.on=playbook_on_stats", site)
	want := regexp.MustCompile(`\[WARNING\]: the run is over; waiting for callback plugins still working: hostile \(\d+ events? left\)\n`)
	if rc != 0 || len(want.FindAllString(stderr, -1)) != 1 {
		t.Errorf("exit code %d, want 0 and one warning matching %s:\n%s%s", rc, want, stdout, stderr)
	}
}

// TestVerbose3ShowsConnectionsAndCommands pins -vvv: the connection, each command and its exit
// status reach the display through the runner_verbose event, with no_log respected; -vv shows
// none of it.
func TestVerbose3ShowsConnectionsAndCommands(t *testing.T) {
	site, inv := cliProject(t)
	writeFile(t, site, "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo visible\n    - command: echo hidden\n      no_log: true\n")
	rc, stdout, stderr := runMain("run", "-vvv", "-i", inv, site)
	if rc != 0 {
		t.Fatalf("exit code %d:\n%s%s", rc, stdout, stderr)
	}
	var lines []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "<h1> ") {
			lines = append(lines, l)
		}
	}
	if !strings.Contains(stdout, "exec echo visible'\n") {
		t.Errorf("-vvv does not show the command:\n%s", stdout)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"<h1> ESTABLISH LOCAL CONNECTION FOR USER: ", "<h1> EXEC /bin/sh -c '", "<h1> rc=0, stdout 18 bytes", "<h1> EXEC (command censored due to no log)", "<h1> rc=0, stdout and stderr censored due to no log"} {
		if !strings.Contains(got, want) {
			t.Errorf("-vvv lines do not say %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "hidden") {
		t.Errorf("-vvv shows a no_log command:\n%s", got)
	}
	if _, stdout, _ := runMain("run", "-vv", "-i", inv, site); strings.Contains(stdout, "<h1> ") {
		t.Errorf("-vv shows connection lines:\n%s", stdout)
	}
}
