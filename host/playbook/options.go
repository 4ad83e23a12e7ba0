package playbook

import (
	"fmt"
	"maps"

	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/internal/pytext"
)

// Options tune LoadWith and LoadVarsFile.
type Options struct {
	// Vault opens vault-encrypted files and !vault values; nil has no secrets, so that
	// such data fails when it is used, as in Ansible without a vault password.
	Vault *vault.Keyring
	// RolesPath are the directories searched for a role after roles/ next to the playbook
	// (Ansible's DEFAULT_ROLES_PATH).
	RolesPath []string
	// CollectionsPath are the directories holding ansible_collections/NS/COLL/roles/ROLE.
	CollectionsPath []string
	// ExtraVars are the run's extra vars, which role names and import_role's arguments are
	// templated with, as are the play's vars.
	ExtraVars map[string]any
}

// LoadVarsFile reads a vars file (vars_files, -e @file): YAML or JSON, vault encrypted or
// not, with !vault values, holding a mapping or a list of mappings; an empty file gives an
// empty map. The errors are
// Ansible's (a vault error is the vault's own message, naming the file).
func LoadVarsFile(path string, opts Options) (map[string]any, error) {
	v, _, err := (&loader{opts: opts}).varsValue(path, Pos{})
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	// As Ansible's preprocess_vars: a mapping, or a list of mappings merged in order.
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := map[string]any{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, &Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("variable files must contain either a dictionary of variables, or a list of dictionaries. Got: %s (%s)", pytext.Repr(v), pytext.TypeName(v))}
		}
		maps.Copy(out, m)
	}
	return out, nil
}
