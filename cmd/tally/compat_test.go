package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/connection/sshtest"
)

// compatDir holds the playbooks on which tally must give the same PLAY RECAP and exit code as
// ansible-playbook, with the inventory they all use.
const compatDir = "../../testdata/compat"

// compatParallel caps the playbooks run at once: each run forks a worker per host, and the
// machines this runs on have two cores.
const compatParallel = 3

// compatTimeout bounds one run of one playbook, so a hung runner fails its subtest instead of
// the whole test binary. A run takes seconds, but minutes on a machine loaded many times over
// (modules_files took nearly 3 minutes at a load of 27 on two cores): the bound is for hangs.
const compatTimeout = 10 * time.Minute

// compatEnv makes both runs' output plain and independent of the user's Ansible setup.
var compatEnv = []string{
	"ANSIBLE_NOCOLOR=1",
	"ANSIBLE_HOST_KEY_CHECKING=False",
	"ANSIBLE_RETRY_FILES_ENABLED=0",
	"ANSIBLE_LOCALHOST_WARNING=false",
	"ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3",
}

var updateCompat = flag.Bool("update-compat", false,
	"rewrite the result lines of the compat playbooks' headers from ansible-playbook's runs (TestCompat: local, TestCompatSSH: over SSH), without running tally")

// TestCompat runs every playbook of compatDir under tally run and requires the per-host PLAY
// RECAP counters and the exit code that ansible-playbook gave, as recorded in the playbook's
// header (compat-rc, compat-recap). With -update-compat it runs ansible-playbook and records
// its results instead. The headers are not taken on trust: every run of the suite also runs
// each playbook under ansible-playbook through --engine ansible, locally
// (TestEngineAnsibleMatchesAnsibleAndCrossChecksTallysEngine) and over SSH
// (TestEngineAnsibleSSH), and requires the recorded results, so a change of the reference is
// told apart from a bug in tally and ansible-playbook runs once per playbook and mode.
func TestCompat(t *testing.T) {
	runCompat(t, compatSetup{inventory: "inventory.ini"})
}

// TestCompatSSH runs the compat suite with every host of inventory.ini but one reached over
// SSH, on a real sshd as an unprivileged user, and "dead" still unreachable. The results are
// the header's compat-ssh-rc and compat-ssh-recap where a playbook ends otherwise over SSH (as
// an unprivileged user, become with su fails), else the local ones; -update-compat records
// them from ansible-playbook's runs over SSH.
func TestCompatSSH(t *testing.T) {
	runCompat(t, sshCompatSetup(t, "inventory.ini"))
}

// TestCompatSSHYAML is TestCompatSSH with the YAML twin of the inventory
// (TestCompatInventoriesAgree), so it has the same results.
func TestCompatSSHYAML(t *testing.T) {
	if *updateCompat {
		t.Skip("the SSH results are recorded with inventory.ini, the twin of inventory.yaml")
	}
	runCompat(t, sshCompatSetup(t, "inventory.yaml"))
}

// TestCompatInventoriesAgree keeps inventory.yaml the twin of inventory.ini: ansible-inventory
// must list the same hosts, groups and variables for both.
func TestCompatInventoriesAgree(t *testing.T) {
	ansiblePlaybook(t)
	list := func(inv string) string {
		cmd := exec.Command("ansible-inventory", "-i", inv, "--list")
		cmd.Dir = compatDir
		cmd.Env = append(os.Environ(), compatEnv...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ansible-inventory -i %s: %v", inv, err)
		}
		return string(out)
	}
	if ini, yml := list("inventory.ini"), list("inventory.yaml"); ini != yml {
		t.Errorf("inventory.yaml is not the twin of inventory.ini:\n--- inventory.ini\n%s--- inventory.yaml\n%s", ini, yml)
	}
}

// TestCompatOnlyMissingInventory runs missing_inventory.yml with no inventory but one that
// does not exist: as ansible-playbook, tally warns and runs on the implicit localhost alone.
func TestCompatOnlyMissingInventory(t *testing.T) {
	ansible, tally := ansiblePlaybook(t), tallyBinary(t)
	setup := compatSetup{inventory: "no_such_inventory.ini"}
	ref := runPlaybook(t, setup, []string{ansible}, nil, "missing_inventory.yml")
	got := runPlaybook(t, setup, []string{tally, "run"}, nil, "missing_inventory.yml")
	if got.rc != ref.rc || !maps.Equal(got.recap, ref.recap) || len(ref.recap) == 0 {
		t.Errorf("tally: rc %d, ansible-playbook %d\n%s\n%s\n%s", got.rc, ref.rc, diffRecaps("ansible", ref.recap, "tally", got.recap), ref.output(), got.output())
	}
}

