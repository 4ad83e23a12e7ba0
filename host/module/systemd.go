package module

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

var systemdSpec = &argSpec{module: "systemd", options: map[string]option{
	"name":          {kind: kindStr, aliases: []string{"service", "unit"}},
	"state":         {kind: kindStr, choices: []string{"reloaded", "restarted", "started", "stopped"}},
	"enabled":       {kind: kindBool},
	"force":         {kind: kindBool},
	"masked":        {kind: kindBool},
	"daemon_reload": {kind: kindBool, def: false, aliases: []string{"daemon-reload"}},
	"daemon_reexec": {kind: kindBool, def: false, aliases: []string{"daemon-reexec"}},
	"scope":         {kind: kindStr, def: "system", choices: []string{"system", "user", "global"}},
	"no_block":      {kind: kindBool, def: false},
}}

// runSystemd drives the host's systemctl as Ansible's systemd module does: systemctl show for
// the unit's properties, is-enabled for masked and enabled, then mask/unmask, enable/disable
// and start/stop/restart/reload when they change something.
var runSystemd = withSpec(systemdSpec, systemdModule)

func init() {
	register("systemd", Spec{Run: runSystemd})
	register("systemd_service", Spec{Run: runSystemd})
}

func systemdModule(ctx context.Context, t *Task, p params) (Result, error) {
	if !p.has("state") && !p.has("enabled") && !p.has("masked") && !p.bool("daemon_reload") && !p.bool("daemon_reexec") {
		return fail("one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec"), nil
	}
	unit := p.str("name")
	for _, o := range []string{"state", "enabled", "masked"} {
		if p.has(o) && unit == "" {
			return fail(fmt.Sprintf("missing parameter(s) required by '%s': name", o)), nil
		}
	}
	for _, g := range []string{"*", "?", "["} {
		if strings.Contains(unit, g) {
			return fail(fmt.Sprintf("This module does not currently support using glob patterns, found '%s' in service name: %s", g, unit)), nil
		}
	}
	base := []string{"systemctl"}
	if s := p.str("scope"); s != "system" {
		base = append(base, "--"+s)
	}
	if p.bool("no_block") {
		base = append(base, "--no-block")
	}
	if p.bool("force") {
		base = append(base, "--force")
	}
	sc := func(args ...string) (int, string, string, error) {
		return runArgv(ctx, t, append(slices.Clip(base), args...))
	}
	r := Result{"name": nilIfEmpty(unit), "changed": false, "status": map[string]any{}}
	for _, d := range []string{"daemon-reload", "daemon-reexec"} {
		if !p.bool(strings.ReplaceAll(d, "-", "_")) || t.Check {
			continue
		}
		rc, _, errOut, err := sc(d)
		if err != nil {
			return nil, err
		}
		if rc != 0 {
			return fail(fmt.Sprintf("failure %d during %s: %s", rc, d, errOut)), nil
		}
	}
	if unit == "" {
		return r, nil
	}
	initd, err := t.probe(ctx, "[ -f /etc/init.d/"+shPath(unit)+" ] && echo yes || :")
	if err != nil {
		return nil, fmt.Errorf("look for /etc/init.d/%s: %w", unit, err)
	}
	isInitd, isSystemd := strings.TrimSpace(initd) == "yes", false
	status := map[string]any{}
	rc, out, errOut, err := sc("show", unit)
	if err != nil {
		return nil, err
	}
	if rc == 0 && !requestIgnored(out) && !requestIgnored(errOut) {
		status = parseSystemctlShow(out)
		r["status"] = status
		isSystemd = status["LoadState"] != nil && status["LoadState"] != "not-found"
		if _, ok := status["LoadError"]; ok && isSystemd && status["LoadState"] != "masked" {
			return fail(fmt.Sprintf("Error loading unit file '%s': %s", unit, status["LoadError"])), nil
		}
	} else {
		_, out, _, err := sc("is-enabled", unit)
		if err != nil {
			return nil, err
		}
		isSystemd = slices.Contains([]string{"enabled", "enabled-runtime", "linked", "linked-runtime", "masked",
			"masked-runtime", "static", "indirect", "disabled", "generated", "transient"}, strings.TrimSpace(out))
	}
	found := isSystemd || isInitd
	if isInitd && !isSystemd {
		r["warnings"] = []string{fmt.Sprintf("The service (%s) is actually an init script but the system is managed by systemd", unit)}
	}
	missing := fail(fmt.Sprintf("Could not find the requested service %s: host", unit))
	// act runs one systemctl action unless in check mode; a failure is a result with msg.
	act := func(action string, msg func(out, errOut string) string) (Result, error) {
		r["changed"] = true
		if t.Check {
			return nil, nil
		}
		rc, out, errOut, err := sc(action, unit)
		if err != nil || rc == 0 {
			return nil, err
		}
		return fail(msg(out, errOut)), nil
	}
	if p.has("masked") {
		_, out, _, err := sc("is-enabled", unit)
		if err != nil {
			return nil, err
		}
		if want := p.bool("masked"); (strings.TrimSpace(out) == "masked") != want {
			action := map[bool]string{true: "mask", false: "unmask"}[want]
			// A failed mask or unmask of a unit that exists passes, as Ansible's fail_if_missing.
			if f, err := act(action, func(string, string) string { return missing["msg"].(string) }); err != nil || (f != nil && !found) {
				return f, err
			}
		}
	}
	if p.has("enabled") {
		if !found {
			return missing, nil
		}
		rc, out, _, err := sc("is-enabled", unit, "-l")
		if err != nil {
			return nil, err
		}
		enabled := rc == 0 && !slices.Equal(strings.Split(strings.TrimRight(out, "\n"), "\n"), []string{"indirect"}) &&
			!slices.Equal(strings.Split(strings.TrimRight(out, "\n"), "\n"), []string{"alias"})
		if rc == 1 && p.str("scope") == "system" && isInitd && !strings.HasSuffix(strings.TrimSpace(out), "disabled") {
			if enabled, err = sysvEnabled(ctx, t, unit); err != nil {
				return nil, err
			}
		}
		r["enabled"] = enabled
		if want := p.bool("enabled"); enabled != want {
			action := map[bool]string{true: "enable", false: "disable"}[want]
			if f, err := act(action, func(out, errOut string) string {
				return fmt.Sprintf("Unable to %s service %s: %s", action, unit, out+errOut)
			}); f != nil || err != nil {
				return f, err
			}
			r["enabled"] = want
		}
	}
	if p.has("state") {
		if !found {
			return missing, nil
		}
		state := p.str("state")
		r["state"] = state
		active, ok := status["ActiveState"].(string)
		if !ok {
			return fail("Service is in unknown state", "status", status), nil
		}
		running := active == "active" || active == "activating"
		action := ""
		switch {
		case state == "started" && !running:
			action = "start"
		case state == "stopped" && (running || active == "deactivating"):
			action = "stop"
		case state == "restarted" || state == "reloaded":
			action = strings.TrimSuffix(state, "ed")
			if !running {
				action = "start"
			}
			r["state"] = "started"
		}
		if action != "" {
			if f, err := act(action, func(_, errOut string) string {
				return fmt.Sprintf("Unable to %s service %s: %s", action, unit, errOut)
			}); f != nil || err != nil {
				return f, err
			}
		}
	}
	return r, nil
}

