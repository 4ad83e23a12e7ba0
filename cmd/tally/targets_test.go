package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// targetsDir holds the vendored integration targets of ansible-core 2.14 (targets/) and
// ansible-playbook's recorded results on them (results/).
const targetsDir = "../../testdata/ansible-targets"

// targetTimeout bounds one run of one case: a hang fails that case instead of the test binary.
// tally's runs take seconds; the bound is generous for a loaded machine.
// ansible-playbook takes minutes on some targets (loop-until, file), hence its longer bound.
const targetTimeout, ansibleTargetTimeout = 5 * time.Minute, 20 * time.Minute

var updateTargets = flag.Bool("update-targets", false,
	"re-run ansible-playbook on the vendored Ansible integration targets and rewrite testdata/ansible-targets/results, without running tally")

// ansibleTarget is one vendored integration target. A target with tasks/main.yml is
// role-shaped: the harness imports that file into a play on testhost instead of running its
// runme.sh or meta dependencies. A target without one is a script target: each plain
// ansible-playbook line of its runme.sh is a case (see runmeCases).
type ansibleTarget struct {
	name string
	// vars are what a role-shaped target's setup_* and prepare_* dependencies would have
	// set; the harness always sets remote_tmp_dir and output_dir to a fresh directory.
	vars map[string]any
	// noFacts runs the play with gather_facts: false (the target's aliases say
	// gather_facts/no).
	noFacts bool
	// cleanup are commands run after each case, whatever its outcome, to undo what the
	// target does to the machine outside its directories.
	cleanup [][]string
	// exclusive runs the target's cases while no other case runs: its tasks read state that
	// the others change (changed_when's `ls -al /tmp` fails when another case removes its
	// directory in /tmp between ls's listing and its stat).
	exclusive bool
}

// testUser stands for what setup_test_user would create: nobody, which every machine has.
var testUser = map[string]any{
	"test_user_name":               "nobody",
	"test_user_group":              nil,
	"test_user_plaintext_password": "",
	"test_user":                    map[string]any{"name": "nobody", "home": "/nonexistent"},
}

// ansibleTargets are the targets TestAnsibleTargets runs, each vendored verbatim under
// testdata/ansible-targets/targets. Left out, and why: testdata/ansible-targets/README.md.
var ansibleTargets = []ansibleTarget{
	// role_path null: the nested ansible-playbook that tasks/main.yml:294 runs with it did not
	// finish within ansibleTargetTimeout under -update-targets (the case is excused anyway)
	{name: "async", vars: map[string]any{"role_path": nil}},
	{name: "changed_when", exclusive: true},
	{name: "failed_when"},
	{name: "ignore_errors"},
	{name: "templating"},
	{name: "filter_core"},
	{name: "filter_mathstuff"},
	{name: "dict_transformations"},
	{name: "groupby_filter"},
	{name: "command_shell"},
	{name: "copy"},
	{name: "stat"},
	{name: "template"},
	{name: "split", noFacts: true},
	{name: "ping"},
	{name: "shell"},
	{name: "roles"},
	{name: "include_import"},
	{name: "roles_var_inheritance"},
	{name: "roles_arg_spec"},
	{name: "var_precedence"},
	{name: "loops"},
	{name: "check_mode"},
	{name: "include_vars"},
	{name: "add_host"},
	{name: "lookup_items"},
	{name: "lookup_sequence"},
	{name: "lookup_together"},
	{name: "lookup_nested"},
	{name: "lookup_subelements"},
	{name: "lookup_indexed_items"},
	{name: "lookup_dict"},
	{name: "lookup_lines"},
	{name: "lookup_list"},
	{name: "lookup_fileglob"},
	{name: "lookup_first_found"},
	{name: "lookup_file"},
	{name: "lookup_template"},
	{name: "lookup_vars"},
	{name: "lookup_env"},
	{name: "lookup_pipe"},
	{name: "lookup_password"},
	{name: "lookup_ini"},
	{name: "lookup_csvfile"},
	{name: "lookup_unvault"},
	{name: "replace"},
	{name: "blockinfile"},
	{name: "lineinfile"},
	{name: "loop-until"},
	{name: "slurp", vars: testUser},
	{name: "tempfile"},
	{name: "assemble"},
	{name: "find"},
	{name: "unarchive", vars: testUser},
	{name: "getent"},
	{name: "known_hosts"},
	{name: "group", cleanup: [][]string{{"groupdel", "ansibullgroup"}, {"groupdel", "ansibullgroup2"}, {"groupdel", "ansibullgroup3"}}},
}

