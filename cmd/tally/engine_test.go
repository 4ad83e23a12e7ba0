package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// crossCheckExceptions are the compat playbooks whose events under tally's engine differ from
// Ansible's, each with the reason (docs/compatibility.md). Their recap and exit code still
// must agree.
var crossCheckExceptions = map[string]string{
	"handler_missing": "a notify naming no handler is found once the task has run on every host, " +
		"after its result was reported; Ansible stops before its callbacks see the result",
	"with_loops": "with_random_choice picks its item at random under each engine",
}

// retriesVaryWithTiming are the compat playbooks whose until loops wait for something that
// takes its own time (a background job), so how many runner_retry events come before the
// result depends on how fast each engine reaches the task: the cross-check leaves those
// events out of both sequences and compares the rest.
var retriesVaryWithTiming = map[string]string{
	"async": "async_status polled with until finds the job finished after as many tries as it takes",
}

// TestEngineAnsibleMatchesAnsibleAndCrossChecksTallysEngine runs every compat playbook once
// under --engine ansible and once under tally's engine, both with --artifacts. The bridged run
// must give ansible-playbook's recap and exit code (recorded in the playbook's header), and no
// warning that the collector's count differs from Ansible's own recap. Then, host by host, the
// sequence of (event, task, status, item) that tally's engine emitted must be the one Ansible's
// callbacks saw: tally's engine checked event by event against Ansible, not only by its recap.
func TestEngineAnsibleMatchesAnsibleAndCrossChecksTallysEngine(t *testing.T) {
	ansiblePlaybook(t)
	tally := tallyBinary(t)
	setup := compatSetup{inventory: "inventory.ini"}
	eachCompatPlaybook(t, nil, func(t *testing.T, p compatPlaybook) {
		bridged, bridgedDir := runRecorded(t, setup, []string{tally, "run", "--engine", "ansible"}, p)
		aborted := len(p.recap) == 0 && p.rc != 0
		if bridged.rc != p.rc || !aborted && !maps.Equal(bridged.recap, p.recap) {
			t.Errorf("--engine ansible differs from ansible-playbook's recorded result on %s: rc %d, want %d\n%s",
				p.name, bridged.rc, p.rc, diffRecaps("header", p.recap, "bridged", bridged.recap))
		}
		if strings.Contains(bridged.stderr, "differs from Ansible's own recap") {
			t.Errorf("the collector's count of the bridged events differs from Ansible's recap:\n%s", bridged.stderr)
		}
		native, nativeDir := runRecorded(t, setup, []string{tally, "run"}, p)
		want, got := hostSequences(t, bridgedDir), hostSequences(t, nativeDir)
		name := strings.TrimSuffix(p.name, ".yml")
		if _, timed := retriesVaryWithTiming[name]; timed {
			dropRetries(want)
			dropRetries(got)
		}
		diff := diffSequences(want, got)
		reason, excepted := crossCheckExceptions[name]
		switch {
		case diff != "" && !excepted:
			t.Errorf("tally's engine emits other events than Ansible's callbacks see on %s:\n%s", p.name, diff)
		case diff == "" && excepted: // a random choice may agree by chance
			t.Logf("%s is listed as an exception (%s) but its events now agree: remove it from crossCheckExceptions", p.name, reason)
		}
		if t.Failed() {
			t.Logf("--engine ansible:\n%s", bridged.output())
			t.Logf("tally's engine:\n%s", native.output())
		}
	})
}

// runRecorded runs a compat playbook with command and --artifacts, and returns the run and the
// directory of its artifacts.
func runRecorded(t *testing.T, setup compatSetup, command []string, p compatPlaybook) (runResult, string) {
	t.Helper()
	dir := t.TempDir()
	r := runPlaybook(t, setup, append(slices.Clone(command), "--artifacts", dir), p.args, p.name)
	return r, dir
}

// step is what the cross-check compares of one event.
type step struct {
	event, task, status, item string
}

