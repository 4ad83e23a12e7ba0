package playbook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	// include_vars reads the same file through LoadVars.
	if vars, err = LoadVars("testdata/vault/vars.yml", Options{Vault: keys}); err != nil || vars["db_password"] != "s3cr3t" {
		t.Errorf("LoadVars = %v, %v", vars, err)
	}

	wrong := vault.NewKeyring(vault.Secret{ID: vault.DefaultID, Password: []byte("beta")})
	for _, load := range []func() error{
		func() error { _, err := LoadWith("testdata/vault/playbook.yml", Options{Vault: wrong}); return err },
		func() error { _, err := LoadVarsFile("testdata/vault/vars.yml", Options{}); return err },
		func() error { _, err := LoadVars("testdata/vault/vars.yml", Options{Vault: wrong}); return err },
	} {
		err := load()
		var ve *vault.Error
		var pe *Error
		if !errors.As(err, &ve) || errors.As(err, &pe) {
			t.Errorf("error %T %v: want a *vault.Error, not a parse error", err, err)
		}
	}
}

// TestLoadVarsFileShapes pins what a vars file may hold: a mapping, a list of mappings
// (merged in order), nothing.
func TestLoadVarsFileShapes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ src, want, wantErr string }{
		{src: "a: 1\nb: yes\n", want: "map[a:1 b:true]"},
		{src: "- a: 1\n- a: 2\n  b: 3\n", want: "map[a:2 b:3]"},
		{src: "", want: "map[]"},
		{src: "- 1\n", wantErr: "variable files must contain either a dictionary of variables, or a list of dictionaries. Got: [1] (list)"},
	}
	for i, tt := range tests {
		path := filepath.Join(dir, fmt.Sprintf("v%d.yml", i))
		if err := os.WriteFile(path, []byte(tt.src), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadVarsFile(path, Options{})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.src, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("%q: %v, %v; want %s", tt.src, got, err, tt.want)
		}
	}
}
