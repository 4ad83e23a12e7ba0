package connection

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/tallyrun/tally/host/connection/sshtest"
)

// The tests in this file run against real OpenSSH servers (see package sshtest).

// dialServer connects to s as user with vars over the server's own and closes the
// connection when the test ends.
func dialServer(t *testing.T, s *sshtest.Server, user string, vars map[string]any, opts SSHOptions) *SSH {
	t.Helper()
	c, err := DialSSH(context.Background(), "web1", withVars(s.Vars(user), vars), opts)
	if err != nil {
		t.Fatalf("DialSSH: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func withVars(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{base, over} {
		for k, v := range m {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
	}
	return out
}

func TestSSHExec(t *testing.T) {
	t.Parallel()
	c := dialServer(t, sshtest.Start(t, sshtest.Options{}), "", nil, SSHOptions{})
	tests := []struct {
		name       string
		cmd        Command
		want       Result
		wantStdout string // instead of want.Stdout, a prefix
	}{
		{name: "status and both outputs", cmd: Command{Cmd: "echo out; echo err >&2; exit 3"},
			want: Result{RC: 3, Stdout: []byte("out\n"), Stderr: []byte("err\n")}},
		{name: "env is exported, quoted", cmd: Command{Cmd: `printf '%s|%s' "$A" "$B"`, Env: map[string]string{"A": "x y'z", "B": "$HOME"}},
			want: Result{Stdout: []byte("x y'z|$HOME")}},
		{name: "stdin is fed", cmd: Command{Cmd: "cat; echo .", Stdin: []byte("line1\nline2")},
			want: Result{Stdout: []byte("line1\nline2.\n")}},
		{name: "unread stdin is no error", cmd: Command{Cmd: "true", Stdin: bytes.Repeat([]byte("x"), 4<<20)}},
		{name: "runs under /bin/sh as the login user at home", cmd: Command{Cmd: `echo "$0 $(id -un) $HOME"`},
			want: Result{Stdout: []byte("/bin/sh " + sshtest.User + " /home/" + sshtest.User + "\n")}},
		{name: "killed by a signal", cmd: Command{Cmd: "kill -KILL $$"}, want: Result{RC: -9}},
		{name: "large output", cmd: Command{Cmd: "head -c 3000000 /dev/zero | tr '\\0' a"}, wantStdout: "aaaa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Exec(context.Background(), tt.cmd)
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if tt.wantStdout != "" {
				if !bytes.HasPrefix(got.Stdout, []byte(tt.wantStdout)) || len(got.Stdout) != 3000000 {
					t.Errorf("stdout: %d bytes starting %.10q", len(got.Stdout), got.Stdout)
				}
				got.Stdout = nil
			}
			if got.RC != tt.want.RC || !bytes.Equal(got.Stdout, tt.want.Stdout) || !bytes.Equal(got.Stderr, tt.want.Stderr) {
				t.Errorf("Exec = rc %d, stdout %q, stderr %q; want rc %d, stdout %q, stderr %q",
					got.RC, got.Stdout, got.Stderr, tt.want.RC, tt.want.Stdout, tt.want.Stderr)
			}
		})
	}
}

// TestSSHPutFetch moves files over SFTP and, where the host offers no SFTP or no session to
// spare for it, through the shell.
func TestSSHPutFetch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		server   sshtest.Options
		opts     SSHOptions
		wantSFTP bool
	}{
		{name: "sftp", wantSFTP: true},
		{name: "shell: no SFTP subsystem", server: sshtest.Options{NoSFTP: true}},
		{name: "shell: one session", opts: SSHOptions{MaxSessions: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dialServer(t, sshtest.Start(t, tt.server), "", nil, tt.opts)
			testPutFetch(t, c)
			if got := c.files() != nil; got != tt.wantSFTP {
				t.Errorf("files went over SFTP: %v, want %v", got, tt.wantSFTP)
			}
		})
	}
}