func (s step) String() string {
	out := s.event + " [" + s.task + "]"
	if s.status != "" {
		out += " " + s.status
	}
	if s.item != "" {
		out += " (item=" + s.item + ")"
	}
	return out
}

// hostSequences reads a run's events.jsonl and returns, per host, its events in order (none for
// a run without artifacts), the
// playbook_on_notify events last: tally's engine applies what a task left behind, notified
// handlers included, once the task has finished on every host (docs/design.md), so it notifies
// after the task's results where Ansible notifies just before the notifying result.
func hostSequences(t *testing.T, dir string) map[string][]step {
	t.Helper()
	out := map[string][]step{}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		return out // a file tally's engine cannot read stops it before the run starts
	}
	_, _, _, events := readArtifacts(t, dir)
	for i := range events {
		e := &events[i]
		if e.Data.Host == "" {
			continue
		}
		s := step{event: string(e.Event), status: event.ResultStatus(e)}
		if e.Data.Task != nil {
			s.task = e.Data.Task.Name
		}
		if strings.HasPrefix(s.event, "runner_item_") {
			s.status = "ok"
			if c, _ := e.Data.Result["changed"].(bool); c {
				s.status = "changed"
			}
		}
		s.item = itemOf(e.Data.Result)
		out[e.Data.Host] = append(out[e.Data.Host], s)
	}
	for h, steps := range out {
		notify := func(s step) bool { return s.event == string(event.PlaybookOnNotify) }
		out[h] = append(slices.DeleteFunc(slices.Clone(steps), notify), slices.DeleteFunc(steps, func(s step) bool { return !notify(s) })...)
	}
	return out
}

// dropRetries removes the runner_retry events from every host's sequence.
func dropRetries(seqs map[string][]step) {
	for h, steps := range seqs {
		seqs[h] = slices.DeleteFunc(steps, func(s step) bool { return s.event == string(event.RunnerRetry) })
	}
}

// itemOf is the loop item a result is for, as the display labels it; "" for none.
func itemOf(res map[string]any) string {
	v, ok := res["_ansible_item_label"]
	if !ok {
		loopVar, _ := res["ansible_loop_var"].(string)
		if v, ok = res[loopVar]; !ok || loopVar == "" {
			return ""
		}
	}
	data, _ := json.Marshal(v)
	return string(data)
}

// diffSequences describes, per host, where got first departs from want; "" when equal.
func diffSequences(want, got map[string][]step) string {
	hosts := slices.Sorted(maps.Keys(want))
	for h := range got {
		if _, ok := want[h]; !ok {
			hosts = append(hosts, h)
		}
	}
	var b strings.Builder
	for _, h := range hosts {
		w, g := want[h], got[h]
		i := 0
		for i < len(w) && i < len(g) && w[i] == g[i] {
			i++
		}
		if i == len(w) && i == len(g) {
			continue
		}
		show := func(s []step) string {
			if i < len(s) {
				return s[i].String()
			}
			return "(end)"
		}
		fmt.Fprintf(&b, "  %s, event %d of %d (ansible) / %d (tally):\n    ansible %s\n    tally   %s\n", h, i+1, len(w), len(g), show(w), show(g))
	}
	return b.String()
}

// TestEngineAnsibleRunsWhatTallysEngineDoesNot runs a playbook with a role from roles/ and a
// module from a collection, which tally's engine refuses, pointing to --engine ansible; under
// it the run gives ansible-playbook's own recap and exit code.
func TestEngineAnsibleRunsWhatTallysEngineDoesNot(t *testing.T) {
	ansible, tally := ansiblePlaybook(t), tallyBinary(t)
	playbook, err := filepath.Abs("testdata/engine/unsupported.yml")
	if err != nil {
		t.Fatal(err)
	}
	setup := compatSetup{inventory: "inventory.ini"}
	args := []string{"-l", "h1,h2"}
	native := runPlaybook(t, setup, []string{tally, "run"}, args, playbook)
	if native.rc != 4 || !strings.Contains(native.stderr, "--engine ansible") {
		t.Errorf("tally's engine: rc %d, want 4 and an error that points to --engine ansible\n%s", native.rc, native.output())
	}
	ref := runPlaybook(t, setup, []string{ansible}, args, playbook)
	got := runPlaybook(t, setup, []string{tally, "run", "--engine", "ansible"}, args, playbook)
	if len(ref.recap) != 2 || got.rc != ref.rc || !maps.Equal(got.recap, ref.recap) {
		t.Errorf("--engine ansible: rc %d, ansible-playbook %d\n%s\n%s", got.rc, ref.rc, diffRecaps("ansible", ref.recap, "bridged", got.recap), got.output())
	}
}

