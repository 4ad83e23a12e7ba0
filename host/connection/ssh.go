package connection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SSH is a Connection to a host over one SSH connection that every command shares: each runs
// in a session of its own, at most SSHOptions.MaxSessions at once. Files move over SFTP, or
// through a shell stream (cat) where the host has no SFTP: the host needs no Python.
type SSH struct {
	host     string // the inventory name
	user     string // the login user: becoming it needs no sudo
	addr     string
	timeout  time.Duration // how long a refused session is retried
	client   *ssh.Client
	jumps    []*ssh.Client // the jump hosts the client goes through, the last one first
	sessions chan struct{} // a slot per command allowed to run at once
	done     chan struct{} // closed once the connection has ended

	sftpSlot bool // a session is set aside for SFTP
	sftpOnce sync.Once
	sftp     *sftp.Client // nil: files go through the shell

	mu  sync.Mutex
	err error // why the connection ended
}

var _ Connection = (*SSH)(nil)

// errClosed ends a connection that Close closed.
var errClosed = errors.New("the connection was closed")

// DialSSH connects to the host inventoryName as its Ansible connection variables describe,
// with opts for what they leave unset:
//
//   - ansible_host (default inventoryName), ansible_port, ansible_user, and the _ssh_ aliases
//   - ansible_ssh_private_key_file (ansible_private_key_file), then the keys of ssh-agent
//     (SSH_AUTH_SOCK), then ~/.ssh/id_* when no key file is given
//   - ansible_password (ansible_ssh_pass, ansible_ssh_password)
//   - ansible_host_key_checking, ansible_ssh_timeout
//   - ansible_ssh_args, ansible_ssh_common_args, ansible_ssh_extra_args, of which these ssh
//     options count: -o StrictHostKeyChecking (yes, no, accept-new), UserKnownHostsFile,
//     GlobalKnownHostsFile, ProxyJump (or -J), Port (-p), User (-l), IdentityFile (-i),
//     IdentitiesOnly, ConnectTimeout, ServerAliveInterval, ServerAliveCountMax. ProxyCommand
//     is refused; anything else is ignored.
//
// Host keys are checked against ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts: an unknown
// host is refused unless checking is off (or accept-new), a changed key always is.
//
// Every error is an *UnreachableError, except a cancelled ctx.
func DialSSH(ctx context.Context, inventoryName string, vars map[string]any, opts SSHOptions) (*SSH, error) {
	t, err := resolveSSHTarget(inventoryName, vars, opts)
	if err != nil {
		return nil, &UnreachableError{Host: inventoryName, Err: fmt.Errorf("ssh settings: %w", err)}
	}
	client, jumps, err := t.dial(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", inventoryName, ctx.Err())
		}
		return nil, &UnreachableError{Host: inventoryName, Err: err}
	}
	s := &SSH{
		host:    inventoryName,
		user:    t.endpoint.user,
		addr:    t.endpoint.addr(),
		timeout: t.timeout,
		client:  client,
		jumps:   jumps,
		done:    make(chan struct{}),
		// One session of the allowed ones is kept for SFTP, unless that would leave none.
		sftpSlot: t.maxSessions > 1,
	}
	execs := t.maxSessions
	if s.sftpSlot {
		execs--
	}
	s.sessions = make(chan struct{}, execs)
	go func() {
		err := client.Wait()
		switch {
		case err == nil || errors.Is(err, io.EOF):
			err = errors.New("connection closed by remote host")
		case errors.Is(err, syscall.ECONNRESET):
			// A peer that closes with data unread resets the connection: the same end, abruptly.
			err = errors.New("connection closed by remote host (reset)")
		}
		s.end(err)
		for _, j := range jumps {
			j.Close()
		}
		close(s.done)
	}()
	if t.keepalive > 0 {
		go s.keepalive(t.keepalive, t.keepaliveMax)
	}
	return s, nil
}

// dial logs in to the target through its jump hosts, each hop within the timeout.
func (t *sshTarget) dial(ctx context.Context) (*ssh.Client, []*ssh.Client, error) {
	keys, err := newHostKeys(t)
	if err != nil {
		return nil, nil, err
	}
	auth := newSSHAuth(t)
	defer auth.close()
	var via *ssh.Client
	var jumps []*ssh.Client
	fail := func(err error) (*ssh.Client, []*ssh.Client, error) {
		for _, j := range jumps {
			j.Close()
		}
		return nil, nil, err
	}
	for i, e := range append(t.jumps, t.endpoint) {
		target := i == len(t.jumps)
		c, err := t.login(ctx, via, e, keys, auth, target)
		if err != nil {
			if !target {
				err = fmt.Errorf("jump host: %w", err)
			}
			return fail(err)
		}
		if via != nil {
			jumps = append([]*ssh.Client{via}, jumps...)
		}
		via = c
	}
	return via, jumps, nil
}

