package module

import (
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParseFacts reads the setup script's output as dash and as bash print it (testdata/setup).
func TestParseFacts(t *testing.T) {
	want := map[string]any{
		"ansible_system": "Linux", "ansible_kernel": "6.18.44-fc-v657", "ansible_kernel_version": "#1 SMP PREEMPT_DYNAMIC @0",
		"ansible_architecture": "x86_64", "ansible_machine": "x86_64", "ansible_nodename": "vm", "ansible_hostname": "vm",
		"ansible_fqdn": "vm", "ansible_domain": "",
		"ansible_user_id": "root", "ansible_user_uid": 0, "ansible_user_gid": 0, "ansible_user_dir": "/root",
		"ansible_user_shell": "/bin/bash", "ansible_user_gecos": "root",
		"ansible_distribution": "Debian", "ansible_os_family": "Debian", "ansible_distribution_version": "12.11",
		"ansible_distribution_major_version": "12", "ansible_distribution_minor_version": "11",
		"ansible_distribution_release": "bookworm", "ansible_pkg_mgr": "apt", "ansible_service_mgr": "process_api",
	}
	for _, shell := range []string{"dash", "bash"} {
		t.Run(shell, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", "setup", shell+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			facts, err := parseFacts(string(out))
			if err != nil {
				t.Fatal(err)
			}
			check(t, facts, want)
			env := facts["ansible_env"].(map[string]any)
			if env["MULTI"] != "line1\nline2 'q' \"dq\" $x é" || env["PATH"] != "/usr/bin:/bin" {
				t.Errorf("ansible_env = %q", env)
			}
			if _, ok := env["OLDPWD"]; ok {
				t.Error("an exported variable without a value is in ansible_env")
			}
			dt := facts["ansible_date_time"].(map[string]any)
			if dt["tz"] != "UTC" || dt["tz_offset"] != "+0000" || dt["epoch"] == "" {
				t.Errorf("ansible_date_time = %v", dt)
			}
		})
	}
}

func TestDateTime(t *testing.T) {
	dt, err := dateTime("1795463089 -0130 XYZ", "43439000")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"date": "2026-11-23", "day": "23", "epoch": "1795463089", "epoch_int": "1795463089", "hour": "18",
		"iso8601": "2026-11-23T19:44:49Z", "iso8601_basic": "20261123T181449043439", "iso8601_basic_short": "20261123T181449",
		"iso8601_micro": "2026-11-23T19:44:49.043439Z", "minute": "14", "month": "11", "second": "49", "time": "18:14:49",
		"tz": "XYZ", "tz_dst": "XYZ", "tz_offset": "-0130", "weekday": "Monday", "weekday_number": "1", "weeknumber": "47", "year": "2026",
	}
	if !reflect.DeepEqual(dt, want) {
		t.Errorf("dateTime = %v\nwant %v", dt, want)
	}
	// date without %N support prints "N" or "%N".
	if dt, err := dateTime("1795463089 +0000 UTC", "N"); err != nil || dt["iso8601_micro"] != "2026-11-23T19:44:49.000000Z" {
		t.Errorf("dateTime without nanoseconds = %v, %v", dt, err)
	}
}

func TestDistribution(t *testing.T) {
	tests := []struct {
		osRelease, debianVersion string
		want                     map[string]any
	}{
		{"ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy", "bookworm/sid",
			map[string]any{"distribution": "Ubuntu", "os_family": "Debian", "distribution_version": "22.04", "distribution_major_version": "22", "distribution_release": "jammy"}},
		{"ID=\"rocky\"\nVERSION_ID=\"9.3\"", "",
			map[string]any{"distribution": "Rocky", "os_family": "RedHat", "distribution_version": "9.3", "distribution_release": "NA"}},
		{"ID=alpine\nVERSION_ID=3.19.1", "",
			map[string]any{"distribution": "Alpine", "os_family": "Alpine", "distribution_major_version": "3", "distribution_minor_version": "19"}},
		{"ID=exotic\nNAME=\"Exotic OS\"", "",
			map[string]any{"distribution": "Exotic OS", "os_family": "Linux"}},
	}
	for _, tt := range tests {
		got := distribution("Linux", parseOSRelease(strings.Split(tt.osRelease, "\n")), tt.debianVersion)
		check(t, got, tt.want)
	}
}

func TestPkgAndServiceMgr(t *testing.T) {
	if got := pkgMgr("RedHat", []string{"yum", "dnf", "apt-get"}); got != "dnf" {
		t.Errorf("pkgMgr RedHat = %s", got)
	}
	if got := pkgMgr("Other", []string{"pkg"}); got != "pkgng" {
		t.Errorf("pkgMgr Other = %s", got)
	}
	if got := pkgMgr("Debian", nil); got != "unknown" {
		t.Errorf("pkgMgr none = %s", got)
	}
	svc := map[string][]string{
		"systemd":      {"systemd", "systemd", "sysvinit"},
		"openwrt_init": {"procd"},
		"sysvinit":     {"init", "sysvinit"},
		"openrc":       {"bash", "openrc", "sysvinit"},
		"service":      {"sh"},
	}
	for want, lines := range svc {
		if got := serviceMgr(lines); got != want {
			t.Errorf("serviceMgr(%q) = %s, want %s", lines, got, want)
		}
	}
}

