package connection

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"/usr/bin/a-b_c.d", "/usr/bin/a-b_c.d"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{"a\nb", "'a\nb'"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestQuoteRoundTrip pins that the shell reads back exactly what was quoted.
func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"a b", "it's", `"$x" \n`, "a\nb", "`id`", "*"} {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh read back %q (err %v), want %q", out, err, s)
		}
	}
}

func TestShellCommand(t *testing.T) {
	tests := []struct {
		name       string
		cmd        Command
		self       string
		wantScript string
		wantStdin  string
		wantErr    string
	}{
		{name: "plain", cmd: Command{Cmd: "ls", Stdin: []byte("in")}, wantScript: "ls", wantStdin: "in"},
		{name: "env exported in name order",
			cmd:        Command{Cmd: "ls", Env: map[string]string{"B": "2", "A": "x y"}},
			wantScript: "export A='x y'; export B=2; ls"},
		{name: "bad env name", cmd: Command{Cmd: "ls", Env: map[string]string{"A-B": "1"}}, wantErr: `invalid environment variable name "A-B"`},
		{name: "sudo without password is non-interactive",
			cmd:        Command{Cmd: "id", Become: &Become{}},
			self:       "alice",
			wantScript: `sudo -H -S -n -u root /bin/sh -c id`},
		{name: "sudo with password reads it from stdin",
			cmd:        Command{Cmd: "id", Stdin: []byte("data"), Become: &Become{User: "bob", Password: "pw"}},
			self:       "alice",
			wantScript: `sudo -H -S -p '' -u bob /bin/sh -c 'read -r tally_l; [ "$tally_l" = ` + becomeSentinel + ` ] || read -r tally_l; id'`,
			wantStdin:  "pw\n" + becomeSentinel + "\ndata"},
		{name: "env goes inside become",
			cmd:        Command{Cmd: "id", Env: map[string]string{"A": "1"}, Become: &Become{Method: "su", User: "bob"}},
			self:       "alice",
			wantScript: `su -s /bin/sh -c 'export A=1; id' bob`},
		{name: "becoming oneself runs directly",
			cmd:        Command{Cmd: "id", Become: &Become{User: "root"}},
			self:       "root",
			wantScript: "id"},
		{name: "unknown method", cmd: Command{Cmd: "id", Become: &Become{Method: "doas"}}, wantErr: `become method "doas" is not supported`},
		{name: "password with newline", cmd: Command{Cmd: "id", Become: &Become{Password: "a\nb"}}, wantErr: "must not contain a line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script, stdin, err := ShellCommand(tt.cmd, tt.self)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if script != tt.wantScript || string(stdin) != tt.wantStdin {
				t.Errorf("got script %q stdin %q\nwant script %q stdin %q", script, stdin, tt.wantScript, tt.wantStdin)
			}
		})
	}
}

