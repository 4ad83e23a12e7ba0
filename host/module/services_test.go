package module

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSystemctl stands in for systemctl: this machine has no running systemd, so the systemd
// tests run against this script, first on the host's PATH. It logs each call's arguments to
// calls and keeps each known unit's state in UNIT.active (active/inactive) and UNIT.enabled
// (enabled/disabled/masked); a unit without them is not found.
const fakeSystemctl = `#!/bin/sh
d=%q
echo "$*" >> "$d/calls"
[ "$1" = --user ] && shift
cmd=$1 u=$2
case $cmd in daemon-reload|daemon-reexec) exit 0;; esac
if [ ! -f "$d/$u.enabled" ]; then
	case $cmd in
	show) printf 'Id=%%s\nLoadState=not-found\nActiveState=inactive\n' "$u"; exit 0;;
	*) echo "Failed to get unit file state for $u: No such file or directory" >&2; exit 1;;
	esac
fi
en=$(cat "$d/$u.enabled") act=$(cat "$d/$u.active")
case $cmd in
show)
	load=loaded; [ "$en" = masked ] && load=masked
	printf 'Id=%%s\nLoadState=%%s\nActiveState=%%s\nUnitFileState=%%s\nExecStart={ path=/bin/true ;\n argv[]=/bin/true }\n' "$u" "$load" "$act" "$en";;
is-enabled) echo "$en"; [ "$en" = enabled ];;
enable|disable) [ "$en" = masked ] && { echo "Unit $u is masked." >&2; exit 1; }; echo "${cmd}d" > "$d/$u.enabled";;
mask) echo masked > "$d/$u.enabled";;
unmask) echo disabled > "$d/$u.enabled";;
start|restart|reload) [ "$en" = masked ] && { echo "Unit $u is masked." >&2; exit 1; }; echo active > "$d/$u.active";;
stop) echo inactive > "$d/$u.active";;
*) echo "unknown command $cmd" >&2; exit 1;;
esac
`

// serviceStep is one run of the service or systemd module: a run in check mode before it
// must change nothing on the host, the run reports changed and want, and a second run reports
// no change (unless again: restarted changes every time).
type serviceStep struct {
	name    string
	args    map[string]any
	changed bool
	again   bool
	want    map[string]any
	// host is the service's state on the host after the step, as hostState prints it.
	host string
}

func runServiceSteps(t *testing.T, module string, vars map[string]any, hostState func() string, steps []serviceStep) {
	t.Helper()
	task := func(check bool) *Task {
		tk := newTask(t)
		tk.Check = check
		for k, v := range vars {
			tk.Vars[k] = v
		}
		return tk
	}
	for _, s := range steps {
		before := hostState()
		if r := run(t, task(true), module, s.args); r["changed"] != s.changed {
			t.Errorf("%s: check mode: changed = %v, want %v (%v)", s.name, r["changed"], s.changed, r)
		}
		if after := hostState(); after != before {
			t.Errorf("%s: check mode changed the host from %q to %q", s.name, before, after)
		}
		for i, changed := range []bool{s.changed, s.again} {
			want := map[string]any{"changed": changed}
			if i == 0 {
				for k, v := range s.want {
					want[k] = v
				}
			}
			check(t, run(t, task(false), module, s.args), want)
		}
		if got := hostState(); got != s.host {
			t.Errorf("%s: the host's state is %q, want %q", s.name, got, s.host)
		}
	}
}

