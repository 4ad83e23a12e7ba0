package module

import (
	"context"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
)

var userSpec = &argSpec{module: "user", options: map[string]option{
	"state":               {kind: kindStr, def: "present", choices: []string{"absent", "present"}},
	"name":                {kind: kindStr, required: true, aliases: []string{"user"}},
	"uid":                 {kind: kindInt},
	"non_unique":          {kind: kindBool, def: false},
	"group":               {kind: kindStr},
	"groups":              {kind: kindList},
	"append":              {kind: kindBool, def: false},
	"comment":             {kind: kindStr},
	"home":                {kind: kindPath},
	"move_home":           {kind: kindBool, def: false},
	"create_home":         {kind: kindBool, def: true, aliases: []string{"createhome"}},
	"skeleton":            {kind: kindStr},
	"umask":               {kind: kindStr},
	"shell":               {kind: kindStr},
	"system":              {kind: kindBool, def: false},
	"password":            {kind: kindStr, noLog: true},
	"update_password":     {kind: kindStr, def: "always", choices: []string{"always", "on_create"}},
	"password_lock":       {kind: kindBool},
	"password_expire_max": {kind: kindInt},
	"password_expire_min": {kind: kindInt},
	"expires":             {kind: kindFloat},
	"force":               {kind: kindBool, def: false},
	"remove":              {kind: kindBool, def: false},
}}

// runUser adds, changes or deletes a user account with the host's useradd, usermod, userdel
// and chage, reading the account databases with getent, as Ansible's user module on Linux.
var runUser = withSpec(userSpec, userModule)

func init() { register("user", Spec{Run: runUser}) }

// userRun is one run of the user module: its arguments, the accounts as read, and the result.
type userRun struct {
	t    *Task
	p    params
	name string
	a    *accounts
	r    Result
}

func userModule(ctx context.Context, t *Task, p params) (Result, error) {
	u := &userRun{t: t, p: p, name: p.str("name"), r: Result{"name": p.str("name"), "state": p.str("state")}}
	u.warnings()
	var err error
	if u.a, err = readAccounts(ctx, t, u.name); err != nil {
		return nil, err
	}
	exists := u.a.user != nil
	var argv []string
	switch {
	case p.str("state") == "absent":
		if !exists {
			return u.done(), nil
		}
		argv = []string{"userdel"}
		if p.bool("force") {
			argv = append(argv, "-f")
		}
		if p.bool("remove") {
			argv = append(argv, "-r")
		}
		argv = append(argv, u.name)
		u.r["force"], u.r["remove"] = p.bool("force"), p.bool("remove")
	case !exists:
		if argv, err = u.useradd(); err != nil {
			return fail(err.Error()), nil
		}
		u.r["system"], u.r["create_home"] = p.bool("system"), p.bool("create_home")
	default:
		if argv, err = u.usermod(); err != nil {
			return fail(err.Error()), nil
		}
		u.r["append"], u.r["move_home"] = p.bool("append"), p.bool("move_home")
	}
	if argv != nil {
		if t.Check && (!exists || p.str("state") == "absent") {
			r := Result{"changed": true} // Ansible exits before its result is filled
			if w, ok := u.r["warnings"]; ok {
				r["warnings"] = w
			}
			return r, nil
		}
		if failed, err := u.exec(ctx, argv); failed != nil || err != nil {
			return failed, err
		}
	}
	if p.str("state") == "absent" {
		return u.done(), nil
	}
	if p.has("password") {
		u.r["password"] = "NOT_LOGGING_PASSWORD"
	}
	if argv != nil && !t.Check {
		if u.a, err = readAccounts(ctx, t, u.name); err != nil {
			return nil, err
		}
	}
	if u.a.user == nil {
		return fail("failed to look up user name: " + u.name), nil
	}
	info := u.a.user
	u.r["uid"], u.r["group"], u.r["comment"], u.r["home"], u.r["shell"] = atoi(info[2]), atoi(info[3]), info[4], info[5], info[6]
	if p.has("groups") {
		u.r["groups"] = strings.Join(p.list("groups"), ",")
	}
	if failed, err := u.ensureHome(ctx); failed != nil || err != nil {
		return failed, err
	}
	if argv := u.chage(); argv != nil {
		if failed, err := u.exec(ctx, argv); failed != nil || err != nil {
			return failed, err
		}
	}
	return u.done(), nil
}

// done is the result, unchanged unless a command ran (or would have, in check mode).
func (u *userRun) done() Result {
	if _, ok := u.r["changed"]; !ok {
		u.r["changed"] = false
	}
	return u.r
}

// exec runs argv (not in check mode) and marks the result changed; a failure is Ansible's.
func (u *userRun) exec(ctx context.Context, argv []string) (Result, error) {
	u.r["changed"] = true
	if u.t.Check {
		return nil, nil
	}
	rc, out, errOut, err := runArgv(ctx, u.t, argv)
	if err != nil {
		return nil, err
	}
	if rc != 0 {
		return fail(errOut, "name", u.name, "rc", rc), nil
	}
	addOutput(u.r, out, errOut)
	return nil, nil
}

