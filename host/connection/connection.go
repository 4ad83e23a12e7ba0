// Package connection runs commands and moves files on a managed host. Local runs them on this
// machine; other transports implement the same Connection interface.
package connection

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Become asks for a command to run as another user, as Ansible's become keywords do.
type Become struct {
	Method   string // "sudo" (default) or "su"
	User     string // default "root"
	Password string // empty: the command must not need one
}

// Command is a shell command line, run by /bin/sh -c on the host.
type Command struct {
	Cmd    string
	Stdin  []byte
	Env    map[string]string // exported before Cmd runs
	Become *Become           // nil: run as the connecting user
}

// Result is what a finished command left: its exit status and output.
type Result struct {
	RC     int
	Stdout []byte
	Stderr []byte
}

// Connection is an open channel to one host. Implementations are safe for concurrent use.
type Connection interface {
	// Exec runs cmd. A non-zero exit status is reported in Result, not as an error; an error
	// means the command could not be run (see UnreachableError).
	Exec(ctx context.Context, cmd Command) (Result, error)
	// Put writes data to the file dst on the host with the given mode.
	Put(ctx context.Context, dst string, data []byte, mode fs.FileMode, become *Become) error
	// Fetch reads the file src from the host.
	Fetch(ctx context.Context, src string, become *Become) ([]byte, error)
	// Close releases the connection.
	Close() error
}

// UnreachableError reports that a host could not be reached, or that its connection was lost.
// The executor marks such a host unreachable instead of failed.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("failed to connect to the host %s: %v", e.Host, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// UnreachableMessage is the msg of an unreachable host's result, worded as Ansible's ssh
// connection words it ("Failed to connect to the host via ssh: ssh: connect to host ...").
func UnreachableMessage(err error) string {
	var u *UnreachableError
	if !errors.As(err, &u) {
		return err.Error()
	}
	msg := u.Err.Error()
	// The system's wording is OpenSSH's, but for the capital it gives the error.
	msg = strings.Replace(msg, ": connection refused", ": Connection refused", 1)
	msg = strings.Replace(msg, ": no route to host", ": No route to host", 1)
	if strings.HasPrefix(msg, "ssh: ") {
		return "Failed to connect to the host via ssh: " + msg
	}
	return "Failed to connect to the host " + u.Host + ": " + msg
}

// IsUnreachable reports whether err says that the host could not be reached.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}
