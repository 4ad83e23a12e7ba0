package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/pluginhost"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// pluginsDir is where the bundled plugins' sources are.
const pluginsDir = "../../plugins"

var bundled struct {
	once sync.Once
	dir  string
	err  error
}

// bundledPlugins builds every bundled plugin once per test binary, as make plugins does, into
// a directory to use as the callback path.
func bundledPlugins(t testing.TB) string {
	t.Helper()
	bundled.once.Do(func() {
		bundled.dir, bundled.err = os.MkdirTemp("", "tally-plugins-")
		if bundled.err != nil {
			return
		}
		dirs, _ := filepath.Glob(filepath.Join(pluginsDir, "*"))
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, d := range dirs {
			name := filepath.Base(d)
			switch {
			case exists(filepath.Join(d, "main.go")):
				wg.Add(1)
				go func() {
					defer wg.Done()
					module := plugintest.Build(t, d)
					mu.Lock()
					defer mu.Unlock()
					if err := os.WriteFile(filepath.Join(bundled.dir, name+".wasm"), module, 0o644); err != nil && bundled.err == nil {
						bundled.err = err
					}
				}()
			case exists(filepath.Join(d, "Makefile")):
				out, err := exec.Command("make", "-s", "-C", d, "OUT="+filepath.Join(bundled.dir, name+".wasm")).CombinedOutput()
				if err != nil && bundled.err == nil {
					bundled.err = fmt.Errorf("make plugin %s: %w\n%s", name, err, out)
				}
			}
		}
		wg.Wait()
	})
	if bundled.err != nil {
		t.Fatal(bundled.err)
	}
	return bundled.dir
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestBundledPluginsAreListed pins that every bundled plugin builds, loads in the sandbox and
// describes itself: tally plugins list shows each, with its type.
func TestBundledPluginsAreListed(t *testing.T) {
	dir := bundledPlugins(t)
	out, err := exec.Command(tallyBinary(t), "plugins", "list", "--callback-path", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("tally plugins list: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
	if len(files) == 0 {
		t.Fatal("no plugin was built")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".wasm")
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+(stdout|aggregate|notification)\s`).Match(out) {
			t.Errorf("tally plugins list does not list %s:\n%s", name, out)
		}
	}
}

// TestPluginsWarmFillsTheCacheThatListReads pins that tally plugins warm compiles and
// describes every plugin found into the cache, that list then reads their metadata from it,
// and that a name it cannot find fails the command.
func TestPluginsWarmFillsTheCacheThatListReads(t *testing.T) {
	dir := bundledPlugins(t)
	cache := t.TempDir()
	tally := func(args ...string) (string, error) {
		cmd := exec.Command(tallyBinary(t), args...)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := tally("plugins", "warm", "--callback-path", dir)
	if err != nil {
		t.Fatalf("tally plugins warm: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
	described, _ := filepath.Glob(filepath.Join(cache, "tally", "modules", "*-meta*.json"))
	if len(described) != len(files) {
		t.Errorf("after warm the cache describes %d modules, want %d", len(described), len(files))
	}
	for _, f := range files {
		if want := fmt.Sprintf("warm: %s (%s)\n", strings.TrimSuffix(filepath.Base(f), ".wasm"), f); !strings.Contains(out, want) {
			t.Errorf("tally plugins warm says:\n%s\nnot %q", out, want)
		}
	}
	if out, err := tally("plugins", "list", "--callback-path", dir); err != nil || !regexp.MustCompile(`(?m)^default\s+stdout\s`).MatchString(out) {
		t.Errorf("tally plugins list after warm: %v\n%s", err, out)
	}
	out, err = tally("plugins", "warm", "--callback-path", dir, "nosuch")
	if want := `ERROR! no callback plugin "nosuch" in`; err == nil || !strings.Contains(out, want) {
		t.Errorf("tally plugins warm nosuch: %v\n%s\nwant an error saying %q", err, out, want)
	}
}

// stdoutCompatPlaybooks are the compat playbooks the stdout plugins are compared on: their
// runs end with a recap in Ansible, and each host's results come in one order with -f 1.
var stdoutCompatPlaybooks = []string{"block_rescue", "failure", "handlers", "ignore_errors", "loops",
	"no_log", "run_once", "set_fact_stats", "until_retries", "when", "include_tasks", "unreachable", "delegate_to",
	"check_diff", "meta_tasks"}

// TestBundledStdoutPluginsMatchAnsible runs compat playbooks with ansible-playbook and with
// tally, through the json plugin (against ansible.posix.json), the minimal plugin (against
// Ansible's minimal) and the default plugin (against Ansible's default), one host at a time so
// that both print results in the same order.
func TestBundledStdoutPluginsMatchAnsible(t *testing.T) {
	ansible := ansiblePlaybook(t)
	dir, tally := bundledPlugins(t), tallyBinary(t)
	eachCompatPlaybook(t, stdoutCompatPlaybooks, func(t *testing.T, p compatPlaybook) {
		args := append(slices.Clone(p.args), "-f", "1")
		run := func(plugin, ansibleName string) (ref, got runResult) {
			setup := compatSetup{inventory: "inventory.ini", env: []string{"ANSIBLE_STDOUT_CALLBACK=" + ansibleName}}
			ref = runPlaybook(t, setup, []string{ansible}, args, p.name)
			got = runPlaybook(t, setup, []string{tally, "run", "--callback-path", dir, "--stdout-callback", plugin}, args, p.name)
			if ref.rc != got.rc {
				t.Errorf("%s: rc %d, ansible-playbook %d", plugin, got.rc, ref.rc)
			}
			return ref, got
		}
		ref, got := run("json", "ansible.posix.json")
		if want, have := jsonSkeleton(t, "ansible.posix.json", ref.stdout), jsonSkeleton(t, "json", got.stdout); want != have {
			t.Errorf("the json plugin's document differs from ansible.posix.json's:\n%s", firstDiff(want, have))
		}
		ref, got = run("minimal", "minimal")
		if want, have := maskMinimal(ref.stdout), maskMinimal(got.stdout); want != have {
			t.Errorf("the minimal plugin's output differs from Ansible's minimal:\n%s", firstDiff(want, have))
		}
		ref, got = run("default", "default")
		_, tallyOut, _ := strings.Cut(got.stdout, "\n") // the job ID line is tally's own
		if want, have := maskMinimal(ref.stdout), maskMinimal(tallyOut); want != have {
			t.Errorf("the default plugin's output differs from Ansible's default:\n%s", firstDiff(want, have))
		}
	})
}

// jsonSkeleton reads a json callback's document and returns what must be equal between
// Ansible's and tally's, one fact a line: the stats, and each play's name with its tasks'
// names and, per host, the status fields of the result. IDs, paths, times and the rest of the
// results (command timings, module internals) legitimately differ.
func jsonSkeleton(t *testing.T, who, stdout string) string {
	t.Helper()
	var doc struct {
		Plays []struct {
			Play  struct{ Name string }
			Tasks []struct {
				Task  struct{ Name string }
				Hosts map[string]map[string]any
			}
		}
		Stats map[string]map[string]int
	}
	start := strings.Index(stdout, "{")
	if start < 0 {
		t.Fatalf("%s printed no JSON document:\n%s", who, stdout)
	}
	if err := json.Unmarshal([]byte(stdout[start:]), &doc); err != nil {
		t.Fatalf("%s printed no JSON document: %v\n%s", who, err, stdout)
	}
	var b strings.Builder
	for _, h := range slices.Sorted(maps.Keys(doc.Stats)) {
		fmt.Fprintf(&b, "stats %s %v\n", h, doc.Stats[h])
	}
	for _, p := range doc.Plays {
		fmt.Fprintf(&b, "play %q\n", p.Play.Name)
		for _, task := range p.Tasks {
			fmt.Fprintf(&b, "  task %q\n", task.Task.Name)
			for _, h := range slices.Sorted(maps.Keys(task.Hosts)) {
				r := task.Hosts[h]
				fmt.Fprintf(&b, "    %s changed=%v failed=%v skipped=%v unreachable=%v\n", h, r["changed"], r["failed"], r["skipped"], r["unreachable"])
			}
		}
	}
	return b.String()
}

// minimalVariable are the parts of a result that change from run to run; each run's "out"
// directory is a fresh one of the test's. copy's src, Ansible's temporary file on the host, is
// left out: tally writes content without one (docs/modules.md).
var (
	minimalVariable = regexp.MustCompile(`"(delta|start|end)": "[^"]*"`)
	outDir          = regexp.MustCompile(`/Test[^/"]*/\d+/`)
	copySrc         = regexp.MustCompile(`(?m)^\s*"src": "[^"]*/\.ansible/tmp/[^"]*",\n`)
	// A diff's after header names the source file: Ansible's temporary file for copy's
	// content (tally has none, and prints no name) and for a rendered template (named as the
	// template; tally names the template).
	contentHeader = regexp.MustCompile(`(?m)^(\+\+\+ after): \S*/\.ansible/tmp/\S*/tmp[^/\s]*$`)
	sourceHeader  = regexp.MustCompile(`(?m)^(\+\+\+ after: )\S*/`)
)

func maskMinimal(out string) string {
	out = copySrc.ReplaceAllString(out, "")
	out = sourceHeader.ReplaceAllString(contentHeader.ReplaceAllString(out, "$1"), "$1<dir>/")
	return outDir.ReplaceAllString(minimalVariable.ReplaceAllString(out, `"$1": "<masked>"`), "/<out>/")
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		wl, gl := "(end)", "(end)"
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  ansible: %s\n  tally:   %s\n--- ansible\n%s\n--- tally\n%s", i+1, wl, gl, want, got)
		}
	}
	return "(no line differs)"
}

