package module

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// throwaway returns a user and group name no other test run uses, and deletes both when the
// test ends. The account tests change the real system: they need root.
func throwaway(t *testing.T, base string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("user and group tests add real accounts: they need root")
	}
	name := fmt.Sprintf("%s%d", base, os.Getpid()%100000)
	t.Cleanup(func() {
		exec.Command("userdel", "-r", name).Run()
		exec.Command("groupdel", name).Run()
	})
	return name
}

// getent is the host's entry for key in database db, "" when there is none.
func getent(t *testing.T, db, key string) string {
	t.Helper()
	out, _ := exec.Command("getent", db, key).Output()
	return strings.TrimSpace(string(out))
}

// accountStep is one run of the user or group module on a throwaway account: its changed and
// result keys; a run in check mode before it must change nothing, and a second run must
// report no change.
type accountStep struct {
	name    string
	args    map[string]any
	changed bool
	want    map[string]any
	// entry is what getent passwd (user) or group (group) prints after the step, with NAME
	// standing for the account's name; "" for no entry.
	entry string
}

func runAccountSteps(t *testing.T, module, db, name string, steps []accountStep) {
	t.Helper()
	for _, s := range steps {
		args := map[string]any{"name": name}
		for k, v := range s.args {
			args[k] = v
		}
		before := getent(t, db, name) + getent(t, "group", name)
		dry := newTask(t)
		dry.Check = true
		if r := run(t, dry, module, args); r["changed"] != s.changed {
			t.Errorf("%s: check mode: changed = %v, want %v (%v)", s.name, r["changed"], s.changed, r)
		}
		if after := getent(t, db, name) + getent(t, "group", name); after != before {
			t.Errorf("%s: check mode changed %q to %q", s.name, before, after)
		}
		for i, changed := range []bool{s.changed, false} {
			want := map[string]any{"changed": changed}
			if i == 0 {
				for k, v := range s.want {
					want[k] = v
				}
			}
			check(t, run(t, newTask(t), module, args), want)
		}
		if got, want := getent(t, db, name), strings.ReplaceAll(s.entry, "NAME", name); got != want {
			t.Errorf("%s: getent %s %s = %q, want %q", s.name, db, name, got, want)
		}
	}
}

func TestGroup(t *testing.T) {
	name := throwaway(t, "tlyg")
	runAccountSteps(t, "group", "group", name, []accountStep{
		{name: "create with a gid", args: map[string]any{"gid": 47211}, changed: true,
			want: map[string]any{"name": name, "state": "present", "gid": 47211, "system": false}, entry: "NAME:x:47211:"},
		{name: "change the gid", args: map[string]any{"gid": "47212"}, changed: true,
			want: map[string]any{"gid": 47212}, entry: "NAME:x:47212:"},
		{name: "present without a gid keeps it", changed: false, want: map[string]any{"gid": 47212}, entry: "NAME:x:47212:"},
		{name: "remove", args: map[string]any{"state": "absent"}, changed: true,
			want: map[string]any{"name": name, "state": "absent", "gid": nil}, entry: ""},
	})
	r := run(t, newTask(t), "group", map[string]any{"name": name, "gid": 47212, "non_unique": true, "state": "absent"})
	check(t, r, map[string]any{"changed": false})
	r = run(t, newTask(t), "group", map[string]any{"name": name, "non_unique": true})
	check(t, r, map[string]any{"failed": true, "msg": "non_unique is True but all of the following are missing: gid"})
}