var unhashed = regexp.MustCompile(`[^a-zA-Z0-9./=]`)

// warnings are Ansible's for a password that does not look hashed and for append without groups.
func (u *userRun) warnings() {
	var w []string
	if pw := u.p.str("password"); pw != "" && !slices.Contains([]string{"*", "!", "*************"}, pw) {
		bad := strings.ContainsAny(pw, ":*!") || !strings.Contains(pw, "$")
		if f := strings.Split(pw, "$"); !bad && len(f) < 3 {
			bad = true
		} else if !bad {
			last := f[len(f)-1]
			want := map[string]int{"1": 22, "5": 43, "6": 86}[f[1]]
			bad = unhashed.MatchString(last) || want != 0 && len(last) != want
		}
		if bad {
			w = append(w, "The input password appears not to have been hashed. The 'password' argument must be encrypted for this module to work properly.")
		}
	}
	if !u.p.has("groups") && u.p.bool("append") {
		w = append(w, "'append' is set, but no 'groups' are specified. Use 'groups' for appending new groups.This will change to an error in Ansible 2.14.")
	}
	if w != nil {
		u.r["warnings"] = w
	}
}

// groupSet is the groups option as a set in its order, each group checked to exist.
func (u *userRun) groupSet() ([]string, error) {
	var out []string
	for _, g := range u.p.list("groups") {
		g = strings.TrimSpace(g)
		if g == "" || slices.Contains(out, g) {
			continue
		}
		if u.a.group(g) == nil {
			return nil, ansibleErr("Group %s does not exist", g)
		}
		out = append(out, g)
	}
	return out, nil
}

// useradd is the command that creates the user, as Ansible's create_user_useradd.
func (u *userRun) useradd() ([]string, error) {
	p := u.p
	argv := []string{"useradd"}
	if p.has("uid") {
		argv = append(argv, "-u", strconv.Itoa(p.int("uid")))
		if p.bool("non_unique") {
			argv = append(argv, "-o")
		}
	}
	if p.has("group") {
		if u.a.group(p.str("group")) == nil {
			return nil, ansibleErr("Group %s does not exist", p.str("group"))
		}
		argv = append(argv, "-g", p.str("group"))
	} else if u.a.group(u.name) != nil {
		argv = append(argv, "-N")
	}
	if groups, err := u.groupSet(); err != nil {
		return nil, err
	} else if len(groups) > 0 {
		argv = append(argv, "-G", strings.Join(groups, ","))
	}
	if p.has("comment") {
		argv = append(argv, "-c", p.str("comment"))
	}
	if p.has("home") {
		argv = append(argv, "-d", p.str("home"))
	}
	if p.has("shell") {
		argv = append(argv, "-s", p.str("shell"))
	}
	if p.has("password") {
		pw := p.str("password")
		if p.has("password_lock") && p.bool("password_lock") {
			pw = "!" + pw
		}
		argv = append(argv, "-p", pw)
	}
	if p.bool("create_home") {
		argv = append(argv, "-m")
		if p.has("skeleton") {
			argv = append(argv, "-k", p.str("skeleton"))
		}
		if p.has("umask") {
			argv = append(argv, "-K", "UMASK="+p.str("umask"))
		}
	} else {
		argv = append(argv, "-M")
	}
	if p.bool("system") {
		argv = append(argv, "-r")
	}
	if p.has("expires") {
		argv = append(argv, "-e", expiryDate(p.float("expires")))
	}
	return append(argv, u.name), nil
}

