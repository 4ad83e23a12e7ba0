package playbook

import "testing"

// TestIsAnsibleModule: a module of Ansible's that tally lacks is told apart from a misspelt
// name, so that the error says tally does not support it yet.
func TestIsAnsibleModule(t *testing.T) {
	for name, want := range map[string]bool{
		"synchronize": true, "ansible.posix.synchronize": true, "ansible.builtin.apt": true,
		"community.general.archive": true, "synchronise": false, "ansible.builtin.synchronise": false,
	} {
		if got := isAnsibleModule(name); got != want {
			t.Errorf("isAnsibleModule(%q) = %v, want %v", name, got, want)
		}
	}
}
