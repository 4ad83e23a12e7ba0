package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/connection/sshtest"
)

// checkPlaybook would change every kind of thing the modules change on a host, were it not run
// with --check.
const checkPlaybook = `
- hosts: target
  gather_facts: false
  vars:
    d: "{{ tree }}"
  tasks:
    - copy: {content: "new\n", dest: "{{ d }}/new.txt"}
    - copy: {content: "other\n", dest: "{{ d }}/file.txt", mode: "0600"}
    - copy: {src: src.txt, dest: "{{ d }}/file.txt"}
    - template: {src: t.j2, dest: "{{ d }}/templated"}
    - lineinfile: {path: "{{ d }}/file.txt", line: added, mode: "0600"}
    - lineinfile: {path: "{{ d }}/file.txt", regexp: "^one", state: absent}
    - lineinfile: {path: "{{ d }}/missing/created.txt", line: first, create: true}
    - file: {path: "{{ d }}/made/deep", state: directory}
    - file: {path: "{{ d }}/sub", state: absent}
    - file: {path: "{{ d }}/file.txt", state: absent}
    - file: {path: "{{ d }}/file.txt", mode: "0600"}
    - file: {path: "{{ d }}/touched", state: touch}
    - file: {path: "{{ d }}/file.txt", state: touch}
    - file: {src: "{{ d }}/file.txt", dest: "{{ d }}/link", state: link}
    - file: {src: "{{ d }}/file.txt", dest: "{{ d }}/oldlink", state: link, force: true}
    - command: touch {{ d }}/command
    - command: touch {{ d }}/command
      args: {creates: "{{ d }}/command"}
    - shell: echo x > {{ d }}/shell
    - raw: echo x > {{ d }}/raw
    - script: s.sh {{ d }}/script
    - script: s.sh {{ d }}/script
      args: {removes: "{{ d }}/file.txt"}
`

// TestCheckRunChangesNothing runs a playbook that would change files, directories, links and
// modes, and run commands, with --check --diff, locally and over SSH: the run reports changes,
// and the host's file tree (content, modes, times) is as it was.
func TestCheckRunChangesNothing(t *testing.T) {
	tally := tallyBinary(t)
	for _, viaSSH := range []bool{false, true} {
		name := "local"
		if viaSSH {
			name = "ssh"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tree := filepath.Join(dir, "tree")
			inv := "[target]\nt ansible_connection=local\n"
			if viaSSH {
				srv := sshtest.Start(t, sshtest.Options{})
				inv = fmt.Sprintf("[target]\nt ansible_host=%s ansible_port=%d ansible_user=%s ansible_ssh_private_key_file=%s ansible_ssh_common_args='-o UserKnownHostsFile=%s'\n",
					srv.Host, srv.Port, srv.User, srv.KeyFile, srv.KnownHostsFile)
				// The login user reads the tree: the test's directories are private to root.
				for _, d := range []string{filepath.Dir(dir), dir} {
					if err := os.Chmod(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, d := range []string{tree, filepath.Join(tree, "sub", "deeper"), filepath.Join(dir, "files"), filepath.Join(dir, "templates")} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			writeFile(t, filepath.Join(tree, "file.txt"), "one\ntwo\n")
			writeFile(t, filepath.Join(tree, "sub", "deeper", "f"), "f\n")
			if err := os.Symlink("file.txt", filepath.Join(tree, "oldlink")); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "files", "src.txt"), "from src\n")
			writeFile(t, filepath.Join(dir, "files", "s.sh"), "#!/bin/sh\ntouch \"$1\"\n")
			writeFile(t, filepath.Join(dir, "templates", "t.j2"), "{{ inventory_hostname }}\n")
			writeFile(t, filepath.Join(dir, "inventory.ini"), inv)
			writeFile(t, filepath.Join(dir, "site.yml"), checkPlaybook)
			before := treeState(t, tree)

			cmd := exec.Command(tally, "run", "--check", "--diff", "-i", filepath.Join(dir, "inventory.ini"), "-e", "tree="+tree, filepath.Join(dir, "site.yml"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("tally run --check: %v\n%s", err, out)
			}
			if !regexp.MustCompile(`t\s+: ok=\d+\s+changed=17\s+unreachable=0\s+failed=0\s+skipped=4 `).Match(out) {
				t.Errorf("the check run does not report the changes it would make:\n%s", out)
			}
			if !strings.Contains(string(out), "--- before: "+tree+"/file.txt\n+++ after: "+filepath.Join(dir, "files", "src.txt")+"\n") {
				t.Errorf("the check run shows no diff of file.txt:\n%s", out)
			}
			if after := treeState(t, tree); after != before {
				t.Errorf("the check run changed the host's files:\n%s\n%s", firstDiff(before, after), out)
			}
		})
	}
}

// treeState describes everything a run could change under dir: each entry's path, type,
// permissions, owner, modification time, and a file's content hash or a link's target.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %v %d", p, info.Mode(), info.ModTime().UnixNano(), info.Size())
		switch {
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			b.WriteString(" -> " + target)
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
