// Command junit is an aggregate plugin that writes a JUnit XML report of a run into its granted
// directory, as Ansible's junit callback: one testsuite per playbook, one testcase per task and
// host ("[host] play: task", timed by the host's result), a failure for a failed task (an error when the module raised an
// exception), skipped for a skipped one, and the result as system-out. The file is
// <playbook>-<job_id>.xml.
//
// Differences from Ansible's junit: an unreachable host is a testcase with an error (Ansible
// leaves it out of the report), and the file is named by the job ID rather than the time.
//
// Options (Ansible's JUNIT_* settings): dir (required), fail_on_change, fail_on_ignore,
// include_setup_tasks_in_report, hide_task_arguments, task_class, test_case_prefix.
package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "junit",
	Version:     "1.0.0",
	Type:        meta.Aggregate,
	Description: "a JUnit XML report: a testcase per task and host, as Ansible's junit callback",
	Options: []meta.Option{
		{Name: "dir", Type: meta.Dir, Env: []string{"TALLY_JUNIT_DIR"}, Required: true, Description: "the directory of the reports"},
		{Name: "fail_on_change", Type: meta.Bool, Default: false, Env: []string{"TALLY_JUNIT_FAIL_ON_CHANGE"}, Description: "a changed result is a failure"},
		{Name: "fail_on_ignore", Type: meta.Bool, Default: false, Env: []string{"TALLY_JUNIT_FAIL_ON_IGNORE"}, Description: "an ignored failure is a failure"},
		{Name: "include_setup_tasks_in_report", Type: meta.Bool, Default: true, Env: []string{"TALLY_JUNIT_INCLUDE_SETUP_TASKS_IN_REPORT"}, Description: "report fact gathering"},
		{Name: "hide_task_arguments", Type: meta.Bool, Default: false, Env: []string{"TALLY_JUNIT_HIDE_TASK_ARGUMENTS"}, Description: "leave the arguments out of the testcase names"},
		{Name: "task_class", Type: meta.Bool, Default: false, Env: []string{"TALLY_JUNIT_TASK_CLASS"}, Description: "the classname is the task's file, without its line"},
		{Name: "test_case_prefix", Type: meta.Str, Default: "", Env: []string{"TALLY_JUNIT_TEST_CASE_PREFIX"}, Description: "report only tasks whose name starts with this (and failures)"},
	},
}

type task struct {
	name, path, play, action string
	cases                    []testCase
}

type plugin struct {
	c        *pluginsdk.Config
	playbook string // the playbook's file name without extension
	play     string
	tasks    []*task
	byUUID   map[string]*task
}

func (p *plugin) Configure(c *pluginsdk.Config) error {
	p.c, p.byUUID = c, map[string]*task{}
	return nil
}

func (p *plugin) PlaybookOnStart(e *event.Event) error {
	base := filepath.Base(e.Data.Playbook)
	p.playbook = strings.TrimSuffix(base, filepath.Ext(base))
	return nil
}

func (p *plugin) PlaybookOnPlayStart(e *event.Event) error { p.play = e.Data.Play; return nil }

func (p *plugin) PlaybookOnTaskStart(e *event.Event) error        { p.start(e); return nil }
func (p *plugin) PlaybookOnHandlerTaskStart(e *event.Event) error { p.start(e); return nil }

// start records a task the first time it starts (a serial play starts it once per batch).
func (p *plugin) start(e *event.Event) {
	t := e.Data.Task
	if t == nil || p.byUUID[t.UUID] != nil {
		return
	}
	name := t.Name
	if name == "" {
		name = t.Action
	}
	name = strings.TrimSpace(name)
	if !p.c.Bool("hide_task_arguments") && len(t.Args) > 0 {
		var args []string
		for k, v := range t.Args {
			args = append(args, k+"="+pytext.Str(v))
		}
		slices.Sort(args)
		name += " " + strings.Join(args, ", ")
	}
	tk := &task{name: name, path: t.Path, play: p.play, action: t.Action}
	p.byUUID[t.UUID] = tk
	p.tasks = append(p.tasks, tk)
}

func (p *plugin) RunnerOnOK(e *event.Event) error { return p.finish(e, "ok") }
func (p *plugin) RunnerOnFailed(e *event.Event) error {
	if e.Data.IgnoreErrors && !p.c.Bool("fail_on_ignore") {
		return p.finish(e, "ok")
	}
	return p.finish(e, "failed")
}
func (p *plugin) RunnerOnSkipped(e *event.Event) error     { return p.finish(e, "skipped") }
func (p *plugin) RunnerOnUnreachable(e *event.Event) error { return p.finish(e, "unreachable") }

