package main

import (
	"maps"
	"path/filepath"
	"testing"
)

// TestRefreshInventoryMatchesAnsible pins meta: refresh_inventory as ansible-playbook's: a
// play rewrites the inventory file and refreshes; the next play selects from the new file, and
// the hosts that add_host and group_by made before the refresh are still there.
func TestRefreshInventoryMatchesAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-playbook (not with -short)")
	}
	project := func() string {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "inventory.ini"), "[web]\nw1 ansible_connection=local\n")
		writeFile(t, filepath.Join(dir, "site.yml"), `- hosts: all
  gather_facts: false
  tasks:
    - add_host: {name: dyn, groups: web, ansible_connection: local}
    - group_by: {key: "grouped"}
    - copy:
        dest: "{{ playbook_dir }}/inventory.ini"
        content: "[web]\nw1 ansible_connection=local\nw2 ansible_connection=local\n[db]\nd1 ansible_connection=local role=primary\n"
      delegate_to: localhost
    - meta: refresh_inventory
    - name: the batch stays; the play's hosts are selected again
      assert:
        that:
          - ansible_play_batch == ['w1']
          - ansible_play_hosts_all | sort == ['d1', 'dyn', 'w1', 'w2']

- hosts: all
  gather_facts: false
  tasks:
    - name: the new inventory, with add_host's and group_by's changes made again
      assert:
        that:
          - groups['web'] | sort == ['dyn', 'w1', 'w2']
          - groups['grouped'] == ['w1']
          - hostvars['d1']['role'] == 'primary'
`)
		return dir
	}
	ansible, tally := ansiblePlaybook(t), tallyBinary(t)
	ref := runPlaybook(t, compatSetup{dir: project(), inventory: "inventory.ini"}, []string{ansible}, nil, "site.yml")
	got := runPlaybook(t, compatSetup{dir: project(), inventory: "inventory.ini"}, []string{tally, "run"}, nil, "site.yml")
	if ref.rc != 0 || len(ref.recap) != 4 {
		t.Fatalf("ansible-playbook: exit code %d, want 0 and 4 hosts:\n%s", ref.rc, ref.output())
	}
	if got.rc != ref.rc || !maps.Equal(got.recap, ref.recap) {
		t.Errorf("tally differs from ansible-playbook: rc %d, ansible-playbook %d\n%s\n%s",
			got.rc, ref.rc, diffRecaps("ansible", ref.recap, "tally", got.recap), got.output())
	}
}
