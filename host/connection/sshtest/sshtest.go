// Package sshtest starts real OpenSSH servers on loopback for tests: generated host and client
// keys, a dedicated login user with /bin/sh, and a known_hosts file that trusts the server.
//
// Servers need root and /usr/sbin/sshd. Without them a test is skipped, unless the CI
// environment variable is set: then it fails, so that a CI run cannot pass by testing nothing.
package sshtest

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const (
	// User is the account servers log in as by default: created if missing, with /bin/sh and
	// no password, and (after Sudo) sudo to any user without a password.
	User = "tallytest"
	// PasswordUser is a second account the same client key logs in as; after Sudo its sudo
	// asks for Password, which is also what su to it asks for.
	PasswordUser = "tallytestpw"
	// Password is PasswordUser's password.
	Password = "tally-test-pw"

	sshdPath    = "/usr/sbin/sshd"
	sudoersFile = "/etc/sudoers.d/tally-sshtest"
	// lockFile serializes account changes across test processes: useradd fails when another
	// useradd holds /etc/passwd.
	lockFile     = "/run/lock/tally-sshtest.lock"
	startTimeout = 10 * time.Second
)

// Options configure a server. The zero value is a server with room for many parallel
// handshakes and sessions.
type Options struct {
	// MaxSessions is sshd's limit of sessions per connection (default 64).
	MaxSessions int
	// MaxStartups is sshd's limit of connections not yet logged in (default 200).
	MaxStartups int
	// Config holds extra sshd_config lines.
	Config []string
	// NoSFTP leaves the SFTP subsystem out.
	NoSFTP bool
	// KeyFile is the client key to authorize, as another server's KeyFile: one key then logs
	// in to both, as through a jump host. Empty: a new key.
	KeyFile string
}

// Server is a running sshd. Its fields are what a client needs to log in.
type Server struct {
	Host           string        // always 127.0.0.1
	Port           int           // a free port
	Addr           string        // Host:Port
	User           string        // the account to log in as: User
	KeyFile        string        // the client's private key, authorized for every account
	KnownHostsFile string        // a known_hosts file holding this server's host key only
	HostKey        ssh.PublicKey // the server's host key
	LogFile        string        // sshd's log

	cmd      *exec.Cmd
	exited   chan struct{} // closed when sshd has exited
	stopOnce sync.Once
}

// Start starts an sshd for the test and stops it when the test ends. It skips the test (fails
// it when CI is set) if sshd cannot run here: not root, or sshd not installed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	requireSSHD(t)
	ensureUser(t, User, "")
	dir := t.TempDir()
	// sshd reads AuthorizedKeysFile as the logging-in user: the directory must let it in.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshtest: sshd's privilege separation directory: %v", err)
	}
	s := &Server{
		Host:    "127.0.0.1",
		User:    User,
		KeyFile: filepath.Join(dir, "id_ed25519"),
		LogFile: filepath.Join(dir, "sshd.log"),
	}
	hostKeyFile := filepath.Join(dir, "ssh_host_ed25519_key")
	s.HostKey = writeKey(t, hostKeyFile)
	var clientKey ssh.PublicKey
	if opts.KeyFile != "" {
		s.KeyFile = opts.KeyFile
		clientKey = readPublicKey(t, opts.KeyFile)
	} else {
		clientKey = writeKey(t, s.KeyFile)
	}
	writeFile(t, filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientKey), 0o644)

	var lastErr error
	for range 5 { // a free port found now can be taken before sshd binds it
		s.Port = freePort(t)
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		cfg := filepath.Join(dir, "sshd_config")
		writeFile(t, cfg, []byte(sshdConfig(s.Port, dir, hostKeyFile, opts)), 0o600)
		if lastErr = s.start(cfg); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		log, _ := os.ReadFile(s.LogFile)
		t.Fatalf("sshtest: start sshd: %v\n%s", lastErr, log)
	}
	t.Cleanup(s.Stop)
	s.KnownHostsFile = filepath.Join(dir, "known_hosts")
	writeFile(t, s.KnownHostsFile, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey)+"\n"), 0o600)
	return s
}

func sshdConfig(port int, dir, hostKey string, opts Options) string {
	maxSessions, maxStartups := opts.MaxSessions, opts.MaxStartups
	if maxSessions == 0 {
		maxSessions = 64
	}
	if maxStartups == 0 {
		maxStartups = 200
	}
	lines := []string{
		"Port " + strconv.Itoa(port),
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"UsePAM no",
		"StrictModes no",
		"PermitRootLogin no",
		"PasswordAuthentication yes",
		"KbdInteractiveAuthentication no",
		"MaxStartups " + strconv.Itoa(maxStartups),
		"MaxSessions " + strconv.Itoa(maxSessions),
		"MaxAuthTries 20",
		"UseDNS no",
		"PrintMotd no",
	}
	if !opts.NoSFTP {
		lines = append(lines, "Subsystem sftp internal-sftp")
	}
	return strings.Join(append(lines, opts.Config...), "\n") + "\n"
}