// TestBundledAggregatePluginsInTheSandbox runs the demo with every bundled aggregate plugin,
// each granted a directory of its own: each writes what it should there, the jsonl plugin
// exactly what --artifacts writes, and none fails.
func TestBundledAggregatePluginsInTheSandbox(t *testing.T) {
	plugins := bundledPlugins(t)
	tmp := t.TempDir()
	dirs := map[string]string{}
	args := []string{"run", "--callback-path", plugins, "--job-id", "sandboxed", "--artifacts", filepath.Join(tmp, "artifacts"),
		"--callbacks", "jsonl,hostlog,junit,profile_tasks,timer,summary"}
	for _, name := range []string{"jsonl", "hostlog", "junit", "summary"} {
		dirs[name] = filepath.Join(tmp, name)
		if err := os.Mkdir(dirs[name], 0o755); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--callback-opt", name+".dir="+dirs[name])
	}
	args = append(args, "-i", "../../testdata/demo/inventory.ini", "../../testdata/demo/site.yml")
	cmd := exec.Command(tallyBinary(t), args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tally run: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("warnings:\n%s", stderr.String())
	}
	for _, want := range []string{"[callback timer] Playbook run took 0 days, 0 hours, 0 minutes, ", "[callback profile_tasks] Gathering Facts ---"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, stderr.String())
		}
	}
	events, err := os.ReadFile(filepath.Join(tmp, "artifacts", "sandboxed", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dirs["jsonl"], "sandboxed.jsonl")); err != nil || string(got) != string(events) {
		t.Errorf("the jsonl plugin's file differs from the artifacts' events.jsonl (%v)", err)
	}
	// The summary plugin gets the collector's consolidated results across the ABI: every
	// result event of the run, under its host and status.
	var doc struct {
		TaskSummary map[string]map[string][]struct{ UUID string } `json:"task_summary"`
	}
	data, err := os.ReadFile(filepath.Join(dirs["summary"], "sandboxed.json"))
	if err == nil {
		err = json.Unmarshal(data, &doc)
	}
	if err != nil {
		t.Fatalf("the summary: %v", err)
	}
	want := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(events)), "\n") {
		var e event.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if status := event.ResultStatus(&e); status != "" {
			want[e.Data.Host+" "+status+" "+e.UUID] = true
		}
	}
	got := map[string]bool{}
	for host, byStatus := range doc.TaskSummary {
		for status, results := range byStatus {
			for _, r := range results {
				got[host+" "+status+" "+r.UUID] = true
			}
		}
	}
	if !maps.Equal(got, want) || len(want) == 0 {
		t.Errorf("the summary holds %d results, the run had %d:\n%v\n%v", len(got), len(want), got, want)
	}
	for name, file := range map[string]string{"hostlog": "localhost", "junit": "site-sandboxed.xml", "summary": "sandboxed.json"} {
		entries, err := os.ReadDir(dirs[name])
		if err != nil || len(entries) != 1 || entries[0].Name() != file {
			t.Errorf("%s's directory holds %v (%v), want only %s", name, entries, err, file)
		}
	}
}