// TestEngineAnsibleInterruptDeliversStats interrupts ansible-playbook's run in its second task:
// ansible-playbook makes no stats call then, tally's collector does, with status interrupted,
// and tally exits 99 with its artifacts written.
func TestEngineAnsibleInterruptDeliversStats(t *testing.T) {
	dir, cmd := bridgedCommand(t, "testdata/interrupt.yml")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	signalAtSleep(cmd, stdout, syscall.SIGINT, &out)
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 99 {
		t.Fatalf("exit code %d (%v), want 99\n%s%s", code, err, out.String(), stderr.String())
	}
	if !strings.Contains(out.String(), "PLAY RECAP") || strings.Contains(out.String(), "never reached") {
		t.Errorf("output:\n%s\nstderr:\n%s", out.String(), stderr.String())
	}
	status, rc, stats, events := readArtifacts(t, dir)
	if status != "interrupted" || rc != "99" || stats["status"] != "interrupted" {
		t.Errorf("status %q rc %q stats.status %v", status, rc, stats["status"])
	}
	if last := events[len(events)-1]; last.Event != event.PlaybookOnStats || last.Seq != uint64(len(events)) {
		t.Errorf("last event %s seq %d of %d, want the stats call last", last.Event, last.Seq, len(events))
	}
}

// bridgedCommand is tally run --engine ansible of playbook on two local hosts, with its
// artifacts in dir.
func bridgedCommand(t *testing.T, playbook string) (dir string, cmd *exec.Cmd) {
	t.Helper()
	ansiblePlaybook(t)
	dir = t.TempDir()
	cmd = exec.Command(tallyBinary(t), "run", "--engine", "ansible", "-i", "h1,h2,", "-c", "local", "--artifacts", dir, playbook)
	cmd.Env = append(os.Environ(), compatEnv...)
	return dir, cmd
}

// TestEngineAnsibleKilledEndsWithError kills ansible-playbook mid-run: the run ends with
// status error, exit code 1, and the stats of what was seen, without waiting on the workers
// that outlive it.
func TestEngineAnsibleKilledEndsWithError(t *testing.T) {
	dir, cmd := bridgedCommand(t, "testdata/engine/crash.yml")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit code %d (%v), want 1\n%s", code, err, out)
	}
	status, rc, stats, _ := readArtifacts(t, dir)
	hosts, _ := stats["hosts"].(map[string]any)
	h1, _ := hosts["h1"].(map[string]any)
	if status != "error" || rc != "1" || h1["ok"] != 1.0 {
		t.Errorf("status %q rc %q stats %v, want error, 1 and h1's ok from the first task\n%s", status, rc, stats, out)
	}
}

