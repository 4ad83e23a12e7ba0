package vault

import (
	"errors"
	"fmt"
	"slices"
)

// Secret is one vault password with its vault ID.
type Secret struct {
	ID       string
	Password []byte
}

// Keyring holds the secrets of a run, in the order they were given. A nil *Keyring has none.
type Keyring struct {
	secrets []Secret
}

// NewKeyring returns a keyring holding secrets.
func NewKeyring(secrets ...Secret) *Keyring {
	return &Keyring{secrets: slices.Clone(secrets)}
}

// Empty reports whether the keyring holds no secret.
func (k *Keyring) Empty() bool { return k == nil || len(k.secrets) == 0 }

// Error is a failure to decrypt, with Ansible's message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// ErrNoSecrets is decryption attempted without any secret.
var ErrNoSecrets = &Error{Msg: "Attempting to decrypt but no vault secrets found"}

// Decrypt opens vault text as Ansible's VaultLib.decrypt does: the secrets whose ID the text
// names first, then every other one, in order. file names the source in the error ("" for a
// value inside a file). The errors are Ansible's: "Attempting to decrypt but no vault secrets
// found", "Decryption failed (no vault secrets were found that could decrypt) on FILE", or a
// *FormatError.
func (k *Keyring) Decrypt(data []byte, file string) ([]byte, error) {
	if !IsEncrypted(data) {
		msg := "input is not vault encrypted data. "
		if file != "" {
			msg += file + " is not a vault encrypted file"
		}
		return nil, &Error{Msg: msg}
	}
	env, err := parseEnvelope(data)
	if err != nil {
		return nil, err
	}
	if env.cipher != "AES256" {
		return nil, &Error{Msg: fmt.Sprintf("%s cipher could not be found", env.cipher)}
	}
	if k.Empty() {
		return nil, ErrNoSecrets
	}
	for _, s := range k.ordered(env.id) {
		plain, err := decryptWith(env.body, s.Password)
		if err == nil {
			return plain, nil
		}
		var fe *FormatError
		if errors.As(err, &fe) {
			if file != "" {
				return nil, &FormatError{Msg: fmt.Sprintf("There was a vault format error in %s: %s", file, fe.Msg)}
			}
			return nil, err
		}
	}
	msg := "Decryption failed (no vault secrets were found that could decrypt)"
	if file != "" {
		msg += " on " + file
	}
	return nil, &Error{Msg: msg}
}

// ordered lists the secrets for vault ID id first, then the others.
func (k *Keyring) ordered(id string) []Secret {
	if id == "" {
		return k.secrets
	}
	out := make([]Secret, 0, len(k.secrets))
	for _, s := range k.secrets {
		if s.ID == id {
			out = append(out, s)
		}
	}
	for _, s := range k.secrets {
		if s.ID != id {
			out = append(out, s)
		}
	}
	return out
}

// Plain returns data decrypted when it is vault text, and data itself otherwise, as
// Ansible's loader reads every file.
func (k *Keyring) Plain(data []byte, file string) ([]byte, error) {
	if !IsEncrypted(data) {
		return data, nil
	}
	return k.Decrypt(data, file)
}
