package template

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFileVarsExpandsAnsibleManaged pins ansible_managed as Ansible's template module expands
// it: {host}, {uid} and {file} (the template as the task named it), then strftime at the
// template's modification time; other fields are errors, as in Python's str.format.
func TestFileVarsExpandsAnsibleManaged(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "motd.j2")
	if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 3, 5, 6, 7, 8, 0, time.Local)
	if err := os.Chtimes(full, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ managed, want, wantErr string }{
		{managed: "Ansible managed", want: "Ansible managed"},
		{managed: "{file} on {host} by {uid}", want: "templates/motd.j2 on " + host + " by " + me.Username},
		{managed: "modified %Y-%m-%d %H:%M:%S", want: "modified 2024-03-05 06:07:08"},
		{managed: "{{literal}} %%", want: "{literal} %"},
		{managed: "{nope}", wantErr: `unknown field "nope"`},
		{managed: "open {", wantErr: "single '{'"},
	} {
		v, err := FileVars("templates/motd.j2", full, "/etc/motd", tc.managed)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: got error %v, want one containing %q", tc.managed, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.managed, err)
		}
		if v["ansible_managed"] != tc.want {
			t.Errorf("%q: ansible_managed = %q, want %q", tc.managed, v["ansible_managed"], tc.want)
		}
		if v["template_mtime"] != "2024-03-05 06:07:08" || v["template_destpath"] != "/etc/motd" || v["template_fullpath"] != full {
			t.Errorf("%q: template vars %v", tc.managed, v)
		}
	}
}
