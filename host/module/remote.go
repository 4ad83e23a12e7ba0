package module

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/connection"
)

// sh runs script on the host as the task's become user, in the task's environment: Ansible
// runs every module in it (only raw goes without).
func (t *Task) sh(ctx context.Context, script string, stdin []byte) (connection.Result, error) {
	return t.Conn.Exec(ctx, connection.Command{Cmd: script, Stdin: stdin, Env: t.Env, Become: t.Become})
}

// probe runs a script written from the helpers below and returns its stdout; a non-zero
// exit fails with the script's stderr.
func (t *Task) probe(ctx context.Context, script string) (string, error) {
	res, err := t.sh(ctx, shHelpers+script, nil)
	if err != nil {
		return "", err
	}
	if res.RC != 0 {
		msg := strings.TrimSpace(string(res.Stderr))
		if msg == "" {
			msg = fmt.Sprintf("exit status %d", res.RC)
		}
		return "", errors.New(msg)
	}
	return string(res.Stdout), nil
}

// shPath returns a host path as a shell word, expanding a leading ~ to the home directory of
// the user the module runs as, as Ansible's path options are expanded on the host.
func shPath(p string) string {
	switch {
	case p == "~":
		return `"$HOME"`
	case strings.HasPrefix(p, "~/"):
		return `"$HOME"` + connection.Quote(p[1:])
	}
	return connection.Quote(p)
}

// checkPath rejects what the line-based probe output cannot carry.
func checkPath(name, p string) error {
	if strings.ContainsAny(p, "\n\x00") {
		return fmt.Errorf("%s %q contains a line break or NUL byte", name, p)
	}
	return nil
}

// shHelpers are shell functions for the probes: tally_stat PATH [-L [ALGORITHM]] prints a
// stat record (see lines.stat), following a link with -L, with the file's checksum when
// ALGORITHM (md5, sha1, sha256, ...) is given; tally_ids prints the user's uid, gid, user and
// group names and umask. stat -c is GNU's and BusyBox's.
const shHelpers = `LC_ALL=C; export LC_ALL
tally_sum() {
	if command -v "$1sum" >/dev/null 2>&1; then "$1sum" < "$2"
	elif [ "$1" != md5 ] && command -v shasum >/dev/null 2>&1; then shasum -a "${1#sha}" < "$2"
	else openssl "$1" -r < "$2"; fi 2>/dev/null | cut -d' ' -f1
}
tally_stat() {
	if [ "$2" = -L ]; then [ -e "$1" ]; else [ -e "$1" ] || [ -L "$1" ]; fi || { echo absent; printf '%s\n' "$1"; return 0; }
	echo present; printf '%s\n' "$1"
	stat $2 -c '` + statFormat + `' -- "$1" || exit 1
	r=0; w=0; x=0; e=0; [ -r "$1" ] && r=1; [ -w "$1" ] && w=1; [ -x "$1" ] && x=1; [ -e "$1" ] && e=1
	echo "$r $w $x $e"
	if [ -L "$1" ]; then readlink -- "$1"; readlink -f -- "$1" || printf '%s\n' "$1"; else echo; echo; fi
	if [ -n "$3" ] && [ -f "$1" ] && [ -r "$1" ] && { [ "$2" = -L ] || [ ! -L "$1" ]; }; then tally_sum "$3" "$1"; else echo; fi
}
tally_ids() { id -u; id -g; id -un; id -gn; umask; }
`

// fileInfo is a parsed tally_stat record.
type fileInfo struct {
	path                             string
	exists                           bool
	mode                             uint32 // st_mode: type and permission bits
	uid, gid                         int
	owner, group                     string
	size                             int64
	nlink, inode, dev                uint64
	atime, mtime, ctime              float64
	readable, writeable, executable  bool
	resolves                         bool // exists when followed: false for a dangling link
	linkTarget, linkSource, checksum string
}

func (f *fileInfo) isDir() bool  { return f.exists && f.mode&typeMask == typeDir }
func (f *fileInfo) isReg() bool  { return f.exists && f.mode&typeMask == typeReg }
func (f *fileInfo) isLink() bool { return f.exists && f.mode&typeMask == typeLink }
func (f *fileInfo) perm() uint32 { return f.mode & permBits }

// lines reads a probe's output line by line.
type lines struct {
	l []string
}

func newLines(out string) *lines { return &lines{strings.Split(out, "\n")} }

