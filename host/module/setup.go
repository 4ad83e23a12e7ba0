package module

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/internal/pytext"
)

var pingSpec = &argSpec{module: "ping", options: map[string]option{
	"data": {kind: kindStr, def: "pong"},
}}

// runPing checks that a command runs on the host (become included), as Ansible's ping checks
// that a module does.
var runPing = withSpec(pingSpec, ping)

func ping(ctx context.Context, t *Task, p params) (Result, error) {
	if _, err := t.probe(ctx, "true"); err != nil {
		return nil, err
	}
	if p.str("data") == "crash" {
		// Ansible's ping raises on purpose; its result is a module failure.
		return moduleException("Exception: boom"), nil
	}
	return Result{"changed": false, "ping": p.str("data")}, nil
}

var setupSpec = &argSpec{module: "setup", options: map[string]option{
	"gather_subset":  {kind: kindList, def: []string{"all"}},
	"gather_timeout": {kind: kindInt, def: 10},
	"filter":         {kind: kindList, def: []string{}},
	"fact_path":      {kind: kindPath, def: "/etc/ansible/facts.d"},
}}

// setupScript prints the raw facts in sections, each after a line "@@name"; env comes last
// since its values may hold any line.
const setupScript = `echo @@uname; uname -s; uname -r; uname -v; uname -m; uname -n
echo @@fqdn; hostname -f 2>/dev/null || uname -n
echo @@id; id -u; id -g; id -un; id -gn; id -ru; id -rg
echo @@passwd; u=$(id -un); { getent passwd "$u" || grep "^$u:" /etc/passwd; } 2>/dev/null | head -n 1
echo @@date; date '+%s %z %Z'; date '+%N'
echo @@pkg; for m in dnf5 dnf yum apt-get zypper apk pacman pkg emerge brew; do command -v $m >/dev/null 2>&1 && echo $m; done
echo @@svc; cat /proc/1/comm 2>/dev/null || echo
[ -d /run/systemd/system ] && echo systemd
command -v initctl >/dev/null 2>&1 && [ -d /etc/init ] && echo upstart
[ -e /sbin/openrc ] && echo openrc
[ -d /etc/init.d ] && echo sysvinit
echo @@debian_version; cat /etc/debian_version 2>/dev/null
echo @@os_release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
echo @@fips; cat /proc/sys/crypto/fips_enabled 2>/dev/null
echo @@python; for p in "$py" python3 python; do
  command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; print(sys.executable); print(" ".join(map(str, sys.version_info))); print(sys.implementation.name)' 2>/dev/null && break
done
echo @@env; export -p
`

// runSetup gathers a small fact set (see docs/modules.md) with one Exec. gather_subset,
// gather_timeout and fact_path are accepted and ignored.
var runSetup = withSpec(setupSpec, setup)

func setup(ctx context.Context, t *Task, p params) (Result, error) {
	// The python facts describe the interpreter Ansible would use: the host's
	// ansible_python_interpreter, else the first python found.
	py, _ := t.Vars["ansible_python_interpreter"].(string)
	res, err := t.sh(ctx, "py="+connection.Quote(py)+"\n"+setupScript, nil)
	if err != nil {
		return nil, err
	}
	facts, err := parseFacts(string(res.Stdout))
	if err != nil {
		return nil, fmt.Errorf("gather facts: %w", err)
	}
	facts["gather_subset"] = p.list("gather_subset")
	facts["module_setup"] = true
	if filters := p.list("filter"); len(filters) > 0 {
		for k := range facts {
			if !slices.ContainsFunc(filters, func(f string) bool { ok, _ := path.Match(f, k); return ok }) {
				delete(facts, k)
			}
		}
	}
	return Result{"changed": false, "ansible_facts": facts}, nil
}