// targetException is a task that passes under ansible-playbook and not (yet) under tally.
// task is the task's file:line in the target, a case's name for every task of that case, or
// "" for every task of the target.
type targetException struct {
	target, task, reason string
}

// targetExceptions are mirrored in docs/compatibility.md ("Ansible's own integration tests").
// An exception that passes is only logged, to be removed.
var targetExceptions = []targetException{
	{"shell", "main", "ERROR! tasks/main.yml:3: couldn't resolve module/action 'test_shell'. This often indicates a misspelling, miss"},
	{"copy", "main", "ERROR! tasks/acls.yml:3: tally does not support module 'apt' yet (see docs/modules.md)"},
	{"dict_transformations", "main", "ERROR! tasks/test_convert_snake_case.yml:1: couldn't resolve module/action 'convert_snake_case'. This often in"},
	{"async", "main", "ERROR! tasks/main.yml:115: couldn't resolve module/action 'async_test'. This often indicates a misspelling, mi"},
	{"unarchive", "main", "ERROR! tasks/prepare_tests.yml:6: tally does not support module 'package' yet (see docs/modules.md)"},
	{"loops", "tasks/main.yml:389", "hostvars[host][var] gives a play variable's templated value, where Ansible leaves it as the reference (ansible issue 64169)"},
	{"template", "tasks/main.yml:797", "type_debug names Python's classes: tally's values carry no NativeJinjaUnsafeText"},
	{"template", "tasks/main.yml:805", "not reached: the play stops at tasks/main.yml:797"},
	{"include_import", "01_test_import_playbook", "ERROR! playbook/sub_playbook/sub_playbook.yml:4: couldn't resolve module/action 'helloworld'. This often indic"},
}

// targetCase is one run of a target: a playbook, relative to the target's directory, with
// arguments and environment.
type targetCase struct {
	Name     string   `json:"name"`
	Playbook string   `json:"playbook"`
	Args     []string `json:"args,omitempty"`
	Env      []string `json:"env,omitempty"`
	// harness is the play a role-shaped target's case writes as its playbook.
	harness string
}

// targetTask is the outcome of one task on one host in a run: its status over all its runs,
// the worst first (see worseStatus).
type targetTask struct {
	Host   string `json:"host"`
	Path   string `json:"path"` // file:line, relative to the target's directory
	Name   string `json:"name"`
	Action string `json:"action"`
	Status string `json:"status"`
	msg    string // a failure's message, for the test's report
}

// key identifies a task on a host across runs: by its file:line, as tally and Ansible may
// template its name differently.
func (k targetTask) key() string {
	if k.Path == "" {
		return k.Host + " [" + k.Name + "]"
	}
	return k.Host + " " + k.Path
}

// passed says whether the task passed: it ran and never failed.
func (k targetTask) passed() bool { return k.Status == "ok" || k.Status == "changed" }

// caseResult is what one run of a case gave.
type caseResult struct {
	caseHead
	Tasks []targetTask `json:"tasks"`
	out   string
}

// caseHead is a case and its exit code and recap.
type caseHead struct {
	targetCase
	RC    int               `json:"rc"`
	Recap map[string]string `json:"recap"`
}

// targetResults is a target's golden file, results/NAME.json: ansible-playbook's results.
type targetResults struct {
	// SkippedLines counts the ansible-playbook lines of runme.sh that are no case.
	SkippedLines int          `json:"skipped_lines"`
	Cases        []caseResult `json:"cases"`
}

