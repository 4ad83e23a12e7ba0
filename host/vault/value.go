package vault

import (
	"encoding/json"
	"sync"
)

// Value is a string encrypted in place (YAML's !vault tag), kept encrypted until a template
// uses it, as Ansible's AnsibleVaultEncryptedUnicode: a value no task uses needs no password,
// and a wrong password fails only the tasks that use it.
type Value struct {
	Text string // the vault text
	keys *Keyring

	once  sync.Once
	plain string
	err   error
}

// NewValue returns a !vault value opened with keys when used.
func NewValue(text string, keys *Keyring) *Value {
	return &Value{Text: text, keys: keys}
}

// Reveal decrypts the value (once; the result is kept in memory only).
func (v *Value) Reveal() (string, error) {
	v.once.Do(func() {
		b, err := v.keys.Decrypt([]byte(v.Text), "")
		v.plain, v.err = string(b), err
	})
	return v.plain, v.err
}

// MarshalJSON encodes the value as Ansible's AnsibleJSONEncoder does with vault_to_text off:
// the vault text, never the plaintext.
func (v *Value) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"__ansible_vault": v.Text})
}
