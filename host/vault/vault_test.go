package vault

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures in testdata/ were made by ansible-vault (testdata/gen.sh).
func TestDecryptFilesMadeByAnsibleVault(t *testing.T) {
	alpha := Secret{ID: DefaultID, Password: []byte("alpha")}
	beta := Secret{ID: "dev", Password: []byte("beta")}
	tests := []struct {
		file    string
		secrets []Secret
		want    string
		wantErr string
	}{
		{file: "v11.yml", secrets: []Secret{alpha}, want: "secret: hunter2\n"},
		{file: "v12-dev.yml", secrets: []Secret{beta}, want: "db_password: s3cr3t\n"},
		// the vault ID is only a hint: any secret that opens the text does
		{file: "v12-dev.yml", secrets: []Secret{{ID: "prod", Password: []byte("beta")}}, want: "db_password: s3cr3t\n"},
		{file: "v12-dev.yml", secrets: []Secret{alpha, beta}, want: "db_password: s3cr3t\n"},
		{file: "pad15.txt", secrets: []Secret{alpha}, want: "123456789012345"},
		{file: "pad16.txt", secrets: []Secret{alpha}, want: "1234567890123456"},
		{file: "utf8.txt", secrets: []Secret{alpha}, want: "línea 1\nline 2\n"},
		{file: "v11.yml", secrets: []Secret{beta}, wantErr: "Decryption failed (no vault secrets were found that could decrypt) on testdata/v11.yml"},
		{file: "v11.yml", wantErr: "Attempting to decrypt but no vault secrets found"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.want+tt.wantErr, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewKeyring(tt.secrets...).Decrypt(data, path)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Decrypt error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Decrypt = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecryptRejectsTamperedText(t *testing.T) {
	data, err := os.ReadFile("testdata/v11.yml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	// flip one hex digit of the body: either the HMAC no longer matches or the hex is bad
	b := []byte(lines[3])
	if b[10] == '0' {
		b[10] = '1'
	} else {
		b[10] = '0'
	}
	lines[3] = string(b)
	_, err = NewKeyring(Secret{ID: DefaultID, Password: []byte("alpha")}).Decrypt([]byte(strings.Join(lines, "\n")), "f")
	if err == nil {
		t.Fatal("tampered vault text decrypted")
	}
	var fe *FormatError
	var ve *Error
	if !errors.As(err, &fe) && !errors.As(err, &ve) {
		t.Fatalf("error %T %v, want a vault error", err, err)
	}
}

func TestPlainLeavesClearTextAlone(t *testing.T) {
	got, err := (*Keyring)(nil).Plain([]byte("a: 1\n"), "f")
	if err != nil || string(got) != "a: 1\n" {
		t.Fatalf("Plain = %q, %v", got, err)
	}
}

func TestValueRevealsOnUseAndNeverMarshalsPlaintext(t *testing.T) {
	data, err := os.ReadFile("testdata/pad15.txt")
	if err != nil {
		t.Fatal(err)
	}
	v := NewValue(string(data), NewKeyring(Secret{ID: DefaultID, Password: []byte("alpha")}))
	got, err := v.Reveal()
	if err != nil || got != "123456789012345" {
		t.Fatalf("Reveal = %q, %v", got, err)
	}
	js, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "123456789012345") || !strings.Contains(string(js), "__ansible_vault") {
		t.Errorf("MarshalJSON = %s", js)
	}
	if _, err := NewValue(string(data), nil).Reveal(); err != ErrNoSecrets {
		t.Errorf("Reveal without secrets: %v", err)
	}
}

func TestLoadReadsPasswordSourcesInAnsibleOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := write("pw", "  filepass \n", 0o600)
	script := write("pw.sh", "#!/bin/sh\necho scriptpass\n", 0o700)
	client := write("pw-client.sh", "#!/bin/sh\n[ \"$1 $2\" = '--vault-id prod' ] && echo clientpass || exit 2\n", 0o700)
	var prompts []string
	prompt := func(p string) (string, error) { prompts = append(prompts, p); return "typed\n", nil }
	k, err := Load(Sources{
		IDs:           []string{"dev@" + script, "prod@" + client, "ask@prompt"},
		PasswordFiles: []string{file},
		AskVaultPass:  true,
	}, prompt, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	want := []Secret{{"dev", []byte("scriptpass")}, {"prod", []byte("clientpass")}, {"ask", []byte("typed")},
		{DefaultID, []byte("filepass")}, {DefaultID, []byte("typed")}}
	if len(k.secrets) != len(want) {
		t.Fatalf("secrets = %q", k.secrets)
	}
	for i, s := range k.secrets {
		if s.ID != want[i].ID || string(s.Password) != string(want[i].Password) {
			t.Errorf("secret %d = %s/%q, want %s/%q", i, s.ID, s.Password, want[i].ID, want[i].Password)
		}
	}
	if strings.Join(prompts, "|") != "Vault password (ask): |Vault password: " {
		t.Errorf("prompts = %q", prompts)
	}

	var warned []string
	_, err = Load(Sources{PasswordFiles: []string{filepath.Join(dir, "missing")}}, prompt, func(w string) { warned = append(warned, w) })
	if err == nil || !strings.Contains(err.Error(), "The vault password file "+filepath.Join(dir, "missing")+" was not found") {
		t.Errorf("missing file: %v", err)
	}
	k, err = Load(Sources{PasswordFiles: []string{filepath.Join(dir, "missing"), file}}, prompt, func(w string) { warned = append(warned, w) })
	if err != nil || k.Empty() || len(warned) != 2 {
		t.Errorf("missing file beside a good one: %v, warnings %q", err, warned)
	}
}
