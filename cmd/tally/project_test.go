package main

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/connection/sshtest"
)

// projectDir holds a multi-role project (testdata/project/README.md).
const projectDir = "../../testdata/project"

// projectVault opens the project's vault-encrypted vars (group_vars/db/vault.yml, the !vault
// value in group_vars/web.yml).
var projectVault = []string{"--vault-password-file", "vault-password.txt"}

// projectRuns are the command lines the project is run with. A run with check set is first run
// with --check --diff, which must leave the same files (none) and recap as ansible-playbook's,
// then for real in the same directory.
var projectRuns = []struct {
	name  string
	args  []string
	check bool
}{
	{name: "whole"},
	{name: "tags", args: []string{"--tags", "config"}},
	{name: "check then real", check: true},
}

// TestProject runs the multi-role project under ansible-playbook and under tally on the local
// connection: the recap, the exit code and the files left on every host must be the same.
func TestProject(t *testing.T) {
	runProject(t, compatSetup{dir: projectDir, inventory: "inventory.ini"})
}

// TestProjectSSH is TestProject with every host reached over SSH on a real sshd.
func TestProjectSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-playbook and sshd (not with -short)")
	}
	srv := sshtest.Start(t, sshtest.Options{})
	inv := sshInventory(t, srv, filepath.Join(projectDir, "inventory.ini"))
	runProject(t, compatSetup{dir: projectDir, inventory: inv, sharedOut: true})
}

func runProject(t *testing.T, setup compatSetup) {
	ansible, tally := ansiblePlaybook(t), tallyBinary(t)
	for _, run := range projectRuns {
		t.Run(run.name, func(t *testing.T) {
			args := append(slices.Clone(projectVault), run.args...)
			refSetup, gotSetup := setup, setup
			if run.check {
				check := append(slices.Clone(args), "--check", "--diff")
				ref := runPlaybook(t, setup, []string{ansible}, check, "site.yml")
				got := runPlaybook(t, setup, []string{tally, "run"}, check, "site.yml")
				compareProjectRuns(t, "with --check --diff", ref, got)
				refSetup.out, gotSetup.out = ref.out, got.out
			}
			ref := runPlaybook(t, refSetup, []string{ansible}, args, "site.yml")
			got := runPlaybook(t, gotSetup, []string{tally, "run"}, args, "site.yml")
			compareProjectRuns(t, "", ref, got)
		})
	}
}

// compareProjectRuns requires tally's run of the project (what: how it was run, "" for a plain
// run) to give ansible-playbook's recap, exit code and files.
func compareProjectRuns(t *testing.T, what string, ref, got runResult) {
	t.Helper()
	if ref.rc != 0 || len(ref.recap) == 0 {
		t.Fatalf("ansible-playbook %s did not run the project to its end:\n%s", what, ref.output())
	}
	if got.rc != ref.rc || !maps.Equal(got.recap, ref.recap) {
		t.Errorf("tally run %s differs from ansible-playbook: rc %d, ansible-playbook %d\n%s",
			what, got.rc, ref.rc, diffRecaps("ansible", ref.recap, "tally", got.recap))
	}
	want, have := projectFiles(t, ref.out), projectFiles(t, got.out)
	if have != want {
		t.Errorf("tally run %s left other files than ansible-playbook:\ntally:\n%s\nansible-playbook:\n%s", what, have, want)
	}
	if what == "" && strings.Count(want, "\n") <= 1 {
		t.Errorf("ansible-playbook left no file in %s", ref.out)
	}
	if t.Failed() {
		t.Logf("ansible-playbook output:\n%s", ref.output())
		t.Logf("tally output:\n%s", got.output())
	}
}

// projectFiles is fileTree of root with root itself written OUT (each run writes to a
// directory of its own).
func projectFiles(t *testing.T, root string) string {
	t.Helper()
	tree, err := fileTree(root)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(tree, root, "OUT")
}
