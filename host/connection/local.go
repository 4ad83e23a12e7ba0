package connection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"syscall"
	"time"
)

// Local is a Connection to this machine: commands run under /bin/sh as the user tally runs
// as, files are read and written directly unless become is asked for.
type Local struct {
	host string
	self string // the user tally runs as: becoming it needs no sudo
}

var _ Connection = (*Local)(nil)

// NewLocal returns a connection that runs host's tasks on this machine.
func NewLocal(host string) *Local {
	l := &Local{host: host}
	if u, err := user.Current(); err == nil {
		l.self = u.Username
	}
	return l
}

// waitDelay bounds how long Exec waits for the output pipes to close once the command has
// exited or been killed: a background process it started ("daemon &") may hold them.
const waitDelay = time.Second

// Exec runs cmd.Cmd with /bin/sh -c in a process group of its own, killed as a whole when
// ctx is done.
func (l *Local) Exec(ctx context.Context, cmd Command) (Result, error) {
	script, stdin, err := ShellCommand(cmd, l.self)
	if err != nil {
		return Result{}, err
	}
	c := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	c.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	// A session of its own: a process group to kill, and no controlling terminal that su or
	// sudo could prompt on.
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = waitDelay
	err = c.Run()
	if err != nil && ctx.Err() != nil {
		return Result{}, fmt.Errorf("run a command on %s: %w", l.host, ctx.Err())
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.RC = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.RC = -int(ws.Signal()) // as Python's subprocess reports a killed command
		}
	case errors.Is(err, exec.ErrWaitDelay):
		// The command succeeded; something it left running kept the pipes open.
	case err != nil:
		return Result{}, &UnreachableError{Host: l.host, Err: fmt.Errorf("run /bin/sh: %w", err)}
	}
	if NeedsBecome(cmd.Become, l.self) {
		return BecomeResult(cmd.Become, res)
	}
	return res, nil
}

// Put writes dst atomically: a temporary file in the same directory renamed over dst.
func (l *Local) Put(ctx context.Context, dst string, data []byte, mode fs.FileMode, become *Become) error {
	if NeedsBecome(become, l.self) {
		return putViaShell(ctx, l, dst, data, mode, become)
	}
	if err := writeAtomic(dst, data, mode); err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	return nil
}

func writeAtomic(dst string, data []byte, mode fs.FileMode) error {
	tmp, err := tempName(dst)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		keepOwner(dst, tmp)       // before chmod: chown clears setuid and setgid bits
		err = os.Chmod(tmp, mode) // OpenFile's mode went through the umask
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// keepOwner gives tmp the owner and group of the regular file dst, where allowed: replacing a
// file must not hand it to whoever wrote the new content.
func keepOwner(dst, tmp string) {
	fi, err := os.Lstat(dst)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		_ = os.Chown(tmp, int(st.Uid), int(st.Gid)) // not allowed: the writer keeps it, as with cp
	}
}

// Fetch reads src.
func (l *Local) Fetch(ctx context.Context, src string, become *Become) ([]byte, error) {
	if NeedsBecome(become, l.self) {
		return fetchViaShell(ctx, l, src, become)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return data, nil
}

// Close does nothing: a local connection holds no resources.
func (l *Local) Close() error { return nil }
