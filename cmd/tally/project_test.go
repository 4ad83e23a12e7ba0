package main

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
			want, have := fileTree(t, ref.out), fileTree(t, got.out)
			for _, p := range slices.Sorted(maps.Keys(want)) {
				if have[p] != want[p] {
					t.Errorf("%s: tally left %q, ansible-playbook %q", p, have[p], want[p])
				}
			}
			for _, p := range slices.Sorted(maps.Keys(have)) {
				if _, ok := want[p]; !ok {
					t.Errorf("%s: left by tally, not by ansible-playbook", p)
				}
			}
			if len(want) == 0 {
				t.Errorf("ansible-playbook left no file in %s", ref.out)
			}
			if t.Failed() {
				t.Logf("ansible-playbook output:\n%s", ref.output())
				t.Logf("tally output:\n%s", got.output())
			}
		})
	}
}

// fileTree describes every file and directory under root by its path: its type, permissions
// and content, with root itself written OUT (each run writes to a directory of its own).
func fileTree(t *testing.T, root string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		desc := fmt.Sprintf("%v", info.Mode())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += " " + strings.ReplaceAll(string(data), root, "OUT")
		}
		tree[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}