// sshInventoryFormats say, for each compat inventory, the line of its all vars that makes
// hosts local, and how a variable is written in its place.
var sshInventoryFormats = map[string]struct{ local, assign string }{
	"inventory.ini":  {"\nansible_connection=local\n", "%s=%s\n"},
	"inventory.yaml": {"\n    ansible_connection: local\n", "    %s: %s\n"},
}

// sshCompatSetup starts a real sshd and returns the compat setup whose inventory is the compat
// inventory named with its local hosts sent to that sshd, after checking it logs in.
func sshCompatSetup(t *testing.T, name string) compatSetup {
	t.Helper()
	if testing.Short() {
		t.Skip("the suite needs sshd and ansible-playbook (not with -short)")
	}
	srv := sshtest.Start(t, sshtest.Options{})
	inv := sshInventory(t, srv, filepath.Join(compatDir, name))
	whoami, err := filepath.Abs("testdata/whoami.yml")
	if err != nil {
		t.Fatal(err)
	}
	setup := compatSetup{inventory: inv, sharedOut: true, ssh: true}
	if r := runPlaybook(t, setup, []string{tallyBinary(t), "run"}, []string{"-e", "login_user=" + srv.User}, whoami); r.rc != 0 {
		t.Fatalf("the SSH inventory does not log in as %s:\n%s", srv.User, r.output())
	}
	return setup
}

// sshInventory writes a copy of the inventory file src (INI or YAML, sshInventoryFormats) in
// which every host that the "ansible_connection: local" line of its all vars made local is
// reached over SSH on srv, and returns its path.
func sshInventory(t *testing.T, srv *sshtest.Server, src string) string {
	t.Helper()
	format, ok := sshInventoryFormats[filepath.Base(src)]
	if !ok {
		t.Fatalf("no SSH format for inventory %s", src)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), format.local) {
		t.Fatalf("%s has no %q line in its all vars to replace", src, strings.TrimSpace(format.local))
	}
	viaSSH := "\n"
	for _, kv := range [][2]string{{"ansible_connection", "ssh"}, {"ansible_host", srv.Host}, {"ansible_port", strconv.Itoa(srv.Port)},
		{"ansible_user", srv.User}, {"ansible_ssh_private_key_file", srv.KeyFile},
		{"ansible_ssh_common_args", "'-o UserKnownHostsFile=" + srv.KnownHostsFile + "'"}} {
		viaSSH += fmt.Sprintf(format.assign, kv[0], kv[1])
	}
	inv := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(inv, []byte(strings.Replace(string(data), format.local, viaSSH, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return inv
}

// compatSetup is how one compat suite runs its playbooks.
type compatSetup struct {
	dir       string // where the runs start; compatDir when empty
	inventory string // the inventory both runs get, relative to compatDir or absolute
	ssh       bool   // hosts are reached over SSH: the header's compat-ssh-* results apply
	sharedOut bool   // "out" must be writable by every user (the SSH login user)
	out       string // the directory the run writes to ("out"); a new one when empty
	env       []string
	engine    string // tally run's --engine; "" for its default
}

// runCompat runs each compat playbook under tally run (with the setup's engine) and compares
// its exit code and recap with ansible-playbook's recorded in the header; a playbook with
// compat-files also runs under ansible-playbook, to compare the files both leave. With
// -update-compat it records ansible-playbook's results in the headers instead.
func runCompat(t *testing.T, setup compatSetup) {
	ansible := ansiblePlaybook(t)
	var tally string
	if !*updateCompat {
		tally = tallyBinary(t)
	}
	eachCompatPlaybook(t, nil, func(t *testing.T, p compatPlaybook) {
		if *updateCompat {
			ref := runPlaybook(t, setup, []string{ansible}, p.args, p.name)
			if err := os.WriteFile(p.path, []byte(withCompatResult(p.src, p.compatCase.recorded(setup.ssh, ref))), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want := p.want(setup.ssh)
		command := []string{tally, "run"}
		if setup.engine != "" {
			command = append(command, "--engine", setup.engine)
		}
		got := runPlaybook(t, setup, command, p.args, p.name)
		// Where a fatal error ends Ansible's run before its recap, tally still makes its
		// final stats call (by design), so only the exit codes are compared.
		aborted := len(want.recap) == 0 && want.rc != 0
		if got.rc != want.rc || !aborted && !maps.Equal(got.recap, want.recap) {
			t.Errorf("%s differs from ansible-playbook's result recorded in the header of %s: rc %d, ansible-playbook %d\n%s",
				strings.Join(command[1:], " "), p.name, got.rc, want.rc, diffRecaps("ansible", want.recap, "tally", got.recap))
		}
		if p.files {
			ref := runPlaybook(t, setup, []string{ansible}, p.args, p.name)
			if got.files != ref.files {
				t.Errorf("tally run leaves other files than ansible-playbook on %s:\n%s", p.name, firstDiff(ref.files, got.files))
				t.Logf("ansible-playbook output:\n%s", ref.output())
			}
		}
		if t.Failed() {
			t.Logf("tally output:\n%s", got.output())
		}
	})
}

// ansiblePlaybook returns the path of ansible-playbook, the reference; tests that run it are
// skipped with -short.
func ansiblePlaybook(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs ansible-playbook: skipped with -short")
	}
	ansible, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Fatalf("ansible-playbook, the reference tally is compared with, is not on PATH: run `make test`, which installs it (%v)", err)
	}
	return ansible
}

// compatPlaybook is one playbook of compatDir: its file, its name and source, and its header.
type compatPlaybook struct {
	path, name, src string
	compatCase
}

// eachCompatPlaybook runs fn as a parallel subtest, at most compatParallel at once, for each
// playbook of compatDir named (without .yml), or for all of them when names is nil.
func eachCompatPlaybook(t *testing.T, names []string, fn func(t *testing.T, p compatPlaybook)) {
	t.Helper()
	var paths []string
	if names == nil {
		var err error
		if paths, err = filepath.Glob(filepath.Join(compatDir, "*.yml")); err != nil || len(paths) == 0 {
			t.Fatalf("no playbook in %s (%v)", compatDir, err)
		}
	}
	for _, name := range names {
		paths = append(paths, filepath.Join(compatDir, name+".yml"))
	}
	sem := make(chan struct{}, compatParallel)
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".yml"), func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseCompatHeader(name, string(src))
			if err != nil {
				t.Fatal(err)
			}
			fn(t, compatPlaybook{path: path, name: name, src: string(src), compatCase: c})
		})
	}
}

