package playbook

import (
	"errors"
	"testing"

	"github.com/tallyrun/tally/host/vault"
)

// testdata/vault holds a playbook and a vars file encrypted by ansible-vault (its gen.sh).
func TestVaultEncryptedFiles(t *testing.T) {
	keys := vault.NewKeyring(vault.Secret{ID: vault.DefaultID, Password: []byte("alpha")})
	pb, err := LoadWith("testdata/vault/playbook.yml", Options{Vault: keys})
	if err != nil {
		t.Fatal(err)
	}
	if len(pb.Plays) != 1 || pb.Plays[0].Vars["greeting"] != "hello" || len(pb.Plays[0].Tasks) != 1 {
		t.Errorf("decrypted playbook read as %+v", pb.Plays)
	}
	vars, err := LoadVarsFile("testdata/vault/vars.yml", Options{Vault: keys})
	if err != nil {
		t.Fatal(err)
	}
	if vars["db_password"] != "s3cr3t" || vars["port"] != 5432 {
		t.Errorf("vars = %v", vars)
	}

	wrong := vault.NewKeyring(vault.Secret{ID: vault.DefaultID, Password: []byte("beta")})
	for _, load := range []func() error{
		func() error { _, err := LoadWith("testdata/vault/playbook.yml", Options{Vault: wrong}); return err },
		func() error { _, err := LoadVarsFile("testdata/vault/vars.yml", Options{}); return err },
	} {
		err := load()
		var ve *vault.Error
		var pe *Error
		if !errors.As(err, &ve) || errors.As(err, &pe) {
			t.Errorf("error %T %v: want a *vault.Error, not a parse error", err, err)
		}
	}
}