// parseFacts turns setupScript's output into facts with Ansible's names.
func parseFacts(out string) (map[string]any, error) {
	sec := map[string][]string{}
	cur := ""
	rest, env, found := strings.Cut(out, "\n@@env\n")
	if !found {
		return nil, fmt.Errorf("unexpected output from the host: %q", out)
	}
	for _, line := range strings.Split(rest, "\n") {
		if name, ok := strings.CutPrefix(line, "@@"); ok {
			cur = name
			sec[cur] = []string{}
			continue
		}
		sec[cur] = append(sec[cur], line)
	}
	get := func(name string, i int) string {
		if i < len(sec[name]) {
			return strings.TrimSpace(sec[name][i])
		}
		return ""
	}
	f := map[string]any{}
	f["system"], f["kernel"], f["kernel_version"] = get("uname", 0), get("uname", 1), get("uname", 2)
	f["machine"], f["architecture"], f["nodename"] = get("uname", 3), get("uname", 3), get("uname", 4)
	f["hostname"], _, _ = strings.Cut(get("uname", 4), ".")
	fqdn := get("fqdn", 0)
	f["fqdn"] = fqdn
	_, f["domain"], _ = strings.Cut(fqdn, ".")

	num := func(s string) any {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
		return s
	}
	f["user_uid"], f["user_gid"], f["user_id"] = num(get("id", 0)), num(get("id", 1)), get("id", 2)
	f["effective_user_id"], f["effective_group_id"] = f["user_uid"], f["user_gid"]
	f["real_user_id"], f["real_group_id"] = num(get("id", 4)), num(get("id", 5))
	if pw := strings.Split(get("passwd", 0), ":"); len(pw) == 7 {
		f["user_gecos"], f["user_dir"], f["user_shell"] = pw[4], pw[5], pw[6]
	}

	osr := parseOSRelease(sec["os_release"])
	for k, v := range distribution(f["system"].(string), osr, get("debian_version", 0)) {
		f[k] = v
	}
	f["pkg_mgr"] = pkgMgr(f["os_family"].(string), sec["pkg"])
	f["service_mgr"] = serviceMgr(sec["svc"])
	if dt, err := dateTime(get("date", 0), get("date", 1)); err == nil {
		f["date_time"] = dt
	}
	f["fips"] = get("fips", 0) == "1"
	if py := pythonFacts(sec["python"]); py != nil {
		f["python"] = py
		v := py["version"].(map[string]any)
		f["python_version"] = fmt.Sprintf("%v.%v.%v", v["major"], v["minor"], v["micro"]) // platform.python_version()
	}
	words, err := pytext.ShellSplit(env)
	if err != nil {
		return nil, fmt.Errorf("parse export -p: %w", err)
	}
	f["env"] = parseExports(words)

	facts := make(map[string]any, len(f))
	for k, v := range f {
		facts["ansible_"+k] = v
	}
	return facts, nil
}

// pythonFacts is ansible_python from the interpreter's executable, sys.version_info and
// implementation name, one a line; nil without an interpreter.
func pythonFacts(lines []string) map[string]any {
	if len(lines) < 3 {
		return nil
	}
	v := strings.Fields(lines[1])
	if len(v) != 5 {
		return nil
	}
	info := make([]any, len(v))
	for i, s := range v {
		if n, err := strconv.Atoi(s); err == nil {
			info[i] = n
		} else {
			info[i] = s
		}
	}
	return map[string]any{
		"executable": strings.TrimSpace(lines[0]), "type": strings.TrimSpace(lines[2]), "has_sslcontext": true,
		"version":      map[string]any{"major": info[0], "minor": info[1], "micro": info[2], "releaselevel": info[3], "serial": info[4]},
		"version_info": info,
	}
}

// parseExports reads `export -p` words: export NAME=VALUE (dash, BusyBox, bash in POSIX mode)
// or declare -x NAME=VALUE (bash).
func parseExports(words []string) map[string]any {
	env := map[string]any{}
	for i := 0; i < len(words); i++ {
		if words[i] == "declare" {
			for i+1 < len(words) && strings.HasPrefix(words[i+1], "-") {
				i++
			}
		} else if words[i] != "export" {
			continue
		}
		if i+1 < len(words) {
			if k, v, ok := strings.Cut(words[i+1], "="); ok {
				env[k] = v
			}
			i++
		}
	}
	return env
}

// parseOSRelease reads os-release(5) lines: KEY=value, the value shell-quoted.
func parseOSRelease(lines []string) map[string]string {
	osr := map[string]string{}
	for _, line := range lines {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if w, err := pytext.ShellSplit(v); err == nil && len(w) == 1 {
			v = w[0]
		}
		osr[k] = v
	}
	return osr
}

// distros maps os-release IDs to Ansible's distribution names and families.
var distros = map[string][2]string{
	"debian": {"Debian", "Debian"}, "ubuntu": {"Ubuntu", "Debian"}, "linuxmint": {"Linux Mint", "Debian"},
	"kali": {"Kali", "Debian"}, "raspbian": {"Debian", "Debian"}, "devuan": {"Devuan", "Debian"},
	"pop":  {"Pop!_OS", "Debian"},
	"rhel": {"RedHat", "RedHat"}, "centos": {"CentOS", "RedHat"}, "fedora": {"Fedora", "RedHat"},
	"rocky": {"Rocky", "RedHat"}, "almalinux": {"AlmaLinux", "RedHat"}, "ol": {"OracleLinux", "RedHat"},
	"amzn": {"Amazon", "RedHat"}, "scientific": {"Scientific", "RedHat"},
	"sles": {"SLES", "Suse"}, "opensuse-leap": {"openSUSE Leap", "Suse"},
	"opensuse-tumbleweed": {"openSUSE Tumbleweed", "Suse"},
	"alpine":              {"Alpine", "Alpine"}, "arch": {"Archlinux", "Archlinux"}, "manjaro": {"Manjaro", "Archlinux"},
	"gentoo": {"Gentoo", "Gentoo"},
}