func TestUser(t *testing.T) {
	name, grp, extra := throwaway(t, "tlyu"), throwaway(t, "tlyg"), throwaway(t, "tlyx")
	for _, argv := range [][]string{{"groupadd", "-g", "47214", grp}, {"groupadd", extra}} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", argv, err, out)
		}
	}
	home := filepath.Join(t.TempDir(), "h")
	const hash = "$6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS130MTSuDDl3aCI6WouIL9AjRbLCelDCy.g."
	entry := "NAME:x:47213:47214:%s:" + home + ":%s"
	runAccountSteps(t, "user", "passwd", name, []accountStep{
		{name: "create", args: map[string]any{"uid": 47213, "group": grp, "comment": "Tally Test", "shell": "/bin/sh", "home": home, "password": hash},
			changed: true, want: map[string]any{"name": name, "state": "present", "uid": 47213, "group": 47214, "comment": "Tally Test",
				"home": home, "shell": "/bin/sh", "system": false, "create_home": true, "password": "NOT_LOGGING_PASSWORD", "append": nil},
			entry: fmt.Sprintf(entry, "Tally Test", "/bin/sh")},
		{name: "modify shell and comment", args: map[string]any{"comment": "T2", "shell": "/bin/bash", "password": hash},
			changed: true, want: map[string]any{"comment": "T2", "shell": "/bin/bash", "append": false, "move_home": false, "system": nil},
			entry: fmt.Sprintf(entry, "T2", "/bin/bash")},
		{name: "set the groups", args: map[string]any{"groups": []any{extra}}, changed: true,
			want: map[string]any{"groups": extra}, entry: fmt.Sprintf(entry, "T2", "/bin/bash")},
		{name: "append the primary group only", args: map[string]any{"groups": grp, "append": true}, changed: true,
			want: map[string]any{"groups": grp}, entry: fmt.Sprintf(entry, "T2", "/bin/bash")},
		{name: "no groups with append changes nothing", args: map[string]any{"groups": []any{}, "append": true},
			entry: fmt.Sprintf(entry, "T2", "/bin/bash")},
		{name: "lock the password", args: map[string]any{"password_lock": true, "password_expire_max": 90}, changed: true,
			entry: fmt.Sprintf(entry, "T2", "/bin/bash")},
	})
	if got := getent(t, "group", extra); !strings.HasSuffix(got, ":"+name) {
		t.Errorf("getent group %s = %q: %s is not a member", extra, got, name)
	}
	if f := strings.Split(getent(t, "shadow", name), ":"); len(f) < 5 || f[1] != "!"+hash || f[4] != "90" {
		t.Errorf("shadow entry %v: want the locked hash and a maximum age of 90", f)
	}
	if err := os.RemoveAll(home); err != nil {
		t.Fatal(err)
	}
	runAccountSteps(t, "user", "passwd", name, []accountStep{
		{name: "a missing home is made again", changed: true, entry: fmt.Sprintf(entry, "T2", "/bin/bash")},
	})
	if fi, err := os.Stat(filepath.Join(home, ".profile")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 47213 {
		t.Errorf("the missing home was not made again from the skeleton: %v", err)
	}
	runAccountSteps(t, "user", "passwd", name, []accountStep{
		{name: "remove", args: map[string]any{"state": "absent", "remove": true}, changed: true,
			want: map[string]any{"force": false, "remove": true, "uid": nil}},
	})
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("remove: true left the home: %v", err)
	}
	for _, tt := range []struct {
		args map[string]any
		want map[string]any
	}{
		{map[string]any{"group": "tly-no-such-group"}, map[string]any{"failed": true, "msg": "Group tly-no-such-group does not exist"}},
		{map[string]any{"uid": 0}, map[string]any{"failed": true, "rc": 4, "name": name, "msg": "useradd: UID 0 is not unique\n"}},
		{map[string]any{"password": "plain", "state": "absent"}, map[string]any{"changed": false,
			"warnings": []string{"The input password appears not to have been hashed. The 'password' argument must be encrypted for this module to work properly."}}},
	} {
		tt.args["name"] = name
		check(t, run(t, newTask(t), "user", tt.args), tt.want)
	}
}

// TestUserExpires pins expires as Ansible's: useradd/usermod -e with the UTC date of a time
// (seconds since the epoch), compared with shadow's expiry to the day; a negative time is no
// expiry.
func TestUserExpires(t *testing.T) {
	// The group first: cleanups run last first, and the user must go before its group.
	grp, name := throwaway(t, "tlyh"), throwaway(t, "tlye")
	if out, err := exec.Command("groupadd", "-g", "47216", grp).CombinedOutput(); err != nil {
		t.Fatalf("groupadd: %v %s", err, out)
	}
	entry := "NAME:x:47215:47216::/nonexistent-tly:/bin/sh"
	for _, tt := range []struct {
		name    string
		expires any
		changed bool
		shadow  string // shadow's expiry field after the step
	}{
		{"create with an expiry (March 3, 2050)", 2529881062, true, "29281"},
		{"the same day later", "2529890000.5", false, "29281"},
		{"another day", 2529881062 + 2*86400, true, "29283"},
		{"no expiry", -1, true, ""},
		{"no expiry again", -1.0, false, ""},
	} {
		runAccountSteps(t, "user", "passwd", name, []accountStep{{name: tt.name, changed: tt.changed, entry: entry,
			args: map[string]any{"uid": 47215, "group": grp, "shell": "/bin/sh", "home": "/nonexistent-tly", "create_home": false, "expires": tt.expires}}})
		if f := strings.Split(getent(t, "shadow", name), ":"); len(f) < 8 || f[7] != tt.shadow {
			t.Errorf("%s: shadow entry %v, want the expiry field %q", tt.name, f, tt.shadow)
		}
	}
}