// usermod is the command that brings the user to its arguments, nil when it has them, as
// Ansible's modify_user_usermod with a usermod that has --append (shadow's has).
func (u *userRun) usermod() ([]string, error) {
	p, info := u.p, u.a.user
	argv := []string{"usermod"}
	if p.has("uid") && atoi(info[2]) != p.int("uid") {
		argv = append(argv, "-u", strconv.Itoa(p.int("uid")))
		if p.bool("non_unique") {
			argv = append(argv, "-o")
		}
	}
	if p.has("group") {
		g := u.a.group(p.str("group"))
		if g == nil {
			return nil, ansibleErr("Group %s does not exist", p.str("group"))
		}
		if g[2] != info[3] {
			argv = append(argv, "-g", g[2])
		}
	}
	if p.has("groups") {
		current := u.a.memberOf(u.name)
		groups, err := u.groupSet()
		if err != nil {
			return nil, err
		}
		var diff []string // the symmetric difference
		for _, g := range current {
			if !slices.Contains(groups, g) {
				diff = append(diff, g)
			}
		}
		for _, g := range groups {
			if !slices.Contains(current, g) {
				diff = append(diff, g)
			}
		}
		switch {
		case len(groups) == 0 && !p.bool("append") && len(current) > 0:
			argv = append(argv, "-G", "")
		case len(groups) > 0 && p.bool("append") && slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(diff, g) }):
			argv = append(argv, "-a", "-G", strings.Join(groups, ","))
		case len(groups) > 0 && !p.bool("append") && len(diff) > 0:
			argv = append(argv, "-G", strings.Join(groups, ","))
		}
	}
	if p.has("comment") && info[4] != p.str("comment") {
		argv = append(argv, "-c", p.str("comment"))
	}
	if p.has("home") && info[5] != p.str("home") {
		argv = append(argv, "-d", p.str("home"))
		if p.bool("move_home") {
			argv = append(argv, "-m")
		}
	}
	if p.has("shell") && info[6] != p.str("shell") {
		argv = append(argv, "-s", p.str("shell"))
	}
	if p.has("expires") {
		// As Ansible's: shadow's expiry (days since the epoch, empty for none) against the
		// date of expires (seconds since the epoch, negative for none), to the day.
		current := -1
		if sh := u.a.shadow; len(sh) > 7 && sh[7] != "" {
			current = atoi(sh[7])
		}
		want := expiryDate(p.float("expires"))
		if want == "" && current >= 0 || want != "" && (current < 0 || time.Unix(int64(current)*86400, 0).UTC().Format(time.DateOnly) != want) {
			argv = append(argv, "-e", want)
		}
	}
	current := u.a.password()
	switch {
	case p.has("password_lock") && p.bool("password_lock") && !strings.HasPrefix(current, "!"):
		argv = append(argv, "-L")
	case p.has("password_lock") && !p.bool("password_lock") && strings.HasPrefix(current, "!"):
		argv = append(argv, "-U")
	}
	if pw := p.str("password"); p.str("update_password") == "always" && p.has("password") &&
		strings.TrimLeft(current, "!") != strings.TrimLeft(pw, "!") {
		argv = slices.DeleteFunc(argv, func(a string) bool { return a == "-L" || a == "-U" })
		if p.has("password_lock") && p.bool("password_lock") {
			pw = "!" + pw
		}
		argv = append(argv, "-p", pw)
	}
	if len(argv) == 1 {
		return nil, nil
	}
	return append(argv, u.name), nil
}

// expiryDate is useradd's and usermod's -e for expires (seconds since the epoch): the UTC date,
// or "" (never) for a time before the epoch.
func expiryDate(expires float64) string {
	if expires < 0 {
		return ""
	}
	return time.Unix(int64(expires), 0).UTC().Format(time.DateOnly)
}

// ensureHome makes a missing home directory from the skeleton, owned by the user, as
// Ansible does for an existing user whose home is missing (and create_home is true).
func (u *userRun) ensureHome(ctx context.Context) (Result, error) {
	home := u.a.user[5]
	if u.p.has("home") {
		home = u.p.str("home")
	}
	if !u.p.bool("create_home") || home == "" {
		return nil, nil
	}
	skel := "/etc/skel"
	if u.p.has("skeleton") {
		skel = u.p.str("skeleton")
	}
	h, s := connection.Quote(home), connection.Quote(skel)
	owner := connection.Quote(u.a.user[2] + ":" + u.a.user[3])
	script := "[ -e " + h + " ] && exit 0\necho missing\n"
	if !u.t.Check {
		// Python's copytree of the skeleton, or makedirs; then login.defs' UMASK and chown -R.
		script += "if [ -e " + s + " ]; then mkdir -p -- " + connection.Quote(path.Dir(home)) + " && cp -a -- " + s + " " + h +
			"; else mkdir -p -- " + h + "; fi || exit 1\n" +
			"m=$(sed -n 's/^UMASK[[:space:]]*\\([0-7]*\\)$/\\1/p' /etc/login.defs 2>/dev/null | tail -n 1)\n" +
			"[ -z \"$m\" ] || chmod \"$(printf '%o' $((0777 & ~0$m)))\" " + h + " || exit 1\n" +
			"chown -R " + owner + " " + h + "\n"
	}
	out, err := u.t.probe(ctx, script)
	if err != nil {
		return fail(err.Error()), nil
	}
	if strings.HasPrefix(out, "missing") {
		u.r["changed"] = true
	}
	return nil, nil
}

// chage is the command that sets the password's minimum and maximum age, nil when they are
// set or the shadow entry cannot be read (Ansible's getspnam finds none then).
func (u *userRun) chage() []string {
	sh := u.a.shadow
	if sh == nil {
		return nil
	}
	age := func(s string) int {
		if s == "" {
			return -1
		}
		return atoi(s)
	}
	argv := []string{"chage"}
	if u.p.has("password_expire_min") && u.p.int("password_expire_min") != age(sh[3]) {
		argv = append(argv, "-m", strconv.Itoa(u.p.int("password_expire_min")))
	}
	if u.p.has("password_expire_max") && u.p.int("password_expire_max") != age(sh[4]) {
		argv = append(argv, "-M", strconv.Itoa(u.p.int("password_expire_max")))
	}
	if len(argv) == 1 {
		return nil
	}
	return append(argv, u.name)
}
