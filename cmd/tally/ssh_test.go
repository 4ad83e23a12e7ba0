package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/connection/sshtest"
)

// TestSSHRunOpensOneConnectionPerHost pins that a run over SSH logs in to each host once, and
// every task of every play reuses that connection.
func TestSSHRunOpensOneConnectionPerHost(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{})
	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString("[fleet]\n")
	const hosts = 3
	for i := range hosts {
		fmt.Fprintf(&inv, "n%d\n", i)
	}
	fmt.Fprintf(&inv, "[fleet:vars]\nansible_host=%s\nansible_port=%d\nansible_user=%s\nansible_ssh_private_key_file=%s\nansible_ssh_common_args='-o UserKnownHostsFile=%s'\n",
		srv.Host, srv.Port, srv.User, srv.KeyFile, srv.KnownHostsFile)
	play := `
- hosts: fleet
  tasks:
    - command: "true"
    - copy: {content: "x\n", dest: "/tmp/tally-conn-{{ inventory_hostname }}"}
    - file: {path: "/tmp/tally-conn-{{ inventory_hostname }}", state: absent}
- hosts: fleet
  gather_facts: false
  tasks:
    - shell: echo again
`
	writeFile(t, filepath.Join(dir, "inventory.ini"), inv.String())
	writeFile(t, filepath.Join(dir, "site.yml"), play)
	cmd := exec.Command(tallyBinary(t), "run", "-i", filepath.Join(dir, "inventory.ini"), filepath.Join(dir, "site.yml"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tally run: %v\n%s", err, out)
	}
	srv.Stop() // flush sshd's log
	log, err := os.ReadFile(srv.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	if logins := strings.Count(string(log), "Accepted publickey"); logins != hosts {
		t.Errorf("sshd accepted %d logins for %d hosts, want one each:\n%s", logins, hosts, log)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
