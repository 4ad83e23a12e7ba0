package playbook

import (
	"fmt"

	"github.com/tallyrun/tally/host/vault"
)

// Options tune LoadWith, LoadTasksWith and LoadVarsFile.
type Options struct {
	// Vault opens vault-encrypted files and !vault values; nil has no secrets, so that
	// such data fails when it is used, as in Ansible without a vault password.
	Vault *vault.Keyring
}

// LoadVarsFile reads a vars file (vars_files, -e @file): a YAML or JSON mapping, vault
// encrypted or not, with !vault values; an empty file gives an empty map. The errors are
// Ansible's (a vault error is the vault's own message, naming the file).
func LoadVarsFile(path string, opts Options) (map[string]any, error) {
	ld := &loader{vault: opts.Vault}
	d, root, err := ld.readYAML(path, Pos{})
	if err != nil {
		return nil, err
	}
	if root == nil {
		return map[string]any{}, nil
	}
	v, err := d.value(root, 0)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("vars file %s must be stored as a dictionary/hash", path)}
	}
	return m, nil
}