// login connects to e, directly or through the jump host via, and logs in. x/crypto/ssh
// bounds only the TCP connect, so the whole of it is bounded here. A server that closes the
// connection before its banner is refusing it for now (sshd past its MaxStartups, as when
// many hosts are one sshd or a fleet is reached with many forks): that is retried, after a
// growing and jittered delay, within the timeout.
func (t *sshTarget) login(ctx context.Context, via *ssh.Client, e sshEndpoint, keys *hostKeys, auth *sshAuth, target bool) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		c, err := t.loginOnce(ctx, via, e, keys, auth, target)
		var refused *refusedError
		if !errors.As(err, &refused) {
			return c, err
		}
		wait := delay/2 + rand.N(delay)
		if dl, _ := ctx.Deadline(); time.Now().Add(wait).After(dl) {
			return nil, fmt.Errorf("ssh: %s: the server closed every connection before its banner for %v (sshd past its MaxStartups?): %w", e, t.timeout, refused.err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, t.timedOut(ctx, e, "SSH handshake and login")
		}
	}
}

// refusedError is a connection the server closed before its banner.
type refusedError struct{ err error }

func (r *refusedError) Error() string { return r.err.Error() }

// timedOut is the error for a login that ctx ended at stage.
func (t *sshTarget) timedOut(ctx context.Context, e sshEndpoint, stage string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("ssh: connect to host %s port %d: timed out after %v (%s)", e.host, e.port, t.timeout, stage)
	}
	return ctx.Err()
}

// loginOnce is one attempt of login.
func (t *sshTarget) loginOnce(ctx context.Context, via *ssh.Client, e sshEndpoint, keys *hostKeys, auth *sshAuth, target bool) (*ssh.Client, error) {
	var conn net.Conn
	var err error
	if via == nil {
		conn, err = new(net.Dialer).DialContext(ctx, "tcp", e.addr())
	} else {
		conn, err = via.DialContext(ctx, "tcp", e.addr())
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, t.timedOut(ctx, e, "TCP connect")
		}
		return nil, fmt.Errorf("ssh: connect to host %s port %d: %w", e.host, e.port, dialCause(err))
	}
	callback, algos := keys.config(e.addr())
	cfg := &ssh.ClientConfig{
		User:              e.user,
		Auth:              auth.methods(target),
		HostKeyCallback:   callback,
		HostKeyAlgorithms: algos,
	}
	first := &firstBytes{Conn: conn}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(first, e.addr(), cfg)
	if !stop() {
		if err == nil {
			c.Close()
		}
		return nil, t.timedOut(ctx, e, "SSH handshake and login")
	}
	var hkErr *hostKeyError
	switch {
	case err == nil:
		return ssh.NewClient(c, chans, reqs), nil
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		if said, ok := first.noBanner(); ok {
			if said != "" { // sshd past MaxStartups: "Exceeded MaxStartups"
				err = fmt.Errorf("%s: %w", said, err)
			}
			return nil, &refusedError{err: err}
		}
	case errors.As(err, &hkErr):
		return nil, hkErr
	case strings.Contains(err.Error(), "unable to authenticate"):
		return nil, auth.denied(e, target, err)
	}
	return nil, fmt.Errorf("ssh: %s: %w", e, err)
}

// firstBytes keeps the first bytes read from a connection: what a server said before its
// banner, if it never sent one.
type firstBytes struct {
	net.Conn
	mu    sync.Mutex
	first []byte
}

func (f *firstBytes) Read(p []byte) (int, error) {
	n, err := f.Conn.Read(p)
	f.mu.Lock()
	f.first = append(f.first, p[:min(n, 64-len(f.first))]...)
	f.mu.Unlock()
	return n, err
}

// noBanner returns what the server sent, trimmed, if that is not an SSH version line.
func (f *firstBytes) noBanner() (said string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if bytes.HasPrefix(f.first, []byte("SSH-")) {
		return "", false
	}
	return strings.TrimSpace(string(f.first)), true
}

// dialCause strips the "dial tcp 127.0.0.1:1: connect:" prefix that repeats what failed.
func dialCause(err error) error {
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		return sys.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// keepalive probes the connection every interval; when a probe goes unanswered for max
// intervals the peer is taken for dead and the connection closed, so that the commands
// waiting on it fail as unreachable instead of hanging.
func (s *SSH) keepalive(interval time.Duration, max int) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := s.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		wait := time.NewTimer(interval * time.Duration(max))
		select {
		case <-reply:
			wait.Stop()
		case <-s.done:
			wait.Stop()
			return
		case <-wait.C:
			s.end(fmt.Errorf("no answer to keepalives for %v", interval*time.Duration(max)))
			s.client.Close()
			return
		}
	}
}