func TestBecomeResult(t *testing.T) {
	tests := []struct {
		name, method, stderr string
		rc                   int
		wantErr, wantStderr  string
	}{
		{name: "success", method: "sudo", rc: 0, stderr: "warn"},
		{name: "command failure is not a become failure", method: "sudo", rc: 1, stderr: "ls: no such file", wantStderr: "ls: no such file"},
		{name: "sudo missing", method: "sudo", rc: 127, stderr: "sh: 1: sudo: not found", wantErr: "sudo is not installed"},
		{name: "password required", method: "sudo", rc: 1, stderr: "sudo: a password is required\n", wantErr: "missing sudo password"},
		{name: "wrong password", method: "sudo", rc: 1, stderr: "Sorry, try again.\nsudo: 1 incorrect password attempt\n", wantErr: "incorrect sudo password"},
		{name: "unknown user", method: "sudo", rc: 1, stderr: "sudo: unknown user bob\n", wantErr: "sudo failed to become root: sudo: unknown user bob"},
		{name: "su prompt removed", method: "su", rc: 0, stderr: "Password: ", wantStderr: ""},
		{name: "su refused", method: "su", rc: 1, stderr: "Password: su: Authentication failure\n", wantErr: "the password is missing or wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := BecomeResult(&Become{Method: tt.method}, Result{RC: tt.rc, Stderr: []byte(tt.stderr)})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if tt.wantStderr != "" || tt.method == "su" {
					if string(r.Stderr) != tt.wantStderr {
						t.Errorf("stderr = %q, want %q", r.Stderr, tt.wantStderr)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestLocalExec(t *testing.T) {
	tests := []struct {
		name                   string
		cmd                    Command
		wantRC                 int
		wantStdout, wantStderr string
	}{
		{name: "output and status", cmd: Command{Cmd: "echo out; echo err >&2; exit 3"}, wantRC: 3, wantStdout: "out\n", wantStderr: "err\n"},
		{name: "stdin", cmd: Command{Cmd: "cat", Stdin: []byte("a\x00b")}, wantStdout: "a\x00b"},
		{name: "env", cmd: Command{Cmd: `printf %s "$GREETING"`, Env: map[string]string{"GREETING": "hi 'you'"}}, wantStdout: "hi 'you'"},
		{name: "killed by a signal", cmd: Command{Cmd: "kill -9 $$"}, wantRC: -9},
		{name: "background process holding stdout", cmd: Command{Cmd: "sleep 3 & echo started"}, wantStdout: "started\n"},
	}
	l := NewLocal("h")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := l.Exec(context.Background(), tt.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if r.RC != tt.wantRC || string(r.Stdout) != tt.wantStdout || string(r.Stderr) != tt.wantStderr {
				t.Errorf("got rc %d stdout %q stderr %q, want %d %q %q", r.RC, r.Stdout, r.Stderr, tt.wantRC, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestLocalExecCancelKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := NewLocal("h").Exec(ctx, Command{Cmd: "sleep 30 & echo $! > " + Quote(pidFile) + "; wait"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 20*time.Second { // the sleep's 30 s, with headroom for a busy machine
		t.Fatalf("Exec returned after %v", d)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	// The background sleep was in the group: it must be gone (or a zombie about to be reaped).
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("background process %d survived cancellation", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z")
}

// fakeSudo puts testdata/sudo first in PATH and returns a Become that the local connection
// must wrap (a user other than the current one).
func fakeSudo(t *testing.T, password string) *Become {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	t.Setenv("FAKE_SUDO_PASSWORD", password)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return &Become{User: "not-" + u.Username}
}

func TestLocalExecBecome(t *testing.T) {
	tests := []struct {
		name         string
		sudoPassword string // what the fake sudo wants, "" for none
		password     string // what the task gives
		wantErr      string
	}{
		{name: "no password needed or given"},
		{name: "password given but not needed", password: "pw"},
		{name: "password needed and given", sudoPassword: "pw", password: "pw"},
		{name: "password needed, none given", sudoPassword: "pw", wantErr: "missing sudo password"},
		{name: "wrong password", sudoPassword: "pw", password: "nope", wantErr: "incorrect sudo password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fakeSudo(t, tt.sudoPassword)
			b.Password = tt.password
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r, err := NewLocal("h").Exec(ctx, Command{Cmd: "cat", Stdin: []byte("line1\nline2"), Become: b})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The command sees its own stdin, never the password.
			if string(r.Stdout) != "line1\nline2" {
				t.Errorf("stdout = %q", r.Stdout)
			}
		})
	}
}

func TestLocalPutFetch(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "f")
	l := NewLocal("h")
	ctx := context.Background()
	for _, mode := range []fs.FileMode{0o600, 0o755 | fs.ModeSetgid} {
		data := []byte("data " + mode.String())
		if err := l.Put(ctx, dst, data, mode, nil); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("mode = %v, want %v", fi.Mode(), mode)
		}
		got, err := l.Fetch(ctx, dst, nil)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Fetch = %q, %v; want %q", got, err, data)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if _, err := l.Fetch(ctx, filepath.Join(dir, "missing"), nil); err == nil {
		t.Error("Fetch of a missing file succeeded")
	}
	if err := l.Put(ctx, filepath.Join(dir, "no/such/dir/f"), nil, 0o644, nil); err == nil {
		t.Error("Put into a missing directory succeeded")
	}
}

func TestLocalPutFetchBecome(t *testing.T) {
	b := fakeSudo(t, "pw")
	b.Password = "pw"
	dst := filepath.Join(t.TempDir(), "f")
	l := NewLocal("h")
	ctx := context.Background()
	if err := l.Put(ctx, dst, []byte("secret\n"), 0o640, b); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode() != 0o640 {
		t.Fatalf("stat = %v, %v; want mode 0640", fi, err)
	}
	got, err := l.Fetch(ctx, dst, b)
	if err != nil || string(got) != "secret\n" {
		t.Fatalf("Fetch = %q, %v", got, err)
	}
	if _, err := l.Fetch(ctx, dst+".missing", b); err == nil || !strings.Contains(err.Error(), "No such file") {
		t.Errorf("Fetch of a missing file: %v", err)
	}
}

func TestLocalRealSudo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: sudo to another user without a password")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("sudo is not installed")
	}
	r, err := NewLocal("h").Exec(context.Background(), Command{Cmd: "id -un; cat", Stdin: []byte("in"), Become: &Become{User: "nobody", Password: "unused"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Stdout) != "nobody\nin" {
		t.Errorf("stdout = %q, want nobody and the stdin", r.Stdout)
	}
}

func TestLocalPutKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file away")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	for _, viaBecome := range []bool{false, true} {
		dst := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dst, uid, -1); err != nil {
			t.Fatal(err)
		}
		var b *Become
		if viaBecome {
			b = fakeSudo(t, "")
		}
		if err := NewLocal("h").Put(context.Background(), dst, []byte("new"), 0o600, b); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		if got := int(fi.Sys().(*syscall.Stat_t).Uid); got != uid || fi.Mode() != 0o600 {
			t.Errorf("become %v: owner %d mode %v, want %d 0600", viaBecome, got, fi.Mode(), uid)
		}
	}
}