// TestEngineAnsibleContainsAHostilePlugin runs a plugin that panics on the first task result
// under --engine ansible: it is disabled with one warning, and the run, its output and its
// exit code go on as without it.
func TestEngineAnsibleContainsAHostilePlugin(t *testing.T) {
	ansiblePlaybook(t)
	plugins := t.TempDir()
	plugintest.Install(t, plugins, "hostile", plugintest.Build(t, "../../host/pluginhost/testdata/plugins/hostile"))
	playbook := filepath.Join(t.TempDir(), "two.yml")
	writeFile(t, playbook, "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=one\n    - debug: msg=two\n")
	cmd := exec.Command(tallyBinary(t), "run", "--engine", "ansible", "-i", "h1,h2,", "-c", "local", "--callback-path", plugins,
		"--callbacks", "hostile", "--callback-opt", "hostile.mode=panic", "--callback-opt", "hostile.on=runner_on_ok", playbook)
	cmd.Env = append(os.Environ(), compatEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Count(string(out), "hostile failed on event") != 1 || !strings.Contains(string(out), "h2                         : ok=2") {
		t.Errorf("run: %v\n%s", err, out)
	}
}

// TestEngineAnsiblePluginDocumentsMatchTallysEngine runs compat playbooks under both engines
// with the json stdout plugin and the summary and junit plugins: each gives the same document
// up to what differs between any two runs (times, IDs, paths) and the module results' inner
// fields (Ansible's modules and tally's report some differently; docs/modules.md). The jsonl
// plugin writes what --artifacts writes, which the cross-check compares.
func TestEngineAnsiblePluginDocumentsMatchTallysEngine(t *testing.T) {
	ansiblePlaybook(t)
	plugins, tally := bundledPlugins(t), tallyBinary(t)
	eachCompatPlaybook(t, []string{"block_rescue", "handlers", "ignore_errors", "loops", "no_log", "set_fact_stats", "until_retries", "unreachable"}, func(t *testing.T, p compatPlaybook) {
		args := append(slices.Clone(p.args), "-f", "1")
		docs := func(engine string) (json, summary, junit string) {
			dir := t.TempDir()
			r := runPlaybook(t, compatSetup{inventory: "inventory.ini"}, []string{tally, "run", "--engine", engine, "--callback-path", plugins,
				"--stdout-callback", "json", "--callbacks", "summary,junit", "--callback-opt", "summary.dir=" + dir,
				"--callback-opt", "junit.dir=" + dir, "--callback-opt", "junit.hide_task_arguments=true"}, args, p.name)
			if r.rc != p.rc {
				t.Errorf("--engine %s: rc %d, want %d\n%s", engine, r.rc, p.rc, r.output())
			}
			return jsonSkeleton(t, engine, r.stdout), maskedDocument(t, dir, "*.json"), junitSkeleton(t, dir)
		}
		nj, ns, nx := docs("tally")
		aj, as, ax := docs("ansible")
		for _, d := range []struct{ name, want, got string }{{"json", aj, nj}, {"summary", as, ns}, {"junit", ax, nx}} {
			if d.want != d.got {
				t.Errorf("the %s plugin's document differs between the engines:\n%s", d.name, firstDiff(d.want, d.got))
			}
		}
	})
}

// maskedDocument reads the one JSON document matching pattern in dir, without the fields that
// differ between runs or engines, indented.
func maskedDocument(t *testing.T, dir, pattern string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(files) != 1 {
		t.Fatalf("%s in %s: %d files, want 1", pattern, dir, len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	var mask func(v any)
	mask = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "start", "end", "duration", "uuid", "job_id", "path", "created", "res":
					delete(x, k)
				default:
					mask(e)
				}
			}
		case []any:
			for _, e := range x {
				mask(e)
			}
		}
	}
	mask(doc)
	out, _ := json.MarshalIndent(doc, "", " ")
	return string(out)
}