// compatCase is what a compat playbook's leading comment declares:
//
//	# compat-args: --tags web -e x=1   (extra arguments for both runs, split on spaces)
//	# compat-rc: 2                     (ansible-playbook's exit code)
//	# compat-recap: h1 : ok=1 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0
//	# compat-ssh-rc: 2                 (the same over SSH, when it differs from the local run)
//	# compat-ssh-recap: h1 : ok=1 ...
//	# compat-files: true               (the files the runs leave under "out" must be alike)
type compatCase struct {
	args []string
	compatResult
	ssh   *compatResult // nil: over SSH as locally
	files bool
}

// compatResult is ansible-playbook's result recorded in a header.
type compatResult struct {
	rc    int
	recap map[string]hostStats
}

// want is the result a run must give, over SSH or locally.
func (c compatCase) want(ssh bool) compatResult {
	if ssh && c.ssh != nil {
		return *c.ssh
	}
	return c.compatResult
}

// recorded is c with r, ansible-playbook's run over SSH or locally, as its result: the SSH
// result is kept only where it differs from the local one.
func (c compatCase) recorded(ssh bool, r runResult) compatCase {
	res := compatResult{rc: r.rc, recap: r.recap}
	switch {
	case !ssh:
		c.compatResult = res
	case res.rc == c.rc && maps.Equal(res.recap, c.recap):
		c.ssh = nil
	default:
		c.ssh = &res
	}
	return c
}

