package sshtest

import (
	"os/exec"
	"strconv"
	"testing"
)

// TestStartLogsInWithOpenSSH checks a server with the OpenSSH client, independently of tally's
// own SSH code: the key, the known_hosts file and the test user all work.
func TestStartLogsInWithOpenSSH(t *testing.T) {
	s := Start(t, Options{})
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client")
	}
	out, err := exec.Command("ssh", "-F", "/dev/null", "-p", strconv.Itoa(s.Port),
		"-i", s.KeyFile, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+s.KnownHostsFile, "-l", s.User, s.Host, "id -un; echo $SHELL").CombinedOutput()
	if err != nil {
		t.Fatalf("ssh: %v\n%s", err, out)
	}
	if got, want := string(out), User+"\n/bin/sh\n"; got != want {
		t.Errorf("ssh printed %q, want %q", got, want)
	}
}