// treeTimings are the parts of a result that change from run to run.
var treeTimings = regexp.MustCompile(`"(delta|start|end)": "[^"]*"`)

// TestTreePluginMatchesAnsible runs compat playbooks with Ansible's tree callback and with the
// bundled tree plugin, written in C: each host's file must hold the same JSON, timings and
// the run's directory aside. (Not on when.yml: tally words a failed conditional's error
// location more briefly, docs/compatibility.md.)
func TestTreePluginMatchesAnsible(t *testing.T) {
	ansible := ansiblePlaybook(t)
	plugins, tally := bundledPlugins(t), tallyBinary(t)
	names := []string{"failure", "loops", "ignore_errors", "block_rescue", "handlers", "until_retries", "unreachable"}
	eachCompatPlaybook(t, names, func(t *testing.T, p compatPlaybook) {
		ref, got := t.TempDir(), t.TempDir()
		setup := compatSetup{inventory: "inventory.ini", env: []string{"ANSIBLE_CALLBACKS_ENABLED=tree", "ANSIBLE_CALLBACK_TREE_DIR=" + ref}}
		runPlaybook(t, setup, []string{ansible}, p.args, p.name)
		setup.env = nil
		runPlaybook(t, setup, []string{tally, "run", "--callback-path", plugins, "--callbacks", "tree", "--callback-opt", "tree.dir=" + got}, p.args, p.name)
		files, _ := filepath.Glob(filepath.Join(ref, "*"))
		if len(files) == 0 {
			t.Fatal("Ansible's tree callback wrote nothing")
		}
		mask := func(b []byte) string {
			return outDir.ReplaceAllString(treeTimings.ReplaceAllString(string(b), `"$1": ""`), "/<out>/")
		}
		for _, f := range files {
			want, _ := os.ReadFile(f)
			have, err := os.ReadFile(filepath.Join(got, filepath.Base(f)))
			if err != nil {
				t.Errorf("the tree plugin wrote no file for %s: %v", filepath.Base(f), err)
				continue
			}
			if mask(want) != mask(have) {
				t.Errorf("%s differs:\nansible: %s\ntally:   %s", filepath.Base(f), mask(want), mask(have))
			}
		}
	})
}