// finish records one host's result of a task, as junit.py's _finish_task and _build_test_case.
func (p *plugin) finish(e *event.Event, status string) error {
	if e.Data.Task == nil {
		return nil
	}
	t := p.byUUID[e.Data.Task.UUID]
	if t == nil {
		return nil
	}
	res := e.Data.Result
	if status == "ok" && p.c.Bool("fail_on_change") && res["changed"] == true {
		status = "failed"
	}
	switch {
	case status == "failed" && strings.Contains(t.name, "EXPECTED FAILURE"):
		status = "ok"
	case strings.Contains(t.name, "TOGGLE RESULT") && status == "failed":
		status = "ok"
	case strings.Contains(t.name, "TOGGLE RESULT") && status == "ok":
		status = "failed"
	}
	if !strings.HasPrefix(t.name, p.c.String("test_case_prefix")) && status != "failed" {
		return nil
	}
	classname := t.path
	if p.c.Bool("task_class") {
		classname = lineSuffix.ReplaceAllString(classname, "")
	}
	tc := testCase{Name: fmt.Sprintf("[%s] %s: %s", e.Data.Host, t.play, t.name), Classname: classname,
		Time: fmt.Sprintf("%.3f", max(e.Data.Duration, 0))}
	dump := dumpResult(res)
	switch status {
	case "ok":
		tc.SystemOut = dump
	case "failed":
		if exc, ok := res["exception"]; ok {
			text := pytext.Str(exc)
			lines := strings.Split(strings.TrimSpace(text), "\n")
			tc.Errors = append(tc.Errors, result{Message: lines[len(lines)-1], Text: text})
		} else if msg, ok := res["msg"]; ok {
			tc.Failures = append(tc.Failures, result{Message: pytext.Str(msg), Text: dump})
		} else {
			rc := any(0)
			if v, ok := res["rc"]; ok {
				rc = v
			}
			tc.Failures = append(tc.Failures, result{Message: "rc=" + pytext.Str(rc), Text: dump})
		}
	case "skipped":
		reason := "skipped"
		if r, ok := res["skip_reason"]; ok {
			reason = pytext.Str(r)
		}
		tc.Skipped = &reason
	case "unreachable":
		tc.Errors = append(tc.Errors, result{Message: pytext.Str(res["msg"]), Text: dump})
	}
	t.cases = append(t.cases, tc)
	return nil
}

// lineSuffix is the ":line" of a task's path.
var lineSuffix = regexp.MustCompile(`\.yml:[0-9]+$`)

// dumpResult is the callback's _dump_results(res, indent=0): the result's JSON without the
// internal keys.
func dumpResult(res map[string]any) string {
	s, _ := pytext.DumpJSON(res, pytext.JSONOptions{SkipKey: func(k string) bool { return strings.HasPrefix(k, "_ansible_") }})
	return s
}

func (p *plugin) PlaybookOnStats(e *event.Event) error {
	suite := testSuite{Name: p.playbook}
	var total float64
	for _, t := range p.tasks {
		if (t.action == "gather_facts" || t.action == "setup") && !p.c.Bool("include_setup_tasks_in_report") {
			continue
		}
		for _, tc := range t.cases {
			suite.Cases = append(suite.Cases, tc)
			switch {
			case len(tc.Errors) > 0:
				suite.Errors++
			case len(tc.Failures) > 0:
				suite.Failures++
			case tc.Skipped != nil:
				suite.Skipped++
			}
			var secs float64
			fmt.Sscan(tc.Time, &secs)
			total += secs
		}
	}
	suite.Tests = len(suite.Cases)
	suite.Time = fmt.Sprintf("%.3f", total)
	doc := testSuites{Suites: []testSuite{suite}, Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped, Time: suite.Time}
	out, err := xml.MarshalIndent(doc, "", "\t")
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	name := filepath.Join(p.c.String("dir"), p.playbook+"-"+e.JobID+".xml")
	return os.WriteFile(name, append([]byte(xml.Header), append(out, '\n')...), 0o644)
}

type testSuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Suites   []testSuite `xml:"testsuite"`
}

type testSuite struct {
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Cases    []testCase `xml:"testcase"`
}

type testCase struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Skipped   *string  `xml:"skipped,omitempty"`
	Errors    []result `xml:"error"`
	Failures  []result `xml:"failure"`
	SystemOut string   `xml:"system-out,omitempty"`
}

type result struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}
