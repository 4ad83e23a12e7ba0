package module

import (
	"context"
	"fmt"
	"strings"
)

var serviceSpec = &argSpec{module: "service", options: map[string]option{
	"name":      {kind: kindStr, required: true},
	"state":     {kind: kindStr, choices: []string{"started", "stopped", "reloaded", "restarted"}},
	"sleep":     {kind: kindInt},
	"pattern":   {kind: kindStr},
	"enabled":   {kind: kindBool},
	"runlevel":  {kind: kindStr, def: "default"},
	"arguments": {kind: kindStr, def: "", aliases: []string{"args"}},
	"use":       {kind: kindStr, def: "auto"},
}}

// runService is Ansible's service action: the systemd module on a host whose service manager
// is systemd, else SysV init scripts through service (or /etc/init.d/NAME) and update-rc.d.
func runService(ctx context.Context, t *Task, args map[string]any) (Result, error) {
	p, err := serviceSpec.parse(args)
	if err != nil {
		return nil, err
	}
	systemd, err := serviceManagerIsSystemd(ctx, t, p.str("use"))
	if err != nil {
		return nil, err
	}
	if systemd {
		// Ansible's action drops the options the systemd module does not have.
		sargs := map[string]any{}
		for k, v := range args {
			switch k {
			case "sleep", "pattern", "runlevel", "arguments", "args", "use":
			default:
				sargs[k] = v
			}
		}
		return runSystemd(ctx, t, sargs)
	}
	r, err := sysvService(ctx, t, p)
	if r != nil {
		r["invocation"] = serviceSpec.invocation(p)
	}
	return r, err
}

func init() { register("service", Spec{Run: runService}) }

// serviceManagerIsSystemd picks the service module's backend as Ansible's service action
// does: use, else the ansible_service_mgr fact, else the host's /run/systemd/system (what
// Ansible's fact gathering checks).
func serviceManagerIsSystemd(ctx context.Context, t *Task, use string) (bool, error) {
	if use == "auto" {
		if m, ok := t.Vars["ansible_service_mgr"].(string); ok {
			use = m
		}
	}
	if use != "auto" {
		return use == "systemd", nil
	}
	out, err := t.probe(ctx, "[ -d /run/systemd/system ] && echo systemd || :")
	if err != nil {
		return false, fmt.Errorf("look for /run/systemd/system: %w", err)
	}
	return strings.TrimSpace(out) == "systemd", nil
}

// sysvService is Ansible's LinuxService for an init script: status from `service NAME
// status`'s exit code, enabled from the /etc/rc?.d start links, changed with update-rc.d.
func sysvService(ctx context.Context, t *Task, p params) (Result, error) {
	name := p.str("name")
	if !p.has("state") && !p.has("enabled") {
		return fail("one of the following is required: state, enabled"), nil
	}
	if p.has("pattern") {
		return fail("tally does not support the service module's pattern yet; see docs/modules.md"), nil
	}
	q := shPath(name)
	out, err := t.probe(ctx, "[ -x /etc/init.d/"+q+" ] && echo script\ncommand -v service || :\ncommand -v update-rc.d || :")
	if err != nil {
		return nil, fmt.Errorf("look for /etc/init.d/%s: %w", name, err)
	}
	tools := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "script" {
			tools["script"] = "/etc/init.d/" + name
		} else if l != "" {
			tools[l[strings.LastIndex(l, "/")+1:]] = l
		}
	}
	if tools["script"] == "" {
		return fail(fmt.Sprintf("Could not find the requested service %s: host", name)), nil
	}
	r := Result{"name": name, "changed": false}
	if p.has("enabled") {
		want := p.bool("enabled")
		rcd := tools["update-rc.d"]
		if rcd == "" {
			return fail(fmt.Sprintf("tally enables SysV services with update-rc.d, which %s does not have; see docs/modules.md", t.Host)), nil
		}
		enabled, err := sysvEnabled(ctx, t, name)
		if err != nil {
			return nil, err
		}
		r["enabled"] = want
		if enabled != want {
			r["changed"] = true
			if !t.Check {
				action := map[bool]string{true: "enable", false: "disable"}[want]
				// update-rc.d enable needs the links defaults makes.
				script := "LC_ALL=C " + rcd + " " + q + " " + action
				if want {
					script = "ls /etc/rc?.d/K??" + q + " >/dev/null 2>&1 || LC_ALL=C " + rcd + " " + q + " defaults || exit\n" + script
				}
				res, err := t.sh(ctx, script, nil)
				if err != nil {
					return nil, fmt.Errorf("run update-rc.d %s %s: %w", name, action, err)
				}
				if res.RC != 0 {
					return fail(firstNonEmpty(string(res.Stderr), string(res.Stdout))), nil
				}
			}
		}
	}
	state := p.str("state")
	if state == "" {
		return r, nil
	}
	control := func(action string) (int, string, string, error) {
		argv := []string{tools["script"], action}
		if tools["service"] != "" {
			argv = []string{tools["service"], name, action}
		}
		if a := p.str("arguments"); a != "" {
			argv = append(argv, strings.Fields(a)...)
		}
		return runArgv(ctx, t, argv)
	}
	rc, _, _, err := control("status")
	if err != nil {
		return nil, err
	}
	running := rc == 0
	action := ""
	switch {
	case state == "started" && !running, state == "reloaded" && !running:
		action = "start"
	case state == "stopped" && running:
		action = "stop"
	case state == "reloaded" && running, state == "restarted":
		action = strings.TrimSuffix(state, "ed")
	}
	if action != "" {
		if t.Check {
			return Result{"changed": true, "msg": "service state changed"}, nil
		}
		rc, out, errOut, err := control(action)
		if err != nil {
			return nil, err
		}
		if rc != 0 && !strings.Contains(errOut, "Job is already running") {
			return fail(firstNonEmpty(errOut, out)), nil
		}
		r["changed"] = true
	}
	r["state"] = map[bool]string{true: "stopped", false: "started"}[state == "stopped"]
	return r, nil
}

// firstNonEmpty is a if it is not empty, else b: Ansible's failure message from a command's
// stderr, else its stdout.
func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