// nilIfEmpty is s, or nil (Python's None) for "".
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// requestIgnored is systemctl's answer inside a chroot, as Ansible's request_was_ignored.
func requestIgnored(out string) bool {
	return !strings.Contains(out, "=") && (strings.Contains(out, "ignoring request") || strings.Contains(out, "ignoring command"))
}

// parseSystemctlShow reads systemctl show's KEY=VALUE lines; an Exec* value in braces may
// span lines, as Ansible's parse_systemctl_show.
func parseSystemctlShow(out string) map[string]any {
	parsed := map[string]any{}
	var multi []string
	k := ""
	for _, line := range strings.Split(out, "\n") {
		if k == "" {
			key, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			if strings.HasPrefix(key, "Exec") && strings.HasPrefix(strings.TrimLeft(v, " \t"), "{") &&
				!strings.HasSuffix(strings.TrimRight(v, " \t\r"), "}") {
				k, multi = key, []string{v}
				continue
			}
			parsed[key] = strings.TrimSpace(v)
			continue
		}
		multi = append(multi, line)
		if strings.HasSuffix(strings.TrimRight(line, " \t\r"), "}") {
			parsed[k] = strings.TrimSpace(strings.Join(multi, "\n"))
			k, multi = "", nil
		}
	}
	return parsed
}

// sysvEnabled reports whether an init script has a start link in a runlevel directory, as
// Ansible's sysv_is_enabled.
func sysvEnabled(ctx context.Context, t *Task, name string) (bool, error) {
	q := shPath(name)
	out, err := t.probe(ctx, "for f in /etc/rc?.d/S??"+q+" /etc/init.d/rc?.d/S??"+q+"; do [ -e \"$f\" ] && echo yes && break; done; :")
	if err != nil {
		return false, fmt.Errorf("look for %s's start links in /etc/rc?.d: %w", name, err)
	}
	return strings.TrimSpace(out) == "yes", nil
}