func testPutFetch(t *testing.T, c *SSH) {
	ctx := context.Background()
	// The server is this machine: a directory the login user may write, for this test only.
	dir, err := os.MkdirTemp("", "tally-ssh-put-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	for _, tt := range []struct {
		name string
		data []byte
		mode fs.FileMode
	}{
		{"small", []byte("hello\n"), 0o640},
		{"empty", nil, 0o600},
		{"large", big, 0o755},
		{"setgid", []byte("x"), 0o750 | fs.ModeSetgid},
		{"replaced", []byte("new"), 0o604},
	} {
		dst := filepath.Join(dir, tt.name+" file")
		if tt.name == "replaced" {
			if err := os.WriteFile(dst, []byte("old content"), 0o666); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Put(ctx, dst, tt.data, tt.mode, nil); err != nil {
			t.Fatalf("Put %s: %v", tt.name, err)
		}
		got, err := c.Fetch(ctx, dst, nil)
		if err != nil {
			t.Fatalf("Fetch %s: %v", tt.name, err)
		}
		if !bytes.Equal(got, tt.data) {
			t.Errorf("Fetch %s returned %d bytes, want the %d put", tt.name, len(got), len(tt.data))
		}
		if fi, err := os.Stat(dst); err != nil || fi.Mode() != tt.mode {
			t.Errorf("Put %s left mode %v (%v), want %v", tt.name, fi.Mode(), err, tt.mode)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
	for _, err := range []error{
		c.Put(ctx, "/proc/forbidden/x", []byte("x"), 0o644, nil),
		func() error { _, err := c.Fetch(ctx, dir+"/missing", nil); return err }(),
	} {
		if err == nil || IsUnreachable(err) {
			t.Errorf("Put or Fetch of a missing file = %v, want a failure", err)
		}
	}
}

// TestSSHSessionsCapped runs many commands at once on one connection: past the cap they
// wait for a session, and past a server MaxSessions lower than the cap they are retried.
func TestSSHSessionsCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		server, cap int
	}{
		{name: "cap below MaxSessions", server: 4, cap: 3},
		{name: "MaxSessions below cap", server: 2, cap: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := sshtest.Start(t, sshtest.Options{MaxSessions: tt.server})
			c := dialServer(t, s, "", nil, SSHOptions{MaxSessions: tt.cap})
			const n = 12
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					res, err := c.Exec(context.Background(), Command{Cmd: fmt.Sprintf("sleep 0.1; echo %d", i)})
					if err == nil && string(res.Stdout) != fmt.Sprintf("%d\n", i) {
						err = fmt.Errorf("command %d printed %q", i, res.Stdout)
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			// At most min(server, cap) commands of 0.1 s ran at once.
			if min := time.Duration(n/min(tt.server, tt.cap)) * 100 * time.Millisecond; time.Since(start) < min {
				t.Errorf("%d commands took %v: more than %d ran at once", n, time.Since(start), min)
			}
		})
	}
}

func TestSSHClosedPortIsUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	start := time.Now()
	_, err = DialSSH(context.Background(), "web1", map[string]any{"ansible_host": "127.0.0.1", "ansible_port": port}, SSHOptions{})
	want := fmt.Sprintf("failed to connect to the host web1: ssh: connect to host 127.0.0.1 port %d: connection refused", port)
	if !IsUnreachable(err) || err.Error() != want {
		t.Errorf("DialSSH = %v, want unreachable: %s", err, want)
	}
	if d := time.Since(start); d > 8*time.Second { // below the 10 s timeout, with headroom for a busy machine
		t.Errorf("took %v", d)
	}
}

// TestSSHLoginRetriesAServerPastMaxStartups pins that a connection sshd drops before its banner,
// as it does past MaxStartups, is retried until the server has room: here MaxStartups is 1 and
// a connection that never logs in holds the one place until sshd has dropped the login's
// first attempt (its log says so).
func TestSSHLoginRetriesAServerPastMaxStartups(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{MaxStartups: 1, Config: []string{"LogLevel VERBOSE"}})
	holder := holdStartup(t, s.Addr)
	dialed := make(chan error, 1)
	go func() {
		c, err := DialSSH(context.Background(), "web1", withVars(s.Vars(""), map[string]any{"ansible_ssh_timeout": 120}), SSHOptions{})
		if err == nil {
			c.Close()
		}
		dialed <- err
	}()
	for {
		log, _ := os.ReadFile(s.LogFile)
		if strings.Contains(string(log), "past MaxStartups") {
			break
		}
		select {
		case err := <-dialed:
			t.Fatalf("DialSSH ended before sshd dropped a connection: %v\n%s", err, log)
		case <-time.After(10 * time.Millisecond):
		}
	}
	holder.Close()
	if err := <-dialed; err != nil {
		log, _ := os.ReadFile(s.LogFile)
		t.Errorf("DialSSH = %v, want a login once the server has room\n%s", err, log)
	}
}

