package module

import (
	"context"
	"strconv"
)

var groupSpec = &argSpec{module: "group", options: map[string]option{
	"state":      {kind: kindStr, def: "present", choices: []string{"absent", "present"}},
	"name":       {kind: kindStr, required: true},
	"gid":        {kind: kindInt},
	"system":     {kind: kindBool, def: false},
	"non_unique": {kind: kindBool, def: false},
}}

// runGroup adds, changes the gid of, or deletes a group with the host's groupadd, groupmod
// and groupdel, reading the group database with getent.
var runGroup = withSpec(groupSpec, groupModule)

func init() { register("group", Spec{Run: runGroup}) }

func groupModule(ctx context.Context, t *Task, p params) (Result, error) {
	name := p.str("name")
	if p.bool("non_unique") && !p.has("gid") {
		return fail("non_unique is True but all of the following are missing: gid"), nil
	}
	a, err := readAccounts(ctx, t, "")
	if err != nil {
		return nil, err
	}
	cur := a.groupNamed(name)
	var argv []string
	switch {
	case p.str("state") == "absent" && cur != nil:
		argv = []string{"groupdel", name}
	case p.str("state") == "present" && cur == nil:
		argv = []string{"groupadd"}
		if p.has("gid") {
			argv = append(argv, "-g", strconv.Itoa(p.int("gid")))
			if p.bool("non_unique") {
				argv = append(argv, "-o")
			}
		}
		if p.bool("system") {
			argv = append(argv, "-r")
		}
		argv = append(argv, name)
	case p.str("state") == "present" && p.has("gid") && atoi(cur[2]) != p.int("gid"):
		argv = []string{"groupmod", "-g", strconv.Itoa(p.int("gid"))}
		if p.bool("non_unique") {
			argv = append(argv, "-o")
		}
		argv = append(argv, name)
	}
	r := Result{"name": name, "state": p.str("state"), "changed": argv != nil}
	if argv != nil {
		if t.Check {
			if cur == nil || p.str("state") == "absent" {
				return Result{"changed": true}, nil // Ansible exits before its result is filled
			}
		} else {
			rc, out, errOut, err := runArgv(ctx, t, argv)
			if err != nil {
				return nil, err
			}
			if rc != 0 {
				return fail(errOut, "name", name), nil
			}
			addOutput(r, out, errOut)
			if a, err = readAccounts(ctx, t, ""); err != nil {
				return nil, err
			}
		}
	}
	if e := a.groupNamed(name); e != nil {
		r["system"], r["gid"] = p.bool("system"), atoi(e[2])
	}
	return r, nil
}
