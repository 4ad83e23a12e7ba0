package inventory

import (
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/vault"
)

// testdata/vault was encrypted by ansible-vault (its gen.sh): a !vault value in the inventory,
// a vault-encrypted group_vars file (1.1) and host_vars file (1.2, vault ID dev).
func TestVaultEncryptedInventoryAndVarsFiles(t *testing.T) {
	keys := vault.NewKeyring(vault.Secret{ID: "default", Password: []byte("alpha")}, vault.Secret{ID: "dev", Password: []byte("beta")})
	inv, err := LoadWith([]string{"testdata/vault/hosts.yml"}, Options{Vault: keys})
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Host("h1")
	if h == nil {
		t.Fatal("no host h1")
	}
	vars := inv.HostVars(h)
	for name, want := range map[string]string{"from_group": "gsecret", "from_host": "hsecret"} {
		if vars[name] != want {
			t.Errorf("%s = %#v, want %q", name, vars[name], want)
		}
	}
	v, ok := vars["api_key"].(*vault.Value)
	if !ok {
		t.Fatalf("api_key = %#v, want a *vault.Value", vars["api_key"])
	}
	if got, err := v.Reveal(); err != nil || got != "k3y" {
		t.Errorf("api_key reveals %q, %v", got, err)
	}
}

func TestVaultEncryptedVarsFileWithWrongPassword(t *testing.T) {
	keys := vault.NewKeyring(vault.Secret{ID: "default", Password: []byte("wrong")})
	_, err := LoadWith([]string{"testdata/vault/hosts.yml"}, Options{Vault: keys})
	want := "Decryption failed (no vault secrets were found that could decrypt) on "
	if err == nil || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), "/testdata/vault/group_vars/web.yml") {
		t.Fatalf("error %v, want %q", err, want)
	}
}