// BenchmarkStartBundledWarm times getting every bundled plugin ready for a run, as tally run
// does with all of them enabled (the default stdout plugin and every other one): found,
// loaded from a warm compilation cache, started, described and configured, in parallel.
func BenchmarkStartBundledWarm(b *testing.B) { benchmarkStartBundled(b, true) }

// BenchmarkStartBundledCold is the same with an empty cache: every plugin compiled.
func BenchmarkStartBundledCold(b *testing.B) { benchmarkStartBundled(b, false) }

func benchmarkStartBundled(b *testing.B, warm bool) {
	dir := bundledPlugins(b)
	files, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
	flags := pluginhost.Flags{CallbackPath: []string{dir}}
	var enabled []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".wasm")
		switch name {
		case "default", "minimal", "json": // stdout plugins: default is the one
		default:
			enabled = append(enabled, name)
		}
		if name == "jsonl" || name == "hostlog" || name == "junit" || name == "summary" || name == "tree" {
			flags.Options = append(flags.Options, name+".dir="+b.TempDir())
		}
	}
	flags.Callbacks = []string{strings.Join(enabled, ",")}
	s, err := pluginSettings(&config.Config{}, flags, nil)
	if err != nil {
		b.Fatal(err)
	}
	s.CacheDir = filepath.Join(b.TempDir(), "cache")
	start := func() {
		run, err := startRun(s)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(run.Callbacks()); n != len(enabled)+1 {
			b.Fatalf("%d plugins started, want %d", n, len(enabled)+1)
		}
		for _, cb := range run.Callbacks() {
			cb.Close()
		}
		run.Close()
	}
	if warm {
		start()
	}
	for b.Loop() {
		if !warm {
			b.StopTimer()
			s.CacheDir = filepath.Join(b.TempDir(), "cache")
			b.StartTimer()
		}
		start()
	}
	b.ReportMetric(float64(len(enabled)+1), "plugins")
}

func startRun(s pluginhost.Settings) (*pluginhost.Run, error) {
	return pluginhost.Start(context.Background(), s, pluginhost.Output{Terminal: io.Discard, Log: io.Discard,
		Warn: func(w string) { panic(w) }, JobID: "bench", Fallback: func() collector.Callback { panic("no default plugin") }})
}