// standInSystemctl puts fakeSystemctl first on PATH with unit (active: no, enabled: no)
// known, and returns its state directory.
func standInSystemctl(t *testing.T, unit string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(fmt.Sprintf(fakeSystemctl, dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range map[string]string{".active": "inactive\n", ".enabled": "disabled\n"} {
		if err := os.WriteFile(filepath.Join(dir, unit+f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// standInStatus is the status systemd reports from fakeSystemctl's show.
func standInStatus(unit, active, enabled string) map[string]any {
	load := "loaded"
	if enabled == "masked" {
		load = "masked"
	}
	return map[string]any{"Id": unit, "LoadState": load, "ActiveState": active, "UnitFileState": enabled,
		"ExecStart": "{ path=/bin/true ;\n argv[]=/bin/true }"}
}

func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestSystemdAgainstStandInSystemctl(t *testing.T) {
	const unit = "tly-demo.service"
	dir := standInSystemctl(t, unit)
	state := func() string {
		return readTrimmed(t, filepath.Join(dir, unit+".active")) + " " + readTrimmed(t, filepath.Join(dir, unit+".enabled"))
	}
	u := func(kv ...any) map[string]any {
		m := map[string]any{"name": unit}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, module := range []string{"systemd", "ansible.builtin.systemd_service"} {
		t.Run(module, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, unit+".active"), []byte("inactive\n"), 0o644)
			os.WriteFile(filepath.Join(dir, unit+".enabled"), []byte("disabled\n"), 0o644)
			runServiceSteps(t, module, nil, state, []serviceStep{
				{name: "start and enable", args: u("state", "started", "enabled", true), changed: true,
					want: map[string]any{"name": unit, "state": "started", "enabled": true, "status": standInStatus(unit, "inactive", "disabled")},
					host: "active enabled"},
				{name: "restart always restarts", args: u("state", "restarted"), changed: true, again: true,
					want: map[string]any{"state": "started", "enabled": nil}, host: "active enabled"},
				{name: "reload", args: u("state", "reloaded", "daemon_reload", true), changed: true, again: true,
					want: map[string]any{"state": "started"}, host: "active enabled"},
				{name: "stop and disable", args: u("state", "stopped", "enabled", "no"), changed: true,
					want: map[string]any{"state": "stopped", "enabled": false}, host: "inactive disabled"},
				{name: "mask", args: u("masked", true), changed: true,
					want: map[string]any{"state": nil, "status": standInStatus(unit, "inactive", "disabled")}, host: "inactive masked"},
				{name: "unmask", args: u("masked", false), changed: true, host: "inactive disabled"},
			})
		})
	}
	calls := readTrimmed(t, filepath.Join(dir, "calls"))
	for _, want := range []string{"daemon-reload", "enable " + unit, "restart " + unit, "reload " + unit, "mask " + unit, "is-enabled " + unit + " -l"} {
		if !strings.Contains(calls, want+"\n") {
			t.Errorf("systemctl was not called with %q; calls:\n%s", want, calls)
		}
	}
	for _, tt := range []struct {
		name string
		args map[string]any
		want map[string]any
	}{
		{"a unit neither systemd nor SysV knows", map[string]any{"name": "tly-missing.service", "state": "started"},
			map[string]any{"failed": true, "msg": "Could not find the requested service tly-missing.service: host"}},
		{"a glob in the name", map[string]any{"name": "tly-*", "state": "started"},
			map[string]any{"failed": true, "msg": "This module does not currently support using glob patterns, found '*' in service name: tly-*"}},
		{"nothing to do", map[string]any{"name": unit},
			map[string]any{"failed": true, "msg": "one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec"}},
		{"state without a name", map[string]any{"state": "started"},
			map[string]any{"failed": true, "msg": "missing parameter(s) required by 'state': name"}},
		{"daemon_reload alone", map[string]any{"daemon_reload": true, "scope": "user"},
			map[string]any{"changed": false, "name": nil, "status": map[string]any{}}},
		{"starting a masked unit fails", map[string]any{"name": unit, "masked": true, "state": "started"},
			map[string]any{"failed": true, "msg": "Unable to start service " + unit + ": Unit " + unit + " is masked.\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			check(t, run(t, newTask(t), "systemd", tt.args), tt.want)
		})
	}
	if calls := readTrimmed(t, filepath.Join(dir, "calls")); !strings.Contains(calls, "--user daemon-reload") {
		t.Errorf("scope: user did not call systemctl --user; calls:\n%s", calls)
	}
}

// TestServiceDispatchesToSystemd pins that service runs the systemd module where the facts
// say the service manager is systemd, dropping the options systemd does not have.
func TestServiceDispatchesToSystemd(t *testing.T) {
	const unit = "tly-demo.service"
	dir := standInSystemctl(t, unit)
	state := func() string { return readTrimmed(t, filepath.Join(dir, unit+".active")) }
	runServiceSteps(t, "ansible.builtin.service", map[string]any{"ansible_service_mgr": "systemd"}, state, []serviceStep{
		{name: "start", args: map[string]any{"name": unit, "state": "started", "arguments": "-v"}, changed: true,
			want: map[string]any{"state": "started", "status": standInStatus(unit, "inactive", "disabled")}, host: "active"},
	})
}

// TestServiceSysV runs service against a real throwaway init script in /etc/init.d that
// keeps its running state in a file, with the host's service and update-rc.d.
func TestServiceSysV(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the SysV test installs an init script in /etc/init.d: it needs root")
	}
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("this host's service manager is systemd: service would not take the SysV path")
	}
	name := fmt.Sprintf("tlysvc%d", os.Getpid()%100000)
	flag := filepath.Join(t.TempDir(), "running")
	script := "/etc/init.d/" + name
	body := fmt.Sprintf(`#!/bin/sh
### BEGIN INIT INFO
# Provides:          %s
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: tally test service
### END INIT INFO
f=%q
case "$1" in
start) echo "$2" > "$f";;
stop) rm -f "$f";;
restart|reload) [ -f "$f" ] && echo "$1" >> "$f" || echo "$1" > "$f";;
status) [ -f "$f" ];  exit $(( $? * 3 ));;
*) echo "Usage: $0 {start|stop|restart|reload|status}" >&2; exit 2;;
esac
`, name, flag)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("update-rc.d", "-f", name, "remove").Run()
		os.Remove(script)
	})
	state := func() string {
		links, _ := filepath.Glob("/etc/rc?.d/S??" + name)
		return fmt.Sprintf("%q %d", readTrimmed(t, flag), len(links))
	}
	runServiceSteps(t, "service", nil, state, []serviceStep{
		{name: "start with arguments", args: map[string]any{"name": name, "state": "started", "arguments": "fast"}, changed: true,
			want: map[string]any{"name": name, "state": "started", "enabled": nil}, host: `"fast" 0`},
		{name: "restart always restarts", args: map[string]any{"name": name, "state": "restarted"}, changed: true, again: true,
			want: map[string]any{"state": "started"}, host: "\"fast\\nrestart\\nrestart\" 0"},
		{name: "stop", args: map[string]any{"name": name, "state": "stopped"}, changed: true,
			want: map[string]any{"state": "stopped"}, host: `"" 0`},
	})
	if _, err := exec.LookPath("update-rc.d"); err != nil {
		t.Skip("update-rc.d is not installed: the SysV enabled steps need it")
	}
	runServiceSteps(t, "service", nil, state, []serviceStep{
		{name: "enable", args: map[string]any{"name": name, "enabled": true}, changed: true,
			want: map[string]any{"name": name, "enabled": true, "state": nil}, host: `"" 4`},
		{name: "disable", args: map[string]any{"name": name, "enabled": false}, changed: true,
			want: map[string]any{"enabled": false}, host: `"" 0`},
	})
	check(t, run(t, newTask(t), "service", map[string]any{"name": "tly-no-such-service", "state": "started"}),
		map[string]any{"failed": true, "msg": "Could not find the requested service tly-no-such-service: host"})
}