// parseCompatHeader reads the compat-* lines of the comment block that opens a playbook; name
// is the playbook's file name, for errors. compat-rc is required; compat-recap lines may be
// absent, for a run that stops before its recap.
func parseCompatHeader(name, src string) (compatCase, error) {
	c := compatCase{compatResult: compatResult{rc: -1, recap: map[string]hostStats{}}}
	sshResult := func() *compatResult {
		if c.ssh == nil {
			c.ssh = &compatResult{rc: -1, recap: map[string]hostStats{}}
		}
		return c.ssh
	}
	for i, line := range strings.Split(src, "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
		if !ok || !strings.HasPrefix(key, "compat-") {
			continue
		}
		value = strings.TrimSpace(value)
		var err error
		switch key {
		case "compat-args":
			c.args = strings.Fields(value)
		case "compat-rc":
			c.rc, err = strconv.Atoi(value)
		case "compat-recap":
			err = addRecapLine(c.recap, value)
		case "compat-ssh-rc":
			sshResult().rc, err = strconv.Atoi(value)
		case "compat-ssh-recap":
			err = addRecapLine(sshResult().recap, value)
		case "compat-files":
			c.files, err = strconv.ParseBool(value)
		default:
			err = fmt.Errorf("unknown header key %q", key)
		}
		if err != nil {
			return compatCase{}, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
	}
	if c.rc < 0 {
		return compatCase{}, fmt.Errorf("%s: no \"# compat-rc: N\" line in the leading comment", name)
	}
	if c.ssh != nil && c.ssh.rc < 0 {
		return compatCase{}, fmt.Errorf("%s: compat-ssh-recap lines but no \"# compat-ssh-rc: N\" line", name)
	}
	return c, nil
}

// withCompatResult returns the playbook src with the result lines of its header (compat-rc,
// compat-recap, compat-ssh-rc, compat-ssh-recap) written from c, at the end of the leading
// comment.
func withCompatResult(src string, c compatCase) string {
	lines := strings.SplitAfter(src, "\n")
	var out strings.Builder
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
		key, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(lines[i], "#")), ":")
		if !slices.Contains([]string{"compat-rc", "compat-recap", "compat-ssh-rc", "compat-ssh-recap"}, key) {
			out.WriteString(lines[i])
		}
	}
	write := func(prefix string, r compatResult) {
		fmt.Fprintf(&out, "# %s-rc: %d\n", prefix, r.rc)
		for _, h := range slices.Sorted(maps.Keys(r.recap)) {
			fmt.Fprintf(&out, "# %s-recap: %s : %s\n", prefix, h, r.recap[h])
		}
	}
	write("compat", c.compatResult)
	if c.ssh != nil {
		write("compat-ssh", *c.ssh)
	}
	out.WriteString(strings.Join(lines[i:], ""))
	return out.String()
}

// runResult is what one run of a playbook left.
type runResult struct {
	out            string // the directory the run's tasks wrote to (the extra var "out")
	rc             int
	stdout, stderr string
	recap          map[string]hostStats
	files          string // the tree the run left under "out" (see fileTree)
}

func (r runResult) output() string {
	return fmt.Sprintf("exit code %d\n--- stdout\n%s--- stderr\n%s", r.rc, r.stdout, r.stderr)
}

// runPlaybook runs command (a binary and its leading arguments) on the playbook, in compatDir
// with the setup's inventory, args and a fresh directory as the extra var "out" for files the
// tasks write, and parses the recap from its standard output.
func runPlaybook(t *testing.T, setup compatSetup, command, args []string, playbook string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), compatTimeout)
	defer cancel()
	out := setup.out
	if out == "" {
		out = t.TempDir()
	}
	if setup.sharedOut && setup.out == "" {
		// The test's temporary directories are private to root; the login user writes here.
		for _, dir := range []string{filepath.Dir(out), out} {
			if err := os.Chmod(dir, 0o1777); err != nil {
				t.Fatal(err)
			}
		}
	}
	argv := append(slices.Clone(command[1:]), "-i", setup.inventory, "-e", "out="+out)
	argv = append(append(argv, args...), playbook)
	cmd := exec.CommandContext(ctx, command[0], argv...)
	cmd.Dir = setup.dir
	if cmd.Dir == "" {
		cmd.Dir = compatDir
	}
	cmd.Env = append(append(os.Environ(), compatEnv...), setup.env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := runResult{out: out, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		r.rc = exitErr.ExitCode()
	default:
		t.Fatalf("running %s on %s: %v\n%s", filepath.Base(command[0]), playbook, err, r.output())
	}
	if r.recap, err = parseRecap(r.stdout); err != nil {
		t.Fatalf("%s on %s: %v\n%s", filepath.Base(command[0]), playbook, err, r.output())
	}
	if r.files, err = fileTree(out); err != nil {
		t.Fatalf("%s on %s: %v", filepath.Base(command[0]), playbook, err)
	}
	return r
}

