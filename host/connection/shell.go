package connection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

// Quote returns s as one shell word for /bin/sh, single-quoted unless it is made only of
// characters that are never special.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !isSafeShellRune(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isSafeShellRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%_+=:,./-", r)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// becomeSentinel follows the password on the stdin of a become command. sudo and su read the
// password line only when they need it, so the wrapped shell skips input up to this line to
// leave the command exactly the stdin it was given either way.
const becomeSentinel = "__tally_become_stdin_5f0d3c__"

// ShellCommand turns cmd into a script for `/bin/sh -c` and the bytes to feed its stdin: the
// environment exported first, then the command, wrapped by BecomeCommand when cmd.Become is
// set and self is not already the become user (self: the user the connection runs as).
func ShellCommand(cmd Command, self string) (script string, stdin []byte, err error) {
	script, err = withEnv(cmd.Env, cmd.Cmd)
	if err != nil {
		return "", nil, err
	}
	if !NeedsBecome(cmd.Become, self) {
		return script, cmd.Stdin, nil
	}
	script, prefix, err := BecomeCommand(script, cmd.Become)
	if err != nil {
		return "", nil, err
	}
	return script, append(prefix, cmd.Stdin...), nil
}

// withEnv prefixes script with exports of env, in name order so that the script is stable.
func withEnv(env map[string]string, script string) (string, error) {
	if len(env) == 0 {
		return script, nil
	}
	names := make([]string, 0, len(env))
	for k := range env {
		if !envName.MatchString(k) {
			return "", fmt.Errorf("invalid environment variable name %q", k)
		}
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "export %s=%s; ", k, Quote(env[k]))
	}
	b.WriteString(script)
	return b.String(), nil
}

// NeedsBecome reports whether b asks for a user other than self, the user a connection runs
// as: becoming oneself (root becoming root) needs no sudo.
func NeedsBecome(b *Become, self string) bool { return b != nil && becomeUser(b) != self }

func becomeUser(b *Become) string {
	if b.User == "" {
		return "root"
	}
	return b.User
}

func becomeMethod(b *Become) string {
	if b.Method == "" {
		return "sudo"
	}
	return b.Method
}

// BecomeCommand wraps the shell script cmd to run as b.User and returns the wrapped script
// with the bytes that must precede the command's own stdin (the password, if any). Without
// a password, sudo runs with -n, so that a sudo wanting one fails at once instead of waiting
// for a terminal; BecomeError turns that failure into a clear error.
func BecomeCommand(cmd string, b *Become) (string, []byte, error) {
	if strings.ContainsAny(b.Password, "\n\r") {
		return "", nil, errors.New("become password must not contain a line break")
	}
	user := Quote(becomeUser(b))
	var prefix []byte
	if b.Password != "" {
		prefix = []byte(b.Password + "\n" + becomeSentinel + "\n")
		cmd = `read -r tally_l; [ "$tally_l" = ` + becomeSentinel + ` ] || read -r tally_l; ` + cmd
	}
	switch becomeMethod(b) {
	case "sudo":
		flags := "-H -S -n"
		if b.Password != "" {
			flags = "-H -S -p ''"
		}
		return fmt.Sprintf("sudo %s -u %s /bin/sh -c %s", flags, user, Quote(cmd)), prefix, nil
	case "su":
		return fmt.Sprintf("su -s /bin/sh -c %s %s", Quote(cmd), user), prefix, nil
	default:
		return "", nil, fmt.Errorf("become method %q is not supported (use sudo or su)", b.Method)
	}
}

// suPrompt is the password prompt su writes to stderr (in the C locale).
const suPrompt = "Password: "

// BecomeResult checks the result of a command wrapped by BecomeCommand: it returns an error
// for a failure of the become step itself (sudo missing, a password missing or refused), and
// otherwise r without su's password prompt on stderr.
func BecomeResult(b *Become, r Result) (Result, error) {
	method := becomeMethod(b)
	if method == "su" {
		r.Stderr = bytes.TrimPrefix(r.Stderr, []byte(suPrompt))
	}
	if r.RC == 0 {
		return r, nil
	}
	stderr := string(r.Stderr)
	user := becomeUser(b)
	switch {
	case r.RC == 127 && strings.Contains(stderr, method+": not found"):
		return r, fmt.Errorf("become method %s: %s is not installed on the host", method, method)
	case method == "sudo" && strings.HasPrefix(stderr, "sudo: a password is required"):
		return r, fmt.Errorf("missing sudo password: sudo needs a password to become %s; set become_password (ansible_become_password)", user)
	case method == "sudo" && (strings.HasPrefix(stderr, "Sorry, try again.") || strings.Contains(stderr, "incorrect password attempt")):
		return r, fmt.Errorf("incorrect sudo password to become %s", user)
	case method == "su" && strings.HasPrefix(stderr, "su: Authentication failure"):
		return r, fmt.Errorf("su could not become %s: the password is missing or wrong; set become_password (ansible_become_password)", user)
	case r.RC == 1 && strings.HasPrefix(stderr, method+": "):
		return r, fmt.Errorf("%s failed to become %s: %s", method, user, firstLine(stderr))
	}
	return r, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// PutCommand returns a script that writes its stdin to dst atomically (a temporary file in
// the same directory, renamed over dst) with the given mode, keeping the owner and group of
// an existing dst when allowed (chown first: it clears setuid and setgid bits). Connections use
// it to write files as a become user.
func PutCommand(dst string, mode fs.FileMode) string {
	q := Quote(dst)
	return fmt.Sprintf(`d=%s; t="$d.tally-tmp.$$"; umask 077
cat > "$t" || { rm -f "$t"; exit 1; }
if [ -f "$d" ] && [ ! -L "$d" ]; then set -- $(ls -ldn -- "$d"); chown "$3:$4" "$t" 2>/dev/null; fi
chmod %o "$t" && mv -f -- "$t" "$d" || { rm -f "$t"; exit 1; }`, q, UnixMode(mode))
}

// FetchCommand returns a script that prints the file src.
func FetchCommand(src string) string { return "cat -- " + Quote(src) }

// UnixMode returns mode as the numeric st_mode permission bits chmod takes (setuid 04000,
// setgid 02000, sticky 01000 and rwx).
func UnixMode(mode fs.FileMode) uint32 {
	m := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// FileMode is the inverse of UnixMode.
func FileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// putViaShell writes data to dst on c by streaming it to PutCommand.
func putViaShell(ctx context.Context, c Connection, dst string, data []byte, mode fs.FileMode, become *Become) error {
	res, err := c.Exec(ctx, Command{Cmd: PutCommand(dst, mode), Stdin: data, Become: become})
	if err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	if res.RC != 0 {
		return fmt.Errorf("put %s: %s", dst, bytes.TrimSpace(res.Stderr))
	}
	return nil
}

// fetchViaShell reads src on c with FetchCommand.
func fetchViaShell(ctx context.Context, c Connection, src string, become *Become) ([]byte, error) {
	res, err := c.Exec(ctx, Command{Cmd: FetchCommand(src), Become: become})
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", src, err)
	}
	if res.RC != 0 {
		return nil, fmt.Errorf("fetch %s: %s", src, bytes.TrimSpace(res.Stderr))
	}
	return res.Stdout, nil
}
