package connection

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"strconv"
)

// Endpoint is where a connection leads, for -vvv: its kind (SSH, LOCAL), the user it logs in
// as, and the address and port it reached.
type Endpoint struct {
	Kind, User, Host string
	Port             int
}

// Endpoint implements Describer.
func (s *SSH) Endpoint() Endpoint {
	host, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	return Endpoint{Kind: "SSH", User: s.user, Host: host, Port: n}
}

// Endpoint implements Describer.
func (l *Local) Endpoint() Endpoint { return Endpoint{Kind: "LOCAL", User: l.self, Host: l.host} }

// Describer is a connection that can say where it leads.
type Describer interface {
	Endpoint() Endpoint
}

// Established is the line Ansible's -vvv prints when a connection opens.
func (e Endpoint) Established() string {
	msg := fmt.Sprintf("<%s> ESTABLISH %s CONNECTION FOR USER: %s", e.Host, e.Kind, e.User)
	if e.Port != 0 {
		msg += fmt.Sprintf(" (port %d)", e.Port)
	}
	return msg
}

// Verbose returns c reporting each command it runs, with its exit status, and each file it
// moves to log, in the words of Ansible's -vvv. With censored (no_log), the command line and
// the output are not shown.
func Verbose(c Connection, log func(string), censored bool) Connection {
	v := &verbose{Connection: c, log: log, censored: censored}
	if d, ok := c.(Describer); ok {
		v.at = d.Endpoint()
	}
	return v
}

type verbose struct {
	Connection
	at       Endpoint
	log      func(string)
	censored bool
}

func (v *verbose) logf(format string, args ...any) {
	v.log(fmt.Sprintf("<%s> ", v.at.Host) + fmt.Sprintf(format, args...))
}

func (v *verbose) Exec(ctx context.Context, cmd Command) (Result, error) {
	if v.censored {
		v.logf("EXEC (command censored due to no log)")
	} else if script, _, err := ShellCommand(cmd, v.at.User); err == nil {
		v.logf("EXEC /bin/sh -c %s", Quote(script))
	}
	res, err := v.Connection.Exec(ctx, cmd)
	switch {
	case err != nil:
		v.logf("EXEC failed: %v", err)
	case v.censored:
		v.logf("rc=%d, stdout and stderr censored due to no log", res.RC)
	default:
		v.logf("rc=%d, stdout %d bytes, stderr %d bytes", res.RC, len(res.Stdout), len(res.Stderr))
	}
	return res, err
}

func (v *verbose) Put(ctx context.Context, dst string, data []byte, mode fs.FileMode, become *Become) error {
	v.logf("PUT %d bytes TO %s", len(data), dst)
	return v.Connection.Put(ctx, dst, data, mode, become)
}

func (v *verbose) Fetch(ctx context.Context, src string, become *Become) ([]byte, error) {
	v.logf("FETCH %s", src)
	return v.Connection.Fetch(ctx, src, become)
}