// holdStartup opens a connection to the sshd at addr that takes one of its MaxStartups places
// (it has sent its banner and waits for ours) and closes it when the test ends. The server may
// still count the connection that found it started, for as long as it takes to see it closed:
// one it drops is opened again, for up to a minute.
func holdStartup(t *testing.T, addr string) net.Conn {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		banner := make([]byte, 4)
		if _, err := io.ReadFull(c, banner); err == nil && string(banner) == "SSH-" {
			t.Cleanup(func() { c.Close() })
			return c
		}
		c.Close()
	}
	t.Fatalf("sshd at %s dropped every connection for a minute", addr)
	return nil
}

// TestSSHLoginPastMaxStartupsUntilTheTimeoutIsUnreachable pins that a server that drops every
// connection before its banner makes the host unreachable once the timeout has passed, with
// what the server said.
func TestSSHLoginPastMaxStartupsUntilTheTimeoutIsUnreachable(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{MaxStartups: 1})
	holdStartup(t, s.Addr)
	_, err := DialSSH(context.Background(), "web1", withVars(s.Vars(""), map[string]any{"ansible_ssh_timeout": 1}), SSHOptions{})
	want := "the server closed every connection before its banner for 1s (sshd past its MaxStartups?): Exceeded MaxStartups: "
	if !IsUnreachable(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("DialSSH = %v, want unreachable: ...%s...", err, want)
	}
}