func TestGetent(t *testing.T) {
	root := strings.Split(getent(t, "passwd", "root"), ":")
	if len(root) != 7 {
		t.Fatalf("getent passwd root = %v", root)
	}
	for _, tt := range []struct {
		name string
		args map[string]any
		want map[string]any
	}{
		{"colon database split on colons", map[string]any{"database": "passwd", "key": "root"},
			map[string]any{"changed": false, "ansible_facts": map[string]any{"getent_passwd": map[string]any{"root": toAny(root[1:])}}}},
		{"own split", map[string]any{"database": "passwd", "key": "root", "split": ":0:"},
			map[string]any{"ansible_facts": map[string]any{"getent_passwd": map[string]any{"root:x": []any{strings.Join(root[3:], ":")}}}}},
		{"missing key without fail_key", map[string]any{"database": "passwd", "key": "tly-no-such-user", "fail_key": false},
			map[string]any{"failed": nil, "msg": "One or more supplied key could not be found in the database.",
				"ansible_facts": map[string]any{"getent_passwd": map[string]any{"tly-no-such-user": nil}}}},
		{"missing key", map[string]any{"database": "passwd", "key": "tly-no-such-user"},
			map[string]any{"failed": true, "msg": "One or more supplied key could not be found in the database."}},
		{"unknown database", map[string]any{"database": "tly-no-such-db"},
			map[string]any{"failed": true, "msg": "Missing arguments, or database unknown."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			check(t, run(t, newTask(t), "getent", tt.args), tt.want)
		})
	}
	// Other databases split on whitespace; a first field seen twice maps to a list of entries.
	out, err := exec.Command("getent", "services").Output()
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string][]any{}
	var dup string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		entries[f[0]] = append(entries[f[0]], toAny(f[1:]))
		if len(entries[f[0]]) == 2 && dup == "" {
			dup = f[0]
		}
	}
	if dup == "" {
		t.Skip("no service is listed twice in getent services")
	}
	r := run(t, newTask(t), "getent", map[string]any{"database": "services"})
	if got := r["ansible_facts"].(map[string]any)["getent_services"].(map[string]any)[dup]; !reflect.DeepEqual(got, entries[dup]) {
		t.Errorf("getent_services[%q] = %#v, want %#v", dup, got, entries[dup])
	}
}

// TestKnownHosts pins known_hosts against the host's ssh-keygen: a new file gets the key, a
// second run and check mode change nothing, a key of the same type
// replaces the entry, a hashed entry matches its host, and a host removed without a key loses
// every entry (ssh-keygen -R, which keeps the old file as .old).
func TestKnownHosts(t *testing.T) {
	const rsa = "example.org ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAglyZmHHWskQ9wkh8LYbIqzvg99/oloneH7BaZ02ripJUy/2Zynv4tgUfm9fdXvAb1XXCEuTRnts9FBer87+voU0FPRgx3CfY9Sgr0FspUjnm4lqs53FIab1psddAaS7/F7lrnjl6VqBtPwMRQZG7qlml5uogGJwYJHxX0PGtsdoTJsM="
	const other = "example.org ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIIzlnSq5ESxLgW0avvPk3j7zLV59hcAPkxrMNdnZMKP2"
	dir := runSteps(t, "known_hosts", []step{
		{args: map[string]any{"name": "example.org", "key": rsa, "path": "$D/kh"}, execs: 2, puts: 1,
			want: map[string]any{"changed": true, "path": "$D/kh", "state": "present",
				"diff": map[string]any{"before_header": "/dev/null", "after_header": "$D/kh", "before": "", "after": rsa + "\n"}}},
		{args: map[string]any{"name": "EXAMPLE.org", "key": rsa, "path": "$D/kh"}, execs: 2,
			want: map[string]any{"changed": false}},
		{args: map[string]any{"name": "example.org", "key": other, "path": "$D/kh", "hash_host": true}, execs: 2, puts: 1,
			want: map[string]any{"changed": true}},
		{args: map[string]any{"name": "example.org", "key": other, "path": "$D/kh"}, execs: 2, puts: 1,
			want: map[string]any{"changed": true}},
		{args: map[string]any{"name": "example.org", "key": other, "path": "$D/kh"}, execs: 2,
			want: map[string]any{"changed": false}},
		{args: map[string]any{"name": "example.org", "path": "$D/kh"},
			want: map[string]any{"failed": true, "msg": "No key specified when adding a host"}},
		{args: map[string]any{"name": "example.org,acme.com", "key": rsa, "path": "$D/kh"},
			want: map[string]any{"failed": true, "msg": "Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file."}},
		{args: map[string]any{"name": "example.com", "key": rsa, "path": "$D/kh"}, execs: 2,
			want: map[string]any{"failed": true, "msg": "Host parameter does not match hashed host field in supplied key"}},
		{args: map[string]any{"name": "example.org", "path": "$D/kh", "state": "absent"}, execs: 5, puts: 1,
			want: map[string]any{"changed": true}},
		{args: map[string]any{"name": "example.org", "path": "$D/kh", "state": "absent"}, execs: 2,
			want: map[string]any{"changed": false}},
	})
	if got := readFile(t, filepath.Join(dir, "kh")); got != "" {
		t.Errorf("known_hosts holds %q after the host's removal", got)
	}
	task := newTask(t)
	task.Check = true
	r := run(t, task, "known_hosts", map[string]any{"name": "example.org", "key": rsa, "path": dir + "/kh"})
	check(t, r, map[string]any{"changed": true, "path": nil})
	if got := readFile(t, filepath.Join(dir, "kh")); got != "" {
		t.Errorf("check mode wrote %q", got)
	}
}
