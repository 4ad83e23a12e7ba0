package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ansibleTarget is one of ansible-core's integration targets that TestAnsibleTargets runs.
// Targets are role-shaped (tasks/main.yml); the harness imports that file into a play on
// testhost instead of running the target's runme.sh or its meta dependencies.
type ansibleTarget struct {
	name string
	// vars are what the target's setup_* and prepare_* dependencies would have set; the
	// harness always sets remote_tmp_dir and output_dir to a fresh directory.
	vars map[string]string
	// noFacts runs the play with gather_facts: false (the target's aliases say
	// gather_facts/no).
	noFacts bool
	// minAsserts is the number of asserts tally passed when the target was added or last
	// improved: fewer is a regression and fails the test.
	minAsserts int
	// note says what keeps tally from passing what ansible-playbook passes, if anything.
	note string
}

// ansibleTargets is the list of targets the harness runs. Add a target here, with its
// measured minAsserts and a note on what tally lacks for it; docs/compatibility.md records
// the figures of the whole list.
var ansibleTargets = []ansibleTarget{
	{name: "async", note: "the target's own module async_test (library/)"},
	{name: "changed_when", note: "module group_by"},
	{name: "failed_when", minAsserts: 5},
	{name: "ignore_errors"},
	{name: "loop-until"},
	{name: "templating", minAsserts: 2, note: "selectattr with an unknown test name in a template file"},
	{name: "filter_core", note: "lookup('env'); setup_passlib installs passlib"},
	{name: "filter_mathstuff", note: "module include_vars"},
	{name: "dict_transformations", note: "the target's own module convert_snake_case (library/)"},
	{name: "groupby_filter", minAsserts: 1},
	{name: "command_shell", minAsserts: 6, note: "command with no command: the task's result"},
	{name: "copy", note: "module user (setup_nobody)"},
	{name: "file", note: "module user (setup_nobody)"},
	{name: "lineinfile", minAsserts: 1, note: "the diff keyword"},
	{name: "stat", minAsserts: 3},
	{name: "template", note: "module group"},
	{name: "split", noFacts: true, note: "fact ansible_python"},
	{name: "ping", minAsserts: 3},
	{name: "shell", note: "the target's own module test_shell (library/)"},
}

// targetsEnv names the directory of ansible-core's test/integration/targets.
const targetsEnv = "TALLY_ANSIBLE_TARGETS"

// targetTimeout bounds one run of one target; ansible-playbook takes minutes on some.
const targetTimeout = 20 * time.Minute

// targetResult is what one run of a target gave.
type targetResult struct {
	rc      int
	asserts int // "All assertions passed" results
	ok      int // recap counters of testhost
	failed  int
	out     string
}

func (r targetResult) String() string {
	return fmt.Sprintf("asserts=%d ok=%d failed=%d rc=%d", r.asserts, r.ok, r.failed, r.rc)
}

// TestAnsibleTargets runs each target of ansibleTargets from the directory that
// TALLY_ANSIBLE_TARGETS names under ansible-playbook and under tally, each in a fresh copy of
// the target, and reports per target the asserts passed and the recap of each. It fails when
// tally passes fewer asserts on a target than the table records.
func TestAnsibleTargets(t *testing.T) {
	root := os.Getenv(targetsEnv)
	if root == "" {
		t.Skipf("%s is not set: set it to ansible-core 2.14's test/integration/targets to run Ansible's own tests", targetsEnv)
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		t.Skipf("%s=%s is not a directory", targetsEnv, root)
	}
	ansible, tally := ansiblePlaybook(t), tallyBinary(t)
	var report strings.Builder
	fmt.Fprintf(&report, "%-22s %-40s %-40s\n", "target", "ansible-playbook", "tally")
	var sumA, sumT, passA, passT int
	for _, tg := range ansibleTargets {
		t.Run(tg.name, func(t *testing.T) {
			src := filepath.Join(root, tg.name)
			if _, err := os.Stat(filepath.Join(src, "tasks", "main.yml")); err != nil {
				t.Fatalf("%s has no tasks/main.yml", src)
			}
			ref := runTarget(t, []string{ansible}, src, tg)
			got := runTarget(t, []string{tally, "run"}, src, tg)
			fmt.Fprintf(&report, "%-22s %-40s %-40s %s\n", tg.name, ref, got, tg.note)
			t.Logf("ansible-playbook: %s; tally: %s", ref, got)
			sumA, sumT = sumA+ref.asserts, sumT+got.asserts
			if ref.rc == 0 {
				passA++
			}
			if got.rc == 0 {
				passT++
			}
			if got.asserts < tg.minAsserts {
				t.Errorf("tally passed %d asserts of %s, fewer than the %d recorded\n%s", got.asserts, tg.name, tg.minAsserts, got.out)
			}
		})
	}
	fmt.Fprintf(&report, "total: ansible-playbook passed %d asserts (%d of %d targets ran clean), tally %d (%d targets)\n",
		sumA, passA, len(ansibleTargets), sumT, passT)
	t.Log("\n" + report.String())
}

// runTarget runs target tg (at src) with command in a fresh copy of it.
func runTarget(t *testing.T, command []string, src string, tg ansibleTarget) targetResult {
	t.Helper()
	work := t.TempDir()
	dir := filepath.Join(work, tg.name)
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	tmp := filepath.Join(work, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(work, "inventory.ini")
	invText := "testhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n" +
		"localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
	if err := os.WriteFile(inv, []byte(invText), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "harness.yml"), []byte(harnessPlaybook(dir, tmp, tg)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), targetTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, command[0], append(command[1:], "-i", inv, "harness.yml")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), compatEnv...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r := targetResult{out: out.String(), asserts: strings.Count(out.String(), "All assertions passed")}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		r.rc = exitErr.ExitCode()
	default:
		r.rc = -1 // timed out or could not start
	}
	if recap, err := parseRecap(r.out); err == nil {
		r.ok, r.failed = recap["testhost"].OK, recap["testhost"].Failed
	}
	return r
}

// harnessPlaybook is the play that runs a target's tasks/main.yml (with its defaults, vars
// and handlers) on testhost.
func harnessPlaybook(dir, tmp string, tg ansibleTarget) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- hosts: testhost\n  gather_facts: %t\n  vars:\n", !tg.noFacts)
	fmt.Fprintf(&b, "    remote_tmp_dir: %q\n    output_dir: %q\n", tmp, tmp)
	for k, v := range tg.vars {
		fmt.Fprintf(&b, "    %s: %q\n", k, v)
	}
	var files []string
	for _, f := range []string{"defaults/main.yml", "vars/main.yml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			files = append(files, f)
		}
	}
	if len(files) > 0 {
		fmt.Fprintf(&b, "  vars_files: [%s]\n", strings.Join(files, ", "))
	}
	b.WriteString("  tasks:\n    - import_tasks: tasks/main.yml\n")
	if _, err := os.Stat(filepath.Join(dir, "handlers", "main.yml")); err == nil {
		b.WriteString("  handlers:\n    - import_tasks: handlers/main.yml\n")
	}
	return b.String()
}