// TestAnsibleTargets runs every case of every vendored target under tally, each in a fresh copy
// of the target, and requires every task that passed under ansible-playbook (as recorded in
// results/) to pass under tally, but for targetExceptions. With -update-targets it runs
// ansible-playbook instead (through tally's ansible engine, for the events) and rewrites
// results/.
func TestAnsibleTargets(t *testing.T) {
	if *updateTargets {
		ansiblePlaybook(t)
	} else if testing.Short() {
		t.Skip("runs the Ansible integration targets: skipped with -short")
	}
	tally := tallyBinary(t)
	sem := make(chan struct{}, compatParallel)
	// alone is held for reading by every case and for writing by an exclusive target's.
	var alone sync.RWMutex
	var mu sync.Mutex
	rows := map[string]targetRow{}
	t.Run("targets", func(t *testing.T) {
		for _, tg := range ansibleTargets {
			t.Run(tg.name, func(t *testing.T) {
				t.Parallel()
				src := filepath.Join(targetsDir, "targets", tg.name)
				cases, skipped, err := targetCases(src, tg)
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join(targetsDir, "results", tg.name+".json")
				var want targetResults
				if !*updateTargets {
					if want, err = readTargetResults(golden); err != nil {
						t.Fatalf("%v (record it with -update-targets)", err)
					}
				}
				got := targetResults{SkippedLines: skipped, Cases: make([]caseResult, len(cases))}
				t.Run("cases", func(t *testing.T) {
					for i, c := range cases {
						t.Run(c.Name, func(t *testing.T) {
							t.Parallel()
							// Released by a cleanup, registered first so it runs last: after
							// the case's directories are removed.
							if tg.exclusive {
								alone.Lock()
								t.Cleanup(alone.Unlock)
							} else {
								alone.RLock()
								t.Cleanup(alone.RUnlock)
							}
							sem <- struct{}{}
							defer func() { <-sem }()
							command := []string{tally, "run"}
							if *updateTargets {
								command = append(command, "--engine", "ansible")
							}
							defer func() {
								for _, argv := range tg.cleanup {
									_ = exec.Command(argv[0], argv[1:]...).Run() // fails when there is nothing to undo
								}
							}()
							got.Cases[i] = runTargetCase(t, command, src, c)
						})
					}
				})
				if *updateTargets {
					if err := writeTargetResults(golden, got); err != nil {
						t.Fatal(err)
					}
					return
				}
				row := checkTarget(t, tg.name, want, got)
				mu.Lock()
				rows[tg.name] = row
				mu.Unlock()
			})
		}
	})
	if !*updateTargets {
		t.Log("\n" + targetsTable(rows))
	}
}