// end records why the connection ended; the first reason is kept.
func (s *SSH) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// lost returns the error for a command cut short by err, naming why the connection ended
// when it has. The channels of a lost connection close just before it is seen as ended,
// hence the short wait.
func (s *SSH) lost(err error) error {
	select {
	case <-s.done:
	case <-time.After(time.Second):
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == errClosed {
		return &UnreachableError{Host: s.host, Err: fmt.Errorf("ssh: %w", errClosed)}
	}
	if s.err != nil {
		err = s.err
	}
	return &UnreachableError{Host: s.host, Err: fmt.Errorf("ssh: lost the connection to %s: %w", s.addr, err)}
}

// Exec runs cmd.Cmd under /bin/sh -c on the host, whatever the login shell, as Ansible does;
// the login shell execs it, so that a signal that kills the command is reported as such.
// Env is exported by the command line itself: servers accept few variables (AcceptEnv).
// When ctx is done the command's process group is killed and the session closed.
func (s *SSH) Exec(ctx context.Context, cmd Command) (Result, error) {
	script, stdin, err := ShellCommand(cmd, s.user)
	if err != nil {
		return Result{}, err
	}
	res, err := s.run(ctx, "exec /bin/sh -c "+Quote(script), stdin)
	if err != nil {
		return Result{}, err
	}
	if NeedsBecome(cmd.Become, s.user) {
		return BecomeResult(cmd.Become, res)
	}
	return res, nil
}

func (s *SSH) run(ctx context.Context, command string, stdin []byte) (Result, error) {
	select {
	case s.sessions <- struct{}{}:
		defer func() { <-s.sessions }()
	case <-ctx.Done():
		return Result{}, fmt.Errorf("run a command on %s: %w", s.host, ctx.Err())
	}
	sess, err := s.newSession(ctx)
	if err != nil {
		return Result{}, err
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	in, err := sess.StdinPipe()
	if err != nil {
		return Result{}, s.lost(err)
	}
	if err := sess.Start(command); err != nil {
		return Result{}, s.lost(err)
	}
	// A command that exits without reading its stdin fails the write: that is no error, as
	// with a local pipe.
	go func() {
		in.Write(stdin)
		in.Close()
	}()
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		// sshd signals the command's whole process group; closing the session alone would
		// leave the command running.
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		return Result{}, fmt.Errorf("run a command on %s: %w", s.host, ctx.Err())
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exit *ssh.ExitError
	switch {
	case errors.As(err, &exit):
		res.RC = exit.ExitStatus()
		if exit.Signal() != "" {
			res.RC = signalRC(exit)
		}
	case err != nil:
		return Result{}, s.lost(err)
	}
	return res, nil
}

// signalRC reports a command killed by a signal as Python's subprocess does: minus the
// signal number (x/crypto/ssh reports 128 plus it), or 255 (ssh's own failure status) for a
// signal it does not know.
func signalRC(exit *ssh.ExitError) int {
	if n := exit.ExitStatus() - 128; n > 0 {
		return -n
	}
	return 255
}

// newSession opens a session. A server refuses one past its MaxSessions, which may be lower
// than our cap, and counts a closed session for a moment after the client sees it closed:
// a refused session is retried until the timeout.
func (s *SSH) newSession(ctx context.Context) (*ssh.Session, error) {
	deadline := time.Now().Add(s.timeout)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		sess, err := s.client.NewSession()
		var refused *ssh.OpenChannelError
		if !errors.As(err, &refused) || refused.Reason == ssh.UnknownChannelType {
			if err != nil {
				return nil, s.lost(err)
			}
			return sess, nil
		}
		if time.Now().Add(delay).After(deadline) {
			return nil, &UnreachableError{Host: s.host, Err: fmt.Errorf(
				"ssh: %s refused new sessions for %v (%v); lower the sessions per connection below its MaxSessions", s.addr, s.timeout, err)}
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("run a command on %s: %w", s.host, ctx.Err())
		}
	}
}

// Close ends the connection and those to its jump hosts.
func (s *SSH) Close() error {
	s.end(errClosed)
	s.sftpOnce.Do(func() {}) // no SFTP session may open from now on
	if s.sftp != nil {
		s.sftp.Close()
	}
	err := s.client.Close()
	<-s.done
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