// rest returns the unread output.
func (l *lines) rest() string { return strings.Join(l.l, "\n") }

// stat parses a tally_stat record: "absent" and the path, or "present", the path, the stat
// fields, "r w x e" access and existence flags, the link target and resolved path, and the checksum.
func (l *lines) stat() (*fileInfo, error) {
	head, err := l.take(2)
	if err != nil {
		return nil, err
	}
	fi := &fileInfo{path: head[1]}
	switch head[0] {
	case "absent":
		return fi, nil
	case "present":
	default:
		return nil, fmt.Errorf("unexpected output from the host: %q", head[0])
	}
	rec, err := l.take(5)
	if err != nil {
		return nil, err
	}
	access := strings.Fields(rec[1])
	if len(access) != 4 {
		return nil, fmt.Errorf("unexpected stat output from the host: %q", rec[:2])
	}
	if err := fi.parseStat(strings.Split(rec[0], "|")); err != nil {
		return nil, err
	}
	fi.readable, fi.writeable, fi.executable = access[0] == "1", access[1] == "1", access[2] == "1"
	fi.resolves = access[3] == "1"
	fi.linkTarget, fi.linkSource, fi.checksum = rec[2], rec[3], rec[4]
	return fi, nil
}

// statFormat is stat -c's format for the fields parseStat reads.
const statFormat = "%f|%u|%g|%U|%G|%s|%h|%i|%d|%X|%Y|%Z|%x|%y|%z"

// parseStat reads the fields of a stat -c statFormat line, split at its bars.
func (fi *fileInfo) parseStat(f []string) error {
	if len(f) != 15 {
		return fmt.Errorf("unexpected stat output from the host: %q", strings.Join(f, "|"))
	}
	var errs []error
	num := func(s string, base int) uint64 {
		n, err := strconv.ParseUint(s, base, 64)
		errs = append(errs, err)
		return n
	}
	fi.exists = true
	fi.mode = uint32(num(f[0], 16))
	fi.uid, fi.gid = int(num(f[1], 10)), int(num(f[2], 10))
	fi.owner, fi.group = f[3], f[4]
	fi.size = int64(num(f[5], 10))
	fi.nlink, fi.inode, fi.dev = num(f[6], 10), num(f[7], 10), num(f[8], 10)
	fi.atime = float64(num(f[9], 10)) + fraction(f[12])
	fi.mtime = float64(num(f[10], 10)) + fraction(f[13])
	fi.ctime = float64(num(f[11], 10)) + fraction(f[14])
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unexpected stat output from the host: %q: %w", strings.Join(f, "|"), err)
	}
	return nil
}

// take reads n lines.
func (l *lines) take(n int) ([]string, error) {
	if len(l.l) < n {
		return nil, errors.New("unexpected end of output from the host")
	}
	s := slices.Clip(l.l[:n])
	l.l = l.l[n:]
	return s, nil
}

// fraction returns the sub-second part of a stat %x/%y/%z time ("2024-01-02 03:04:05.123 +0000").
func fraction(s string) float64 {
	_, frac, ok := strings.Cut(s, ".")
	if !ok {
		return 0
	}
	frac, _, _ = strings.Cut(frac, " ")
	f, err := strconv.ParseFloat("0."+frac, 64)
	if err != nil {
		return 0
	}
	return f
}

// ids are the host user's identity and umask, from tally_ids.
type ids struct {
	uid, gid    int
	user, group string
	umask       uint32
}

// statIDs reads a stat record followed by tally_ids's lines.
func (l *lines) statIDs() (*fileInfo, ids, error) {
	fi, err := l.stat()
	if err != nil {
		return nil, ids{}, err
	}
	who, err := l.ids()
	return fi, who, err
}

func (l *lines) ids() (ids, error) {
	v, err := l.take(5)
	if err != nil {
		return ids{}, err
	}
	uid, err1 := strconv.Atoi(v[0])
	gid, err2 := strconv.Atoi(v[1])
	umask, err3 := strconv.ParseUint(v[4], 8, 32)
	if err := errors.Join(err1, err2, err3); err != nil {
		return ids{}, fmt.Errorf("unexpected id output from the host: %q: %w", v, err)
	}
	return ids{uid: uid, gid: gid, user: v[2], group: v[3], umask: uint32(umask)}, nil
}

// trimOutput decodes command output for a result.
func trimOutput(b []byte, strip bool) string {
	if strip {
		b = bytes.TrimRight(b, "\r\n")
	}
	return string(b)
}