// TestSSHHostKeys checks host keys against known_hosts files as ssh does.
func TestSSHHostKeys(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{})
	other := sshtest.Start(t, sshtest.Options{}) // another host, another key
	dir := t.TempDir()
	file := func(name string, lines ...string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	addr := knownhosts.Normalize(s.Addr)
	line := func(host string, key ssh.PublicKey) string { return knownhosts.Line([]string{host}, key) }
	known := file("known", "# comment", line("[127.0.0.1]:1", other.HostKey), line(addr, s.HostKey))
	hashed := file("hashed", line(knownhosts.HashHostname(addr), s.HostKey))
	changed := file("changed", line(addr, other.HostKey))
	empty := file("empty")
	args := func(a string) map[string]any { return map[string]any{"ansible_ssh_common_args": a} }

	tests := []struct {
		name    string
		vars    map[string]any
		opts    SSHOptions
		wantErr string
	}{
		{name: "known", vars: args("-o UserKnownHostsFile=" + known)},
		{name: "hashed entry", vars: args("-o UserKnownHostsFile=" + hashed)},
		{name: "known in the second file", vars: args(fmt.Sprintf("-o 'UserKnownHostsFile %s %s'", empty, known))},
		{name: "known in the default file", vars: args(""), opts: SSHOptions{KnownHostsFile: known}},
		{name: "unknown refused", vars: args("-o UserKnownHostsFile=" + empty),
			wantErr: "no host key is known for " + addr + " (known hosts files: " + empty + "). It offers ssh-ed25519 SHA256:"},
		{name: "unknown refused, with how to add it", vars: args("-o UserKnownHostsFile=/dev/null"),
			wantErr: fmt.Sprintf("add the key with `ssh-keyscan -p %d 127.0.0.1 >> ~/.ssh/known_hosts`, or turn checking off", s.Port)},
		{name: "unknown accepted: StrictHostKeyChecking=no", vars: args("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null")},
		{name: "unknown accepted: ansible_host_key_checking", vars: map[string]any{"ansible_ssh_common_args": nil, "ansible_host_key_checking": "False"},
			opts: SSHOptions{KnownHostsFile: empty}},
		{name: "unknown accepted: option", vars: args("-o UserKnownHostsFile=" + empty), opts: SSHOptions{NoHostKeyChecking: true}},
		{name: "changed key refused", vars: args("-o UserKnownHostsFile=" + changed),
			wantErr: "the host key of " + addr + " has changed: it offers ssh-ed25519 " + ssh.FingerprintSHA256(s.HostKey) +
				", but " + changed + ":1 holds ssh-ed25519 " + ssh.FingerprintSHA256(other.HostKey)},
		{name: "changed key refused by accept-new", vars: args("-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=" + changed),
			wantErr: "has changed"},
		{name: "changed key refused with checking off", vars: map[string]any{"ansible_host_key_checking": false,
			"ansible_ssh_common_args": "-o UserKnownHostsFile=" + changed},
			wantErr: "has changed: it offers ssh-ed25519 " + ssh.FingerprintSHA256(s.HostKey) + ", but " + changed + ":1 holds ssh-ed25519 " +
				ssh.FingerprintSHA256(other.HostKey) + ". Someone could be intercepting the connection, or the host was reinstalled; " +
				"if the change is expected, remove the old key with `ssh-keygen -R '" + addr + "' -f " + changed +
				"` (turning host key checking off lets unknown hosts in, not changed keys)"},
		{name: "checking off by variable wins over the args", vars: map[string]any{"ansible_host_key_checking": false,
			"ansible_ssh_common_args": "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=" + empty}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := DialSSH(context.Background(), "web1", withVars(s.Vars(""), tt.vars), tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("DialSSH: %v", err)
				}
				c.Close()
				return
			}
			var hk *hostKeyError
			if err == nil || !IsUnreachable(err) || !errors.As(err, &hk) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("DialSSH = %v, want an unreachable host key error containing %q", err, tt.wantErr)
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

// TestSSHHostKeyOfAnotherType connects to a host with two host keys that known_hosts knows by
// the one x/crypto/ssh would not pick first.
func TestSSHHostKeyOfAnotherType(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "ssh_host_ecdsa_key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	s := sshtest.Start(t, sshtest.Options{Config: []string{"HostKey " + keyFile}})
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, pub)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dialServer(t, s, "", map[string]any{"ansible_ssh_common_args": "-o UserKnownHostsFile=" + known}, SSHOptions{})
}

func TestSSHAcceptNewRecordsTheKey(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{})
	known := filepath.Join(t.TempDir(), "ssh", "known_hosts")
	args := "-o UserKnownHostsFile=" + known
	dialServer(t, s, "", map[string]any{"ansible_ssh_common_args": "-o StrictHostKeyChecking=accept-new " + args}, SSHOptions{})
	// Now known: strict checking lets it in.
	dialServer(t, s, "", map[string]any{"ansible_ssh_common_args": args}, SSHOptions{})
	data, err := os.ReadFile(known)
	if err != nil {
		t.Fatal(err)
	}
	if want := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey) + "\n"; string(data) != want {
		t.Errorf("known_hosts holds %q, want %q", data, want)
	}
}

func TestSSHJumpHost(t *testing.T) {
	t.Parallel()
	jump := sshtest.Start(t, sshtest.Options{})
	closed := sshtest.Start(t, sshtest.Options{KeyFile: jump.KeyFile, Config: []string{"AllowTcpForwarding no"}})
	target := sshtest.Start(t, sshtest.Options{KeyFile: jump.KeyFile})
	known := func(servers ...*sshtest.Server) string {
		var files []string
		for _, s := range servers {
			files = append(files, s.KnownHostsFile)
		}
		return fmt.Sprintf("-o 'UserKnownHostsFile=%s'", strings.Join(files, " "))
	}
	via := func(s *sshtest.Server) string { return fmt.Sprintf("%s@%s:%d", s.User, s.Host, s.Port) }
	tests := []struct {
		name, args, wantErr string
	}{
		{name: "-J", args: "-J " + via(jump) + " " + known(jump, target)},
		{name: "ProxyJump through two hosts", args: "-o ProxyJump=" + via(jump) + "," + via(jump) + " " + known(jump, target)},
		{name: "the jump host refuses to forward", args: "-J " + via(closed) + " " + known(closed, target),
			wantErr: fmt.Sprintf("ssh: connect to host 127.0.0.1 port %d: ssh: rejected: administratively prohibited", target.Port)},
		{name: "the jump host's key is checked", args: "-J " + via(jump) + " " + known(target),
			wantErr: "jump host: host key verification failed: no host key is known for " + knownhosts.Normalize(jump.Addr)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := DialSSH(context.Background(), "web1", withVars(target.Vars(""), map[string]any{"ansible_ssh_common_args": tt.args}), SSHOptions{})
			if tt.wantErr != "" {
				if !IsUnreachable(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("DialSSH = %v, want unreachable: %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DialSSH: %v", err)
			}
			defer c.Close()
			res, err := c.Exec(context.Background(), Command{Cmd: "echo through"})
			if err != nil || string(res.Stdout) != "through\n" {
				t.Errorf("Exec = %q, %v", res.Stdout, err)
			}
		})
	}
}