// fileTree describes the tree under dir, a line per entry in path order: its path relative to
// dir, its type and permissions, and a regular file's content or a link's target. It leaves out
// times and owners, which differ between any two runs.
func fileTree(dir string) (string, error) {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p) // p is under dir
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v", rel, info.Mode())
		switch {
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %q", data)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " -> %s", strings.TrimPrefix(target, dir))
		}
		b.WriteString("\n")
		return nil
	})
	return b.String(), err
}

// hostStats are the counters of one host's PLAY RECAP line.
type hostStats struct {
	OK, Changed, Unreachable, Failed, Skipped, Rescued, Ignored int
}

func (s hostStats) String() string {
	return fmt.Sprintf("ok=%d changed=%d unreachable=%d failed=%d skipped=%d rescued=%d ignored=%d",
		s.OK, s.Changed, s.Unreachable, s.Failed, s.Skipped, s.Rescued, s.Ignored)
}

// recapLine matches a host's line of the recap as the default callback prints it without
// color: "h1      : ok=2    changed=1    unreachable=0 ... ignored=0   ".
var recapLine = regexp.MustCompile(`^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)\s*$`)

// addRecapLine parses one host's recap line into recap.
func addRecapLine(recap map[string]hostStats, line string) error {
	m := recapLine.FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("not a recap line: %q", line)
	}
	if _, dup := recap[m[1]]; dup {
		return fmt.Errorf("host %s has two recap lines", m[1])
	}
	var n [7]int
	for i := range n {
		// The pattern admits digits only; an overflow is the one way Atoi can fail.
		v, err := strconv.Atoi(m[i+2])
		if err != nil {
			return fmt.Errorf("recap line %q: %w", line, err)
		}
		n[i] = v
	}
	recap[m[1]] = hostStats{n[0], n[1], n[2], n[3], n[4], n[5], n[6]}
	return nil
}

// parseRecap returns the per-host counters of the PLAY RECAP section of a run's standard
// output: the lines after the "PLAY RECAP" banner up to the first blank line, each of which
// must be a host's counters. An output without the banner (a run stopped by an error before
// its end) has no counters; one with two banners is an error, as each run here has one
// playbook.
func parseRecap(out string) (map[string]hostStats, error) {
	recap := map[string]hostStats{}
	banners := 0
	inRecap := false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "PLAY RECAP"):
			if banners++; banners > 1 {
				return nil, errors.New("output has more than one PLAY RECAP")
			}
			inRecap = true
		case !inRecap:
		case strings.TrimSpace(line) == "":
			inRecap = false
		default:
			if err := addRecapLine(recap, line); err != nil {
				return nil, fmt.Errorf("PLAY RECAP: %w", err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading output: %w", err)
	}
	return recap, nil
}

