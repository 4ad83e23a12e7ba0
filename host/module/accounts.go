package module

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/connection"
)

// accounts is what the user and group modules read of the host's account databases with
// getent, as Ansible's read them with Python's pwd, spwd and grp.
type accounts struct {
	user   []string // the user's passwd entry: name, passwd, uid, gid, gecos, home, shell; nil: none
	shadow []string // the user's shadow entry; nil: none or unreadable
	groups [][]string
}

// readAccounts reads user's passwd and shadow entries (none for "") and the group database,
// in one Exec.
func readAccounts(ctx context.Context, t *Task, user string) (*accounts, error) {
	script := "getent group | sed 's/^/G:/'\n"
	if user != "" {
		q := connection.Quote(user)
		script = "getent passwd " + q + " | sed 's/^/P:/'\ngetent shadow " + q + " 2>/dev/null | sed 's/^/S:/'\n" + script
	}
	out, err := t.probe(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("read the account databases with getent: %w", err)
	}
	a := &accounts{}
	for _, l := range strings.Split(out, "\n") {
		kind, entry, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Split(entry, ":")
		switch {
		case kind == "P" && len(f) >= 7 && f[0] == user:
			a.user = f
		case kind == "S" && len(f) >= 9 && f[0] == user:
			a.shadow = f
		case kind == "G" && len(f) >= 4:
			a.groups = append(a.groups, f)
		}
	}
	return a, nil
}

// group returns the group named, or numbered, g (a number is tried as a gid first, as
// Ansible's user module does); nil when there is none.
func (a *accounts) group(g string) []string {
	if _, err := strconv.Atoi(g); err == nil {
		for _, e := range a.groups {
			if e[2] == g {
				return e
			}
		}
	}
	return a.groupNamed(g)
}

// groupNamed returns the group named g; nil when there is none.
func (a *accounts) groupNamed(g string) []string {
	for _, e := range a.groups {
		if e[0] == g {
			return e
		}
	}
	return nil
}

// memberOf lists the groups that name user among their members, in the database's order.
func (a *accounts) memberOf(user string) []string {
	var out []string
	for _, e := range a.groups {
		if slices.Contains(strings.Split(e[3], ","), user) {
			out = append(out, e[0])
		}
	}
	return out
}

// password is the user's password hash: the passwd field, or the shadow one when the passwd
// field is a placeholder ("x", "*" or empty), as Ansible's user_info.
func (a *accounts) password() string {
	if len(a.user[1]) > 1 {
		return a.user[1]
	}
	if a.shadow != nil {
		return a.shadow[1]
	}
	return ""
}

// atoi is a database's numeric field; the databases hold numbers there.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// runArgv runs a command on the host, in the task's environment, and returns its exit code,
// stdout and stderr, as AnsibleModule.run_command does for the modules that use it.
func runArgv(ctx context.Context, t *Task, argv []string) (int, string, string, error) {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = connection.Quote(a)
	}
	res, err := t.sh(ctx, "LC_ALL=C "+strings.Join(q, " "), nil)
	if err != nil {
		return 0, "", "", fmt.Errorf("run %s: %w", argv[0], err)
	}
	return res.RC, string(res.Stdout), string(res.Stderr), nil
}

// addOutput adds a command's output to r under Ansible's keys when there is some, with
// their _lines twins.
func addOutput(r Result, out, errOut string) {
	if out != "" {
		r["stdout"] = out
	}
	if errOut != "" {
		r["stderr"] = errOut
	}
	addLines(r)
}