func TestSSHBecome(t *testing.T) {
	t.Parallel()
	sshtest.Sudo(t)
	s := sshtest.Start(t, sshtest.Options{})
	nopasswd := dialServer(t, s, sshtest.User, nil, SSHOptions{})
	passwd := dialServer(t, s, sshtest.PasswordUser, nil, SSHOptions{})
	tests := []struct {
		name    string
		conn    *SSH
		become  Become
		stdin   string
		want    string
		wantErr string
	}{
		{name: "sudo without a password", conn: nopasswd, become: Become{}, want: "root"},
		{name: "sudo to another user", conn: nopasswd, become: Become{User: sshtest.PasswordUser}, want: sshtest.PasswordUser},
		{name: "becoming oneself needs no sudo", conn: passwd, become: Become{User: sshtest.PasswordUser}, want: sshtest.PasswordUser},
		{name: "sudo with the password, stdin intact", conn: passwd, become: Become{Password: sshtest.Password}, stdin: "in", want: "root in"},
		{name: "sudo missing its password fails fast", conn: passwd, become: Become{},
			wantErr: "missing sudo password: sudo needs a password to become root; set become_password"},
		{name: "su with the password", conn: nopasswd, become: Become{Method: "su", User: sshtest.PasswordUser, Password: sshtest.Password},
			stdin: "in", want: sshtest.PasswordUser + " in"},
		{name: "su without a password", conn: nopasswd, become: Become{Method: "su", User: sshtest.PasswordUser},
			wantErr: "su could not become " + sshtest.PasswordUser + ": the password is missing or wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := tt.conn.Exec(ctx, Command{Cmd: `printf '%s' "$(id -un)"; [ -t 0 ] || { printf ' '; cat; }`, Stdin: []byte(tt.stdin), Become: &tt.become})
			if tt.wantErr != "" {
				if err == nil || IsUnreachable(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Exec = %v (stderr %q), want an error containing %q", err, res.Stderr, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if got := strings.TrimSpace(string(res.Stdout)); got != tt.want || res.RC != 0 {
				t.Errorf("Exec printed %q (rc %d, stderr %q), want %q", got, res.RC, res.Stderr, tt.want)
			}
		})
	}

	t.Run("put and fetch as root", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		dst := "/root/tally-ssh-become-" + strconv.Itoa(os.Getpid())
		t.Cleanup(func() { os.Remove(dst) })
		root := &Become{}
		if err := nopasswd.Put(ctx, dst, []byte("secret"), 0o600, root); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if _, err := nopasswd.Fetch(ctx, dst, nil); err == nil {
			t.Errorf("Fetch without become read a file only root can")
		}
		got, err := nopasswd.Fetch(ctx, dst, root)
		if err != nil || string(got) != "secret" {
			t.Errorf("Fetch as root = %q, %v", got, err)
		}
	})
}