// runTargetCase runs case c of the target at src with command (tally run, with or without the
// ansible engine) in a fresh copy of the target, and reads its events.
func runTargetCase(t *testing.T, command []string, src string, c targetCase) caseResult {
	t.Helper()
	// The copy sits at WORK/targets/NAME so that runme.sh's ../../inventory is WORK/inventory.
	work := t.TempDir()
	dir := filepath.Join(work, "targets", filepath.Base(src))
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	tmp := filepath.Join(work, "tmp")
	arts := filepath.Join(work, "artifacts")
	for _, d := range []string{tmp, arts} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inv := "[testgroup]\ntesthost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n" +
		"[local]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
	if err := os.WriteFile(filepath.Join(work, "inventory"), []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	if c.harness != "" {
		if err := os.WriteFile(filepath.Join(dir, c.Playbook), []byte(strings.NewReplacer("@TMP@", tmp, "@DIR@", dir).Replace(c.harness)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append(slices.Clone(command[1:]), "--artifacts", arts)
	for _, a := range append(slices.Clone(c.Args), c.Playbook) {
		args = append(args, strings.ReplaceAll(a, "@TMP@", tmp))
	}
	timeout := targetTimeout
	if *updateTargets {
		timeout = ansibleTargetTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, command[0], args...)
	cmd.Dir = dir
	// ansible-test gives every target its output directory in OUTPUT_DIR too
	cmd.Env = append(append(os.Environ(), compatEnv...), append([]string{"OUTPUT_DIR=" + tmp}, c.Env...)...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r := caseResult{caseHead: caseHead{targetCase: c, Recap: map[string]string{}}, out: out.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		r.RC = exitErr.ExitCode()
	default:
		r.RC = -1 // timed out or could not start
		r.out += fmt.Sprintf("\n(harness: %v)", err)
	}
	if recap, err := parseRecap(r.out); err == nil {
		for h, s := range recap {
			r.Recap[h] = s.String()
		}
	}
	if entries, err := os.ReadDir(arts); err == nil && len(entries) == 1 {
		_, _, _, events := readArtifacts(t, arts)
		r.Tasks = targetTasks(events, dir)
	}
	return r
}

// targetTasks folds a run's result events into one entry per task and host, in the order
// they first ran, with their paths made relative to the target's directory dir.
func targetTasks(events []event.Event, dir string) []targetTask {
	var tasks []targetTask
	at := map[string]int{}
	for i := range events {
		e := &events[i]
		status := event.ResultStatus(e)
		if status == "" || e.Data.Task == nil {
			continue
		}
		k := targetTask{Host: e.Data.Host, Path: relTaskPath(e.Data.Task.Path, dir), Name: e.Data.Task.Name,
			Action: strings.TrimPrefix(e.Data.Task.Action, "ansible.builtin."), Status: status}
		if status == "failed" || status == "unreachable" {
			k.msg = fmt.Sprint(e.Data.Result["msg"])
		}
		if j, ok := at[k.key()]; ok {
			if worseStatus(tasks[j].Status, status) != tasks[j].Status {
				tasks[j].Status, tasks[j].msg = status, k.msg
			}
			continue
		}
		at[k.key()] = len(tasks)
		tasks = append(tasks, k)
	}
	return tasks
}

// relTaskPath makes a task's file:line relative to dir (tally gives it relative to the run's
// directory, Ansible absolute); a file outside dir keeps only its base name.
func relTaskPath(path, dir string) string {
	i := strings.LastIndexByte(path, ':')
	if i < 0 {
		return path
	}
	file, line := path[:i], path[i:]
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	rel, err := filepath.Rel(dir, file)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = filepath.Base(file)
	}
	return rel + line
}

// statusRank orders statuses from best to worst, to fold a task's runs into one status.
var statusRank = []string{"skipped", "ok", "changed", "rescued", "ignored", "unreachable", "failed"}

func worseStatus(a, b string) string {
	if slices.Index(statusRank, b) > slices.Index(statusRank, a) {
		return b
	}
	return a
}

func readTargetResults(path string) (targetResults, error) {
	var r targetResults
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("reading ansible-playbook's results: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// writeTargetResults writes a golden file with a line per task, for readable diffs.
func writeTargetResults(path string, r targetResults) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"skipped_lines\": %d,\n  \"cases\": [", r.SkippedLines)
	for i, c := range r.Cases {
		head, err := json.Marshal(c.caseHead)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s\n    %s, \"tasks\": [", map[bool]string{true: ",", false: ""}[i > 0], head[:len(head)-1])
		for j, k := range c.Tasks {
			line, err := json.Marshal(k)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s\n      %s", map[bool]string{true: ",", false: ""}[j > 0], line)
		}
		b.WriteString("\n    ]}")
	}
	b.WriteString("\n  ]\n}\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// targetRow is a target's line of the report: tasks and asserts that passed under
// ansible-playbook (recorded) and, of those, under tally.
type targetRow struct {
	cases, skippedLines                           int
	passedA, passedT, assertsA, assertsT, excused int
}

// checkTarget compares tally's run of a target (got) with ansible-playbook's (want): each task
// that passed under ansible-playbook must pass under tally, unless an exception names it.
func checkTarget(t *testing.T, target string, want, got targetResults) targetRow {
	t.Helper()
	row := targetRow{cases: len(got.Cases), skippedLines: got.SkippedLines}
	names := func(r targetResults) (n []string) {
		for _, c := range r.Cases {
			n = append(n, c.Name+" "+c.Playbook+" "+strings.Join(c.Args, " ")+" "+strings.Join(c.Env, " "))
		}
		return n
	}
	if !slices.Equal(names(want), names(got)) {
		t.Fatalf("the cases of %s are not those recorded (re-record with -update-targets):\nrecorded %q\nnow      %q", target, names(want), names(got))
	}
	excusedPass := map[targetException]bool{}
	for i, w := range want.Cases {
		g := got.Cases[i]
		ran := map[string]targetTask{}
		// A play stopped by an excused failure does not run the tasks after it: they are
		// excused with it.
		var stopper *targetException
		for _, k := range g.Tasks {
			ran[k.key()] = k
			if ex, ok := findTargetException(target, w.Name, k.Path); ok && (k.Status == "failed" || k.Status == "unreachable") {
				stopper = &ex
			}
		}
		var missed []string
		for _, k := range w.Tasks {
			if !k.passed() {
				continue
			}
			row.passedA++
			isAssert := k.Action == "assert"
			if isAssert {
				row.assertsA++
			}
			r, didRun := ran[k.key()]
			ok := didRun && r.passed()
			if ok {
				row.passedT++
				if isAssert {
					row.assertsT++
				}
			}
			ex, excused := findTargetException(target, w.Name, k.Path)
			if !excused && !didRun && stopper != nil {
				ex, excused = *stopper, true
			}
			if excused {
				excusedPass[ex] = excusedPass[ex] || !ok
				if !ok {
					row.excused++
				}
				continue
			}
			if !ok {
				s := "not run"
				if didRun {
					s = r.Status + " " + strings.ReplaceAll(r.msg, "\n", " ")
				}
				missed = append(missed, fmt.Sprintf("%s %s [%s] (%s): %.200s", k.Host, k.Path, k.Name, k.Action, s))
			}
		}
		if len(missed) > 0 {
			t.Errorf("%s, case %s: %d tasks passed under ansible-playbook and not under tally (rc %d, ansible-playbook %d):\n  %s\n--- tally output\n%s",
				target, w.Name, len(missed), g.RC, w.RC, strings.Join(missed, "\n  "), g.out)
		}
	}
	for ex, failing := range excusedPass {
		if !failing {
			t.Logf("exception %s %q (%s) now passes: remove it", ex.target, ex.task, ex.reason)
		}
	}
	return row
}

// findTargetException returns the exception that covers the task at path in case c of target.
func findTargetException(target, c, path string) (targetException, bool) {
	for _, ex := range targetExceptions {
		if ex.target == target && (ex.task == "" || ex.task == c || ex.task == path) {
			return ex, true
		}
	}
	return targetException{}, false
}

// targetsTable is the report of a run, in the form of docs/compatibility.md's table.
func targetsTable(rows map[string]targetRow) string {
	var b strings.Builder
	b.WriteString("| target | cases | tasks passed: ansible-playbook | tally | asserts: ansible-playbook | tally | excused |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	var sum targetRow
	for _, tg := range ansibleTargets {
		r, ok := rows[tg.name]
		if !ok {
			continue
		}
		cases := fmt.Sprint(r.cases)
		if r.skippedLines > 0 {
			cases += fmt.Sprintf(" (%d lines skipped)", r.skippedLines)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d |\n", tg.name, cases, r.passedA, r.passedT, r.assertsA, r.assertsT, r.excused)
		sum.cases, sum.skippedLines = sum.cases+r.cases, sum.skippedLines+r.skippedLines
		sum.passedA, sum.passedT = sum.passedA+r.passedA, sum.passedT+r.passedT
		sum.assertsA, sum.assertsT, sum.excused = sum.assertsA+r.assertsA, sum.assertsT+r.assertsT, sum.excused+r.excused
	}
	fmt.Fprintf(&b, "| **total** | %d (%d lines skipped) | %d | %d | %d | %d | %d |\n", sum.cases, sum.skippedLines, sum.passedA, sum.passedT, sum.assertsA, sum.assertsT, sum.excused)
	return b.String()
}