// start runs sshd with cfg and waits until it answers with its banner.
func (s *Server) start(cfg string) error {
	os.Remove(s.LogFile)
	s.cmd = exec.Command(sshdPath, "-D", "-f", cfg, "-E", s.LogFile)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("sshd exited: %v", s.cmd.ProcessState)
		default:
		}
		if banner(s.Addr) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.kill()
	return fmt.Errorf("sshd did not answer on %s within %v", s.Addr, startTimeout)
}

// banner reports whether an SSH server answers on addr.
func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-")
}

// Stop kills sshd and the connections it serves, as a host that goes down would. Stopping
// twice is harmless.
func (s *Server) Stop() {
	s.stopOnce.Do(s.kill)
}

// kill kills sshd, then the processes serving its connections: each runs in a session of
// its own (sshd calls setsid), so only their parentage ties them to sshd.
func (s *Server) kill() {
	children := descendants(s.cmd.Process.Pid)
	s.cmd.Process.Kill()
	<-s.exited
	for _, pid := range append(children, descendants(s.cmd.Process.Pid)...) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// descendants returns the processes descending from pid, read from /proc.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		out = append(out, children[queue[0]]...)
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// Vars returns the Ansible connection variables that log in to the server as user (User if
// empty) with the client key, trusting the server's host key only.
func (s *Server) Vars(user string) map[string]any {
	if user == "" {
		user = s.User
	}
	return map[string]any{
		"ansible_host":                 s.Host,
		"ansible_port":                 s.Port,
		"ansible_user":                 user,
		"ansible_ssh_private_key_file": s.KeyFile,
		"ansible_ssh_common_args":      "-o UserKnownHostsFile=" + s.KnownHostsFile,
	}
}

// Sudo prepares become tests: PasswordUser exists with Password, User may sudo without a
// password and PasswordUser with its password. It skips the test (fails it when CI is set) if
// sudo is not installed.
func Sudo(t testing.TB) {
	t.Helper()
	requireSSHD(t)
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		unavailable(t, "sudo is not installed (apt-get install -y sudo)")
	}
	ensureUser(t, User, "")
	ensureUser(t, PasswordUser, Password)
	rules := fmt.Sprintf("# Written by tally's tests (host/connection/sshtest).\n%s ALL=(ALL:ALL) NOPASSWD: ALL\n%s ALL=(ALL:ALL) ALL\n", User, PasswordUser)
	withLock(t, func() error {
		if old, err := os.ReadFile(sudoersFile); err == nil && string(old) == rules {
			return nil
		}
		// sudo ignores a sudoers.d file with a dot in its name: write aside, then rename.
		tmp := filepath.Join(filepath.Dir(sudoersFile), "tally-sshtest.tmp~")
		if err := os.WriteFile(tmp, []byte(rules), 0o440); err != nil {
			return err
		}
		return os.Rename(tmp, sudoersFile)
	})
}

// ensureUser creates the account name with /bin/sh and a home directory if it is missing,
// and sets its password (none but usable for key logins when password is empty).
func ensureUser(t testing.TB, name, password string) {
	t.Helper()
	withLock(t, func() error {
		if _, err := user.Lookup(name); err != nil {
			if out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
				return fmt.Errorf("useradd %s: %v: %s", name, err, out)
			}
		}
		// "*": no password, yet not locked ("!"), which would refuse key logins too.
		cmd := exec.Command("usermod", "-p", "*", name)
		if password != "" {
			cmd = exec.Command("chpasswd")
			cmd.Stdin = strings.NewReader(name + ":" + password + "\n")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("set the password of %s: %v: %s", name, err, out)
		}
		return nil
	})
}

// withLock runs f holding an exclusive lock shared by every test process on the machine.
func withLock(t testing.TB, f func() error) {
	t.Helper()
	lf, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("sshtest: lock %s: %v", lockFile, err)
	}
	if err := f(); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}

func requireSSHD(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "starting sshd and creating the test user need root")
	}
	if _, err := os.Stat(sshdPath); err != nil {
		unavailable(t, sshdPath+" is missing (apt-get install -y openssh-server)")
	}
}

// unavailable skips the test, or fails it in CI, where a skipped SSH test must not pass.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if v := os.Getenv("CI"); v != "" && v != "false" && v != "0" {
		t.Fatalf("sshtest: %s (CI is set: not skipping)", why)
	}
	t.Skipf("sshtest: %s", why)
}

// writeKey writes a new ed25519 private key to path in OpenSSH format and returns its
// public half.
func writeKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "tally-sshtest")
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	writeFile(t, path, pem.EncodeToMemory(block), 0o600)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	return sshPub
}

func readPublicKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	key, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatalf("sshtest: %s: %v", path, err)
	}
	return key.PublicKey()
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshtest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