// junitSkeleton reads the junit plugin's report in dir: per testcase, its name and outcome.
func junitSkeleton(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) != 1 {
		t.Fatalf("junit reports in %s: %d, want 1", dir, len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name     string   `xml:"name,attr"`
				Skipped  *string  `xml:"skipped"`
				Errors   []string `xml:"error"`
				Failures []string `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "tests=%d failures=%d errors=%d skipped=%d\n", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	for _, s := range doc.Suites {
		fmt.Fprintf(&b, "suite %s\n", s.Name)
		for _, c := range s.Cases {
			fmt.Fprintf(&b, "  %s skipped=%v errors=%d failures=%d\n", c.Name, c.Skipped != nil, len(c.Errors), len(c.Failures))
		}
	}
	return b.String()
}

// TestEngineAnsibleSSH runs the SSH compat suite (TestCompatSSH) with tally run --engine
// ansible: the bridged runs give ansible-playbook's recap and exit code over SSH too, as the
// headers record them, which checks the recorded SSH results against ansible-playbook itself.
func TestEngineAnsibleSSH(t *testing.T) {
	if *updateCompat {
		t.Skip("-update-compat records ansible-playbook's own runs (TestCompatSSH)")
	}
	setup := sshCompatSetup(t, "inventory.ini")
	setup.engine = "ansible"
	runCompat(t, setup)
}

func TestSplitEngineArgs(t *testing.T) {
	tests := []struct {
		name                string
		args                []string
		wantTally, wantPass []string
	}{
		{
			name:      "tally's own flags stay with tally, the shared ones go to both",
			args:      []string{"-i", "inv", "--job-id", "j1", "-vv", "--artifacts=runs", "--engine", "ansible", "site.yml"},
			wantTally: []string{"-i", "inv", "--job-id", "j1", "-vv", "--artifacts=runs", "--engine", "ansible", "site.yml"},
			wantPass:  []string{"-i", "inv", "-vv", "site.yml"},
		},
		{
			name:      "ansible-playbook's flags that tally lacks pass through, with their values",
			args:      []string{"--check", "-D", "--vault-id", "dev@prompt", "-M", "lib", "--start-at-task=x", "-e", "a=1", "site.yml"},
			wantTally: []string{"-e", "a=1", "site.yml"},
			wantPass:  []string{"--check", "-D", "--vault-id", "dev@prompt", "-M", "lib", "--start-at-task=x", "-e", "a=1", "site.yml"},
		},
		{
			name:      "everything after -- is ansible-playbook's",
			args:      []string{"--callbacks", "junit", "site.yml", "--", "--job-id", "not-tallys"},
			wantTally: []string{"--callbacks", "junit", "site.yml"},
			wantPass:  []string{"site.yml", "--job-id", "not-tallys"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f runFlags
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			fs.StringArrayVarP(&f.inventories, "inventory", "i", nil, "")
			fs.StringArrayVarP(&f.extraVars, "extra-vars", "e", nil, "")
			fs.StringVar(&f.jobID, "job-id", "", "")
			fs.StringVar(&f.artifacts, "artifacts", "", "")
			fs.CountVarP(&f.verbose, "verbose", "v", "")
			addCallbackFlags(fs, &f.callbacks)
			addEngineFlags(fs, &f)
			gotTally, gotPass := splitEngineArgs(fs, tt.args)
			if !slices.Equal(gotTally, tt.wantTally) || !slices.Equal(gotPass, tt.wantPass) {
				t.Errorf("splitEngineArgs =\n  tally   %q\n  ansible %q\nwant\n  tally   %q\n  ansible %q", gotTally, gotPass, tt.wantTally, tt.wantPass)
			}
			if err := fs.Parse(gotTally); err != nil {
				t.Errorf("tally's share does not parse: %v", err)
			}
		})
	}
}

func TestEngineOf(t *testing.T) {
	t.Setenv("TALLY_CONFIG", writeConfig(t, "engine: ansible\n"))
	t.Setenv("TALLY_ENGINE", "")
	for _, tt := range []struct {
		args    []string
		env     string
		want    string
		wantErr string
	}{
		{args: []string{"--engine", "tally", "x.yml"}, env: "ansible", want: "tally"},
		{args: []string{"--engine=ansible"}, want: "ansible"},
		{args: []string{"x.yml", "--", "--engine", "tally"}, env: "tally", want: "tally"},
		{args: []string{"x.yml"}, want: "ansible"}, // the configuration's
		{args: []string{"--engine", "python"}, wantErr: `--engine: unknown engine "python"`},
	} {
		t.Setenv("TALLY_ENGINE", tt.env)
		got, err := engineOf(tt.args)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("engineOf(%q) with TALLY_ENGINE=%q = %q, %v; want %q, %q", tt.args, tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, p, content)
	return p
}
