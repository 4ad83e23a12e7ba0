package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tallyrun/tally/internal/pypath"
)

// Sources are the places a run's vault passwords come from, as ansible-playbook's options
// give them.
type Sources struct {
	IDs           []string // --vault-id: "label@source" or "source"; a source "prompt" asks
	PasswordFiles []string // --vault-password-file: a file, or an executable printing it
	AskVaultPass  bool     // --ask-vault-pass
}

// Prompt asks for a password on the terminal.
type Prompt func(prompt string) (string, error)

// Load reads every password, in Ansible's order (setup_vault_secrets): the vault IDs, then
// the password files (under the default ID), then --ask-vault-pass. As in Ansible, a password
// file that cannot be read is only a warning when another secret was found.
func Load(src Sources, prompt Prompt, warn func(string)) (*Keyring, error) {
	slugs := append([]string(nil), src.IDs...)
	for _, f := range src.PasswordFiles {
		slugs = append(slugs, DefaultID+"@"+f)
	}
	if src.AskVaultPass {
		slugs = append(slugs, DefaultID+"@prompt_ask_vault_pass")
	}
	k := &Keyring{}
	var lastErr error
	for _, slug := range slugs {
		label, source, ok := strings.Cut(slug, "@")
		if !ok {
			label, source = "", slug
		}
		id := label
		if id == "" {
			id = DefaultID
		}
		switch source {
		case "prompt", "prompt_ask_vault_pass":
			text := "Vault password: "
			if source == "prompt" {
				text = fmt.Sprintf("Vault password (%s): ", id)
			}
			pw, err := prompt(text)
			if err != nil {
				return nil, fmt.Errorf("vault password prompt (%s): %w", id, err)
			}
			k.secrets = append(k.secrets, Secret{ID: id, Password: []byte(strings.TrimSpace(pw))})
			continue
		}
		pw, err := readPasswordSource(source, label, k)
		if err != nil {
			warn(fmt.Sprintf("Error getting vault password file (%s): %v", label, err))
			lastErr = err
			continue
		}
		k.secrets = append(k.secrets, Secret{ID: id, Password: pw})
	}
	if lastErr != nil && k.Empty() {
		return nil, lastErr
	}
	return k, nil
}

// readPasswordSource reads a password file, or runs it when it is executable: a script whose
// name ends in "-client" is given "--vault-id LABEL", as Ansible's client scripts are. A
// password file may itself be vault text opened by the secrets read so far.
func readPasswordSource(file, label string, k *Keyring) ([]byte, error) {
	path := file
	if abs, err := filepath.Abs(pypath.ExpandUser(file)); err == nil {
		path = abs
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("The vault password file %s was not found", path)
	}
	if info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
		return runPasswordScript(path, label)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Could not read vault password file %s: %w", path, err)
	}
	data, err = k.Plain(bytes.TrimSpace(data), path)
	if err != nil {
		return nil, err
	}
	pw := bytes.Trim(data, "\r\n")
	if len(pw) == 0 {
		return nil, fmt.Errorf("Invalid vault password was provided from file (%s)", path)
	}
	return pw, nil
}

func runPasswordScript(path, label string) ([]byte, error) {
	args := []string{}
	client := strings.HasSuffix(strings.TrimSuffix(path, filepath.Ext(path)), "-client")
	if client && label != "" {
		args = append(args, "--vault-id", label)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = os.Stdin
	var stderr bytes.Buffer
	if client {
		cmd.Stderr = &stderr
	} else {
		cmd.Stderr = os.Stderr // as Ansible, so that a script may prompt
	}
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("Problem running vault password script %s (%w). If this is not a script, remove the executable bit from the file.", path, err)
		}
		if client && exit.ExitCode() == 2 {
			return nil, fmt.Errorf("Vault password client script %s did not find a secret for vault-id=%s: %s", path, label, stderr.Bytes())
		}
		return nil, fmt.Errorf("Vault password script %s returned non-zero (%d): %s", path, exit.ExitCode(), stderr.Bytes())
	}
	pw := bytes.Trim(out, "\r\n")
	if len(pw) == 0 {
		return nil, fmt.Errorf("Invalid vault password was provided from script (%s)", path)
	}
	return pw, nil
}