// diffRecaps describes, host by host, how recap b (named bName) differs from recap a.
func diffRecaps(aName string, a map[string]hostStats, bName string, b map[string]hostStats) string {
	hosts := slices.Collect(maps.Keys(a))
	for h := range b {
		if _, ok := a[h]; !ok {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	show := func(r map[string]hostStats, h string) string {
		if s, ok := r[h]; ok {
			return s.String()
		}
		return "(no recap line)"
	}
	var out strings.Builder
	for _, h := range hosts {
		if sa, sb := show(a, h), show(b, h); sa != sb {
			fmt.Fprintf(&out, "  %s:\n    %-7s %s\n    %-7s %s\n", h, aName, sa, bName, sb)
		}
	}
	if out.Len() == 0 {
		return "  (recaps agree)\n"
	}
	return out.String()
}

func TestParseRecap(t *testing.T) {
	const ansibleOut = `PLAY [p] ***********************************************************************

TASK [t] ***********************************************************************
ok: [h1]

PLAY RECAP *********************************************************************
dead                       : ok=2    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   
h1                         : ok=5    changed=1    unreachable=0    failed=0    skipped=3    rescued=1    ignored=4   

CUSTOM STATS: ******************************************************************
	RUN: { "deployed": 1}
`
	tests := []struct {
		name    string
		out     string
		want    map[string]hostStats
		wantErr string
	}{
		{
			name: "default callback layout, section ends at the blank line",
			out:  ansibleOut,
			want: map[string]hostStats{
				"dead": {OK: 2, Unreachable: 1},
				"h1":   {OK: 5, Changed: 1, Skipped: 3, Rescued: 1, Ignored: 4},
			},
		},
		{
			name: "host name longer than the padding",
			out:  "PLAY RECAP ***\nweb-server-01.example.internal : ok=1    changed=0    unreachable=0    failed=2    skipped=0    rescued=0    ignored=0\n",
			want: map[string]hostStats{"web-server-01.example.internal": {OK: 1, Failed: 2}},
		},
		{
			name: "run stopped before its recap",
			out:  "ERROR! couldn't resolve module/action 'no_such_module'\n",
			want: map[string]hostStats{},
		},
		{
			name: "recap of a run that matched no host",
			out:  "PLAY [p] ***\nskipping: no hosts matched\n\nPLAY RECAP ***\n\n",
			want: map[string]hostStats{},
		},
		{
			name:    "malformed line inside the recap",
			out:     "PLAY RECAP ***\nh1 : ok=1 changed=0 failed=0\n",
			wantErr: "not a recap line",
		},
		{
			name:    "host listed twice",
			out:     "PLAY RECAP ***\nh1 : ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\nh1 : ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n",
			wantErr: "two recap lines",
		},
		{
			name:    "two recaps",
			out:     "PLAY RECAP ***\n\nPLAY RECAP ***\n",
			wantErr: "more than one PLAY RECAP",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRecap(tt.out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseRecap error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRecap: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("parseRecap = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseCompatHeader(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    compatCase
		wantErr string
	}{
		{
			name: "args, rc and recap; compat lines after the comment block are ignored",
			src: `# Pins something: with a colon in the prose.
# compat-args: --tags web  -e x=1
# compat-rc: 2
# compat-recap: h1 : ok=1 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0
- hosts: h1
# compat-rc: 7
`,
			want: compatCase{
				args:         []string{"--tags", "web", "-e", "x=1"},
				compatResult: compatResult{rc: 2, recap: map[string]hostStats{"h1": {OK: 1, Failed: 1}}},
			},
		},
		{
			name: "no recap lines: the run stops before its recap",
			src:  "# compat-rc: 4\n- hosts: h1\n",
			want: compatCase{compatResult: compatResult{rc: 4, recap: map[string]hostStats{}}},
		},
		{
			name: "an SSH result of its own",
			src:  "# compat-rc: 0\n# compat-recap: h1 : ok=2 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n# compat-ssh-rc: 2\n# compat-ssh-recap: h1 : ok=1 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n",
			want: compatCase{compatResult: compatResult{rc: 0, recap: map[string]hostStats{"h1": {OK: 2}}},
				ssh: &compatResult{rc: 2, recap: map[string]hostStats{"h1": {OK: 1, Failed: 1}}}},
		},
		{
			name:    "an SSH recap without its rc",
			src:     "# compat-rc: 0\n# compat-ssh-recap: h1 : ok=1 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n",
			wantErr: "no \"# compat-ssh-rc: N\" line",
		},
		{
			name:    "rc missing",
			src:     "# compat-args: -e x=1\n- hosts: h1\n",
			wantErr: "no \"# compat-rc: N\" line",
		},
		{
			name:    "misspelt key",
			src:     "# compat-rc: 0\n# compat-arg: -e x=1\n",
			wantErr: "x.yml:2: unknown header key \"compat-arg\"",
		},
		{
			name:    "bad recap line",
			src:     "# compat-rc: 0\n# compat-recap: h1 ok=1\n",
			wantErr: "x.yml:2: not a recap line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCompatHeader("x.yml", tt.src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseCompatHeader error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseCompatHeader: %v", err)
			}
			if !slices.Equal(got.args, tt.want.args) || !sameResult(got.want(false), tt.want.want(false)) || !sameResult(got.want(true), tt.want.want(true)) {
				t.Errorf("parseCompatHeader = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDiffRecapsNamesOnlyDifferingHosts(t *testing.T) {
	a := map[string]hostStats{"h1": {OK: 1}, "h2": {OK: 2}}
	b := map[string]hostStats{"h1": {OK: 1}, "h2": {OK: 3}, "h3": {Failed: 1}}
	got := diffRecaps("ansible", a, "tally", b)
	want := "  h2:\n    ansible ok=2 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n" +
		"    tally   ok=3 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n" +
		"  h3:\n    ansible (no recap line)\n" +
		"    tally   ok=0 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n"
	if got != want {
		t.Errorf("diffRecaps =\n%s\nwant\n%s", got, want)
	}
}

func sameResult(a, b compatResult) bool { return a.rc == b.rc && maps.Equal(a.recap, b.recap) }

// TestWithCompatResultReplacesRecordedResult pins -update-compat's rewriting of a header: the
// local run replaces compat-rc and compat-recap; the SSH run adds compat-ssh-* lines where it
// differs from the local result and removes them where it agrees again.
func TestWithCompatResultReplacesRecordedResult(t *testing.T) {
	src := "# Pins x.\n# compat-args: -e a=1\n# compat-rc: 0\n# compat-recap: old : ok=9 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n- hosts: h1\n  # compat-rc: 5\n"
	local := runResult{rc: 2, recap: map[string]hostStats{"h2": {OK: 1}, "h1": {Failed: 1}}}
	overSSH := runResult{rc: 4, recap: map[string]hostStats{"h1": {Unreachable: 1}}}
	recapLines := "# compat-recap: h1 : ok=0 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n" +
		"# compat-recap: h2 : ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n"
	sshLines := "# compat-ssh-rc: 4\n# compat-ssh-recap: h1 : ok=0 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0\n"
	tail := "- hosts: h1\n  # compat-rc: 5\n"
	head := "# Pins x.\n# compat-args: -e a=1\n# compat-rc: 2\n" + recapLines
	update := func(src string, ssh bool, r runResult) string {
		t.Helper()
		c, err := parseCompatHeader("x.yml", src)
		if err != nil {
			t.Fatal(err)
		}
		return withCompatResult(src, c.recorded(ssh, r))
	}
	for _, step := range []struct {
		name string
		ssh  bool
		run  runResult
		want string
	}{
		{"the local run", false, local, head + tail},
		{"an SSH run that differs", true, overSSH, head + sshLines + tail},
		{"the local run again keeps the SSH lines", false, local, head + sshLines + tail},
		{"an SSH run that agrees", true, local, head + tail},
	} {
		got := update(src, step.ssh, step.run)
		if got != step.want {
			t.Fatalf("%s: withCompatResult =\n%s\nwant\n%s", step.name, got, step.want)
		}
		c, err := parseCompatHeader("x.yml", got)
		if err != nil || !sameResult(c.want(step.ssh), compatResult{step.run.rc, step.run.recap}) {
			t.Errorf("%s: parseCompatHeader(withCompatResult(...)) = %+v, %v; want %+v", step.name, c, err, step.run)
		}
		src = got
	}
}

// TestListMatchesAnsible requires --list-tasks, --list-hosts and --list-tags to print what ansible-playbook
// prints for every compat playbook. Ansible lists a play's hosts in no fixed order (a Python
// set), so each play's host lines are compared sorted.
func TestListMatchesAnsible(t *testing.T) {
	ansible, tally := ansiblePlaybook(t), tallyBinary(t)
	setup := compatSetup{inventory: "inventory.ini"}
	eachCompatPlaybook(t, nil, func(t *testing.T, p compatPlaybook) {
		for _, flag := range []string{"--list-tasks", "--list-hosts", "--list-tags"} {
			args := append(slices.Clone(p.args), flag)
			ref := runPlaybook(t, setup, []string{ansible}, args, p.name)
			got := runPlaybook(t, setup, []string{tally, "run"}, args, p.name)
			if want, have := sortedHostLines(ref.stdout), sortedHostLines(got.stdout); ref.rc != got.rc || want != have {
				t.Errorf("%s differs from ansible-playbook's (rc %d, ansible-playbook %d):\n--- ansible-playbook\n%s--- tally\n%s", flag, got.rc, ref.rc, want, have)
			}
		}
	})
}

// sortedHostLines returns --list-hosts output with each play's host lines sorted.
func sortedHostLines(out string) string {
	lines := strings.SplitAfter(out, "\n")
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && strings.HasPrefix(lines[j], "      ") && !strings.Contains(lines[j], "\t") {
			j++
		}
		slices.Sort(lines[i:j])
		i = max(j, i+1)
	}
	return strings.Join(lines, "")
}
