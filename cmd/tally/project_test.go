package main

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/connection/sshtest"
)

// projectDir holds a multi-role project (testdata/project/README.md).
const projectDir = "../../testdata/project"

// projectRuns are the command lines the project is run with.
var projectRuns = []struct {
	name string
	args []string
}{
	{"whole", nil},
	{"tags", []string{"--tags", "config"}},
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
			ref := runPlaybook(t, setup, []string{ansible}, run.args, "site.yml")
			got := runPlaybook(t, setup, []string{tally, "run"}, run.args, "site.yml")
			if ref.rc != 0 || len(ref.recap) == 0 {
				t.Fatalf("ansible-playbook did not run the project to its end:\n%s", ref.output())
			}
			if got.rc != ref.rc || !maps.Equal(got.recap, ref.recap) {
				t.Errorf("tally run differs from ansible-playbook: rc %d, ansible-playbook %d\n%s",
					got.rc, ref.rc, diffRecaps("ansible", ref.recap, "tally", got.recap))
			}
			want, have := projectFiles(t, ref.out), projectFiles(t, got.out)
			if have != want {
				t.Errorf("tally left other files than ansible-playbook:\ntally:\n%s\nansible-playbook:\n%s", have, want)
			}
			if strings.Count(want, "\n") <= 1 {
				t.Errorf("ansible-playbook left no file in %s", ref.out)
			}
			if t.Failed() {
				t.Logf("ansible-playbook output:\n%s", ref.output())
				t.Logf("tally output:\n%s", got.output())
			}
		})
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
