// Package vault reads data encrypted with Ansible Vault (ansible-core 2.14's
// parsing/vault): the envelope "$ANSIBLE_VAULT;1.1;AES256" (1.2 adds ";LABEL",
// the vault ID) followed by hex text holding the salt, the HMAC and the
// ciphertext. Keys come from PBKDF2-HMAC-SHA256 (10000 iterations, 80 bytes:
// AES key, HMAC key, counter); the HMAC-SHA256 of the ciphertext is checked
// in constant time before AES-256-CTR decrypts it, and the PKCS#7 padding is
// removed.
//
// Decrypted text stays in memory: nothing here writes it to disk or logs it.
package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Header starts every vault-encrypted text.
const Header = "$ANSIBLE_VAULT"

// DefaultID is the vault ID of secrets given without a label, as Ansible's.
const DefaultID = "default"

// IsEncrypted reports whether data is vault-encrypted text, as Ansible's is_encrypted: it
// starts with the header (ASCII only).
func IsEncrypted(data []byte) bool {
	if !bytes.HasPrefix(data, []byte(Header)) {
		return false
	}
	for _, b := range data {
		if b >= 0x80 {
			return false
		}
	}
	return true
}

// envelope is a parsed vault text.
type envelope struct {
	version, cipher, id string
	body                []byte // the hex lines joined
}

// FormatError is vault text that cannot be read (Ansible's AnsibleVaultFormatError).
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

func parseEnvelope(data []byte) (*envelope, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	header := strings.Split(strings.TrimSpace(lines[0]), ";")
	if len(header) < 3 {
		return nil, &FormatError{Msg: "Vault envelope format error: invalid header " + strings.TrimSpace(lines[0])}
	}
	env := &envelope{version: strings.TrimSpace(header[1]), cipher: strings.TrimSpace(header[2])}
	if len(header) >= 4 {
		env.id = strings.TrimSpace(header[3])
	}
	env.body = []byte(strings.Join(lines[1:], ""))
	return env, nil
}

// ID returns the vault ID named in the header of a 1.2 vault text, or "".
func ID(data []byte) string {
	env, err := parseEnvelope(data)
	if err != nil {
		return ""
	}
	return env.id
}

func unhex(b []byte) ([]byte, error) {
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		return nil, &FormatError{Msg: "Vault format unhexlify error: " + err.Error()}
	}
	return out, nil
}

// errHMAC is a password that does not open the text (the HMAC does not match).
var errHMAC = errors.New("HMAC verification failed")

// decryptWith opens the body of a vault text with one password.
func decryptWith(body, password []byte) ([]byte, error) {
	raw, err := unhex(body)
	if err != nil {
		return nil, err
	}
	parts := bytes.SplitN(raw, []byte("\n"), 3)
	if len(parts) != 3 {
		return nil, &FormatError{Msg: "Vault vaulttext format error: not enough values to unpack (expected 3)"}
	}
	salt, err := unhex(parts[0])
	if err != nil {
		return nil, err
	}
	wantMAC, err := unhex(parts[1])
	if err != nil {
		return nil, err
	}
	ciphertext, err := unhex(parts[2])
	if err != nil {
		return nil, err
	}
	keys, err := pbkdf2.Key(sha256.New, string(password), salt, 10000, 80)
	if err != nil {
		return nil, fmt.Errorf("derive vault keys: %w", err)
	}
	aesKey, macKey, iv := keys[:32], keys[32:64], keys[64:80]
	mac := hmac.New(sha256.New, macKey)
	mac.Write(ciphertext)
	if !hmac.Equal(mac.Sum(nil), wantMAC) {
		return nil, errHMAC
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCTR(block, iv).XORKeyStream(plain, ciphertext)
	return unpad(plain)
}

// unpad removes PKCS#7 padding to 16-byte blocks.
func unpad(b []byte) ([]byte, error) {
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return nil, &FormatError{Msg: "Vault format error: invalid padding"}
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, &FormatError{Msg: "Vault format error: invalid padding"}
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, &FormatError{Msg: "Vault format error: invalid padding"}
		}
	}
	return b[:len(b)-n], nil
}