func TestSetupPythonIsTheHostsInterpreter(t *testing.T) {
	task := newTask(t)
	task.Vars = map[string]any{"ansible_python_interpreter": "/usr/bin/python3"}
	facts := run(t, task, "setup", map[string]any{})["ansible_facts"].(map[string]any)
	py, _ := facts["ansible_python"].(map[string]any)
	if py["executable"] != "/usr/bin/python3" {
		t.Errorf("ansible_python = %v, want the executable ansible_python_interpreter names", py)
	}
	out, err := exec.Command("/usr/bin/python3", "-c", "import platform; print(platform.python_version())").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(out)); facts["ansible_python_version"] != want {
		t.Errorf("ansible_python_version = %v, want %s", facts["ansible_python_version"], want)
	}
}

func TestSetup(t *testing.T) {
	task := newTask(t)
	calls := countCalls(task)
	r := run(t, task, "setup", map[string]any{})
	if calls.execs != 1 {
		t.Errorf("%d execs, want 1", calls.execs)
	}
	facts := r["ansible_facts"].(map[string]any)
	u, _ := user.Current()
	check(t, facts, map[string]any{"ansible_user_id": u.Username, "ansible_user_dir": u.HomeDir, "ansible_system": "Linux",
		"module_setup": true, "ansible_fips": false})
	if py, _ := facts["ansible_python"].(map[string]any); py == nil || py["type"] != "cpython" || len(py["version_info"].([]any)) != 5 {
		t.Errorf("ansible_python = %v, want this machine's python3", facts["ansible_python"])
	}
	for _, k := range []string{"ansible_hostname", "ansible_distribution", "ansible_os_family", "ansible_pkg_mgr", "ansible_service_mgr", "ansible_kernel"} {
		if s, _ := facts[k].(string); s == "" {
			t.Errorf("fact %s is empty", k)
		}
	}
	epoch, _ := strconv.ParseInt(facts["ansible_date_time"].(map[string]any)["epoch"].(string), 10, 64)
	if d := time.Since(time.Unix(epoch, 0)); d < -time.Minute || d > time.Minute {
		t.Errorf("epoch is %v off", d)
	}
	if facts["ansible_env"].(map[string]any)["PATH"] != os.Getenv("PATH") {
		t.Errorf("ansible_env PATH = %v", facts["ansible_env"].(map[string]any)["PATH"])
	}

	filtered := run(t, newTask(t), "setup", map[string]any{"filter": "ansible_user_*,ansible_system"})["ansible_facts"].(map[string]any)
	for k := range filtered {
		if !strings.HasPrefix(k, "ansible_user_") && k != "ansible_system" {
			t.Errorf("filter kept %s", k)
		}
	}
	if filtered["ansible_system"] != "Linux" {
		t.Errorf("filter dropped ansible_system: %v", filtered)
	}
}

func TestPing(t *testing.T) {
	check(t, run(t, newTask(t), "ping", map[string]any{}), map[string]any{"ping": "pong", "changed": false})
	check(t, run(t, newTask(t), "ping", map[string]any{"data": []any{1}}), map[string]any{"ping": "[1]"})
	check(t, run(t, newTask(t), "ping", map[string]any{"data": "crash"}), map[string]any{"failed": true, "rc": 1})
	task := newTask(t)
	task.Conn = noConn{}
	if _, err := runErr(task, "ping", map[string]any{}); err == nil || !strings.Contains(err.Error(), "failed to connect") {
		t.Errorf("ping of an unreachable host: %v", err)
	}
}

func TestWaitFor(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "here"), "", 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the parallel subtests
	openPort := ln.Addr().(*net.TCPAddr).Port
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	tests := []struct {
		name string
		args map[string]any
		want map[string]any
	}{
		// As Ansible's add_path_info, the path's details come along and override state.
		{name: "path present", args: map[string]any{"path": dir + "/here"},
			want: map[string]any{"changed": false, "state": "file", "mode": "0644", "path": dir + "/here", "port": nil,
				"match_groups": []any{}, "search_regex": nil}},
		{name: "path absent", args: map[string]any{"path": dir + "/gone", "state": "absent"},
			want: map[string]any{"state": "absent", "failed": nil}},
		{name: "path times out", args: map[string]any{"path": dir + "/never", "timeout": 1},
			want: map[string]any{"failed": true, "msg": "Timeout when waiting for file " + dir + "/never"}},
		{name: "path stays", args: map[string]any{"path": dir + "/here", "state": "absent", "timeout": "1", "msg": "still there"},
			want: map[string]any{"failed": true, "msg": "still there"}},
		{name: "port open", args: map[string]any{"port": openPort, "timeout": 5},
			want: map[string]any{"state": "started", "port": openPort, "failed": nil}},
		{name: "port stopped", args: map[string]any{"port": closedPort, "state": "stopped", "timeout": 5},
			want: map[string]any{"state": "stopped", "failed": nil}},
		{name: "port never opens", args: map[string]any{"port": closedPort, "timeout": 1},
			want: map[string]any{"failed": true, "msg": "Timeout when waiting for 127.0.0.1:" + strconv.Itoa(closedPort)}},
		{name: "port and path", args: map[string]any{"port": 1, "path": "/x"},
			want: map[string]any{"failed": true, "msg": "port and path parameter can not both be passed to wait_for", "elapsed": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the timeouts take a second each
			task := newTask(t)
			calls := countCalls(task)
			r := run(t, task, "wait_for", tt.args)
			check(t, r, tt.want)
			if _, ok := r["elapsed"].(int); !ok {
				t.Errorf("elapsed = %#v, want seconds", r["elapsed"])
			}
			if calls.execs > 1 {
				t.Errorf("%d execs, want at most one", calls.execs)
			}
		})
	}
	if _, err := runErr(newTask(t), "wait_for", map[string]any{"port": 1, "state": "drained"}); err == nil || !strings.HasPrefix(err.Error(), "value of state must be one of") {
		t.Errorf("drained: %v", err)
	}
}