func TestSSHExecCancelKillsTheCommand(t *testing.T) {
	t.Parallel()
	c := dialServer(t, sshtest.Start(t, sshtest.Options{}), "", nil, SSHOptions{})
	pidFile := fmt.Sprintf("/tmp/tally-ssh-cancel-%d", os.Getpid()) // where the login user may write
	t.Cleanup(func() { os.Remove(pidFile) })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The sleep runs in the background: killing the shell alone would leave it running.
	_, err := c.Exec(ctx, Command{Cmd: "sleep 30 & echo $! > " + pidFile + "; wait"})
	if !errors.Is(err, context.DeadlineExceeded) || IsUnreachable(err) {
		t.Fatalf("Exec = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 20*time.Second { // below the sleep's 30 s, with headroom for a busy machine
		t.Errorf("cancelled Exec took %v", d)
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	// The server is this machine. A killed process may stay a zombie for a while.
	stat := "/proc/" + strings.TrimSpace(string(pid)) + "/stat"
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		data, err := os.ReadFile(stat)
		if err != nil || bytes.Contains(data, []byte(") Z ")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the command's background process still runs: %s", data)
		}
	}
}

func TestSSHServerGoneMidCommandIsUnreachable(t *testing.T) {
	t.Parallel()
	s := sshtest.Start(t, sshtest.Options{})
	c := dialServer(t, s, "", nil, SSHOptions{})
	ctx := context.Background()
	dst := fmt.Sprintf("/tmp/tally-ssh-gone-%d", os.Getpid())
	t.Cleanup(func() { os.Remove(dst) })
	if err := c.Put(ctx, dst, []byte("x"), 0o600, nil); err != nil { // opens the SFTP session
		t.Fatal(err)
	}
	time.AfterFunc(200*time.Millisecond, s.Stop)
	_, err := c.Exec(ctx, Command{Cmd: "sleep 10"})
	if !IsUnreachable(err) || !strings.Contains(err.Error(), "ssh: lost the connection to "+s.Addr+": connection closed by remote host") {
		t.Errorf("Exec = %v, want unreachable: lost the connection", err)
	}
	if _, err := c.Exec(ctx, Command{Cmd: "true"}); !IsUnreachable(err) {
		t.Errorf("Exec after the loss = %v, want unreachable", err)
	}
	if err := c.Put(ctx, dst, []byte("x"), 0o600, nil); !IsUnreachable(err) {
		t.Errorf("Put after the loss = %v, want unreachable", err)
	}
	if _, err := c.Fetch(ctx, dst, nil); !IsUnreachable(err) {
		t.Errorf("Fetch after the loss = %v, want unreachable", err)
	}
}

// TestSSHLogin logs in with each kind of credential, with no default keys (HOME is empty)
// and no agent unless the case starts one.
func TestSSHLogin(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	noKey := map[string]any{"ansible_ssh_private_key_file": nil}
	missingKey := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name    string
		user    string
		vars    map[string]any
		opts    SSHOptions
		agent   bool
		wantErr string
	}{
		{name: "key file variable"},
		{name: "key file option", vars: noKey, opts: SSHOptions{PrivateKeyFile: s.KeyFile}},
		{name: "ssh-agent", vars: noKey, agent: true},
		{name: "password", user: sshtest.PasswordUser, vars: withVars(noKey, map[string]any{"ansible_password": sshtest.Password})},
		{name: "password option", user: sshtest.PasswordUser, vars: noKey, opts: SSHOptions{Password: sshtest.Password}},
		{name: "no credentials", vars: noKey,
			wantErr: "@127.0.0.1 port " + strconv.Itoa(s.Port) + ": permission denied; no usable key (give a key with --private-key"},
		{name: "missing key file", vars: map[string]any{"ansible_ssh_private_key_file": missingKey},
			wantErr: "no usable key; read private key: open " + missingKey + ": no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.user == sshtest.PasswordUser {
				sshtest.Sudo(t) // creates the password user
			}
			if tt.agent {
				t.Setenv("SSH_AUTH_SOCK", startAgent(t, s.KeyFile))
			}
			c, err := DialSSH(context.Background(), "web1", withVars(s.Vars(tt.user), tt.vars), tt.opts)
			if tt.wantErr != "" {
				if !IsUnreachable(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("DialSSH = %v, want unreachable: %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DialSSH: %v", err)
			}
			c.Close()
		})
	}
}

// startAgent serves an ssh-agent holding the key in keyFile and returns its socket.
func startAgent(t *testing.T, keyFile string) string {
	t.Helper()
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	return sock
}