// distribution returns the distribution facts from os-release, Debian's full version from
// /etc/debian_version as Ansible reports it.
func distribution(system string, osr map[string]string, debianVersion string) map[string]any {
	name, family := system, system
	if d, ok := distros[osr["ID"]]; ok {
		name, family = d[0], d[1]
	} else if osr["NAME"] != "" {
		name = osr["NAME"]
	}
	version := osr["VERSION_ID"]
	if name == "Debian" && debianVersion != "" && debianVersion[0] >= '0' && debianVersion[0] <= '9' {
		version = debianVersion
	}
	major, minor, _ := strings.Cut(version, ".")
	minor, _, _ = strings.Cut(minor, ".")
	release := osr["VERSION_CODENAME"]
	if release == "" {
		release = osr["UBUNTU_CODENAME"]
	}
	if release == "" {
		release = "NA"
	}
	return map[string]any{
		"distribution": name, "os_family": family, "distribution_version": version,
		"distribution_major_version": major, "distribution_minor_version": minor, "distribution_release": release,
	}
}

// pkgMgr picks the package manager as Ansible would for the family, from those installed.
func pkgMgr(family string, found []string) string {
	prefer := map[string][]string{"RedHat": {"dnf5", "dnf", "yum"}, "Debian": {"apt-get"}, "Suse": {"zypper"},
		"Alpine": {"apk"}, "Archlinux": {"pacman"}, "Gentoo": {"emerge"}}[family]
	names := map[string]string{"apt-get": "apt", "pkg": "pkgng", "emerge": "portage", "brew": "homebrew"}
	for _, list := range [][]string{prefer, found} {
		for _, m := range list {
			if slices.Contains(found, m) {
				if n, ok := names[m]; ok {
					return n
				}
				return m
			}
		}
	}
	return "unknown"
}

// serviceMgr follows Ansible's ServiceMgrFactCollector for Linux: PID 1's name unless it is a
// generic init or a shell, else the first init system found.
func serviceMgr(lines []string) string {
	if len(lines) == 0 {
		return "service"
	}
	proc1 := path.Base(strings.TrimSpace(lines[0]))
	if proc1 != "" && proc1 != "." && proc1 != "init" && !strings.HasSuffix(proc1, "sh") {
		if m, ok := map[string]string{"procd": "openwrt_init", "runit-init": "runit", "svscan": "svc", "openrc-init": "openrc"}[proc1]; ok {
			return m
		}
		return proc1
	}
	for _, l := range lines[1:] {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return "service"
}

// dateTime builds ansible_date_time from `date '+%s %z %Z'` and `date +%N` (nanoseconds where
// date supports them) on the host, in the host's time zone.
func dateTime(line, nanos string) (map[string]any, error) {
	fs := strings.Fields(line)
	if len(fs) < 2 {
		return nil, fmt.Errorf("unexpected date output %q", line)
	}
	epoch, err := strconv.ParseInt(fs[0], 10, 64)
	if err != nil {
		return nil, err
	}
	off, err := time.Parse("-0700", fs[1])
	if err != nil {
		return nil, err
	}
	tz := fs[1]
	if len(fs) > 2 {
		tz = fs[2]
	}
	_, offset := off.Zone()
	ns, err := strconv.Atoi(nanos)
	if err != nil {
		ns = 0
	}
	now := time.Unix(epoch, int64(ns)).In(time.FixedZone(tz, offset))
	utc := now.UTC()
	weekday := int(now.Weekday())
	// %W: weeks of the year starting on Monday, days before the first Monday in week 0.
	week := (now.YearDay() + 6 - (weekday+6)%7) / 7
	return map[string]any{
		"year": now.Format("2006"), "month": now.Format("01"), "weekday": now.Format("Monday"),
		"weekday_number": strconv.Itoa(weekday), "weeknumber": fmt.Sprintf("%02d", week),
		"day": now.Format("02"), "hour": now.Format("15"), "minute": now.Format("04"), "second": now.Format("05"),
		"epoch": fs[0], "epoch_int": fs[0], "date": now.Format("2006-01-02"), "time": now.Format("15:04:05"),
		"iso8601_micro": utc.Format("2006-01-02T15:04:05.000000Z"), "iso8601": utc.Format("2006-01-02T15:04:05Z"),
		"iso8601_basic":       now.Format("20060102T150405") + fmt.Sprintf("%06d", now.Nanosecond()/1000),
		"iso8601_basic_short": now.Format("20060102T150405"),
		"tz":                  tz, "tz_dst": tz, "tz_offset": fs[1],
	}, nil
}
