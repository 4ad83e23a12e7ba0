package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// tallyBinary builds the tally command once per test binary and returns its path.
func tallyBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tally-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tally")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("building tally: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// readArtifacts returns a run's status, rc, stats.json and events from --artifacts.
func readArtifacts(t *testing.T, dir string) (status, rc string, stats map[string]any, events []event.Event) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("artifacts dir %s: %v entries, %v", dir, len(entries), err)
	}
	run := filepath.Join(dir, entries[0].Name())
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(run, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if err := json.Unmarshal(read("stats.json"), &stats); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(read("events.jsonl"))))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e event.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("events.jsonl: %v", err)
		}
		events = append(events, e)
	}
	if stats["job_id"] != entries[0].Name() {
		t.Errorf("stats.json job_id %v, directory %s", stats["job_id"], entries[0].Name())
	}
	return strings.TrimSpace(string(read("status"))), strings.TrimSpace(string(read("rc"))), stats, events
}

func TestInterruptEndsTheRunWithStatsAndExit99(t *testing.T) {
	bin := tallyBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, "run", "-i", "h1,h2,", "-c", "local", "--artifacts", dir, "testdata/interrupt.yml")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			signalAtSleep(cmd, stdout, sig, &out)
			err = cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 99 {
				t.Fatalf("exit code %d (%v), want 99\n%s", code, err, out.String())
			}
			if !strings.Contains(out.String(), "PLAY RECAP") || strings.Contains(out.String(), "never reached") {
				t.Errorf("output:\n%s", out.String())
			}
			status, rc, stats, events := readArtifacts(t, dir)
			if status != "interrupted" || rc != "99" || stats["status"] != "interrupted" {
				t.Errorf("status %q rc %q stats.status %v", status, rc, stats["status"])
			}
			last := events[len(events)-1]
			if last.Event != event.PlaybookOnStats || last.Seq != uint64(len(events)) {
				t.Errorf("last event %s seq %d of %d", last.Event, last.Seq, len(events))
			}
		})
	}
}

// signalAtSleep copies the standard output of cmd, a run of testdata/interrupt.yml, to out and
// sends sig to cmd once the run's sleep task has started. It returns when the output ends.
func signalAtSleep(cmd *exec.Cmd, stdout io.Reader, sig os.Signal, out io.Writer) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		fmt.Fprintln(out, sc.Text())
		if strings.HasPrefix(sc.Text(), "TASK [sleep]") {
			time.Sleep(300 * time.Millisecond) // let the sleeps start
			cmd.Process.Signal(sig)
		}
	}
}

// TestSecondInterruptExitsAtOnce pins the way out of an orderly end that hangs: after the first
// SIGINT the run delivers its stats, here to a plugin that loops in the stats call under a
// two-minute time limit; a second SIGINT ends the process at once, with exit code 99.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	bin := tallyBinary(t)
	plugins := t.TempDir()
	plugintest.Install(t, plugins, "hostile", plugintest.Build(t, "../../host/pluginhost/testdata/plugins/hostile"))
	config := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(config, []byte("callbacks:\n  hostile:\n    limits:\n      timeout: 120s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-i", "h1,h2,", "-c", "local", "--callback-path", plugins, "--callbacks", "hostile",
		"--callback-opt", "hostile.mode=loop", "--callback-opt", "hostile.on=playbook_on_stats", "testdata/interrupt.yml")
	cmd.Env = append(os.Environ(), "TALLY_CONFIG="+config)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	interrupted := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for seen := false; sc.Scan(); { // read to the end: a full pipe would block tally
			if !seen && strings.Contains(sc.Text(), "User interrupted execution") {
				seen = true
				close(interrupted)
			}
		}
	}()
	go signalAtSleep(cmd, stdout, syscall.SIGINT, io.Discard)
	select {
	case <-interrupted:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the first SIGINT was not reported")
	}
	time.Sleep(500 * time.Millisecond) // the stats call is under way, in the looping plugin
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // the orderly end would take the plugin's 120 s
		cmd.Process.Kill()
		<-done
		t.Fatal("tally was still running 30 s after the second SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 99 {
		t.Errorf("exit code %d, want 99", code)
	}
}

func TestArtifactsRecordPassingAndFailingRuns(t *testing.T) {
	bin := tallyBinary(t)
	for _, tc := range []struct {
		playbook, status, rc string
	}{
		{"../../testdata/compat/play_basic.yml", "successful", "0"},
		{"../../testdata/compat/failure.yml", "failed", "2"},
		{"../../testdata/compat/unreachable.yml", "unreachable", "4"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, "run", "-i", "../../testdata/compat/inventory.ini", "-e", "out="+t.TempDir(),
				"--artifacts", dir, "--job-id", "job-"+tc.status, tc.playbook)
			out, _ := cmd.CombinedOutput()
			if got := cmd.ProcessState.ExitCode(); tc.rc != strconv.Itoa(got) {
				t.Fatalf("exit code %d, want %s\n%s", got, tc.rc, out)
			}
			status, rc, stats, events := readArtifacts(t, dir)
			if status != tc.status || rc != tc.rc || stats["job_id"] != "job-"+tc.status {
				t.Errorf("status %q rc %q job_id %v", status, rc, stats["job_id"])
			}
			hosts, _ := stats["hosts"].(map[string]any)
			if len(hosts) == 0 {
				t.Errorf("stats.json has no hosts: %v", stats)
			}
			for i, e := range events {
				if e.Seq != uint64(i+1) || e.JobID != "job-"+tc.status {
					t.Fatalf("event %d: seq %d job %q", i, e.Seq, e.JobID)
				}
			}
		})
	}
}

func TestValidJobID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"deploy-2026-11-23", true},
		{"01a20a00-ab5c-7e9a-a63a-8f797a581dc9", true},
		{strings.Repeat("x", 128), true},
		{"", false},
		{strings.Repeat("x", 129), false},
		{"a/b", false},
		{`a\b`, false},
		{"..", false},
		{"bell\a", false},
		{"tab\there", false},
	} {
		if err := validJobID(tc.id); (err == nil) != tc.ok {
			t.Errorf("validJobID(%q) = %v, want ok %v", tc.id, err, tc.ok)
		}
	}
}

func TestParseExtraVars(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vars.yml")
	if err := os.WriteFile(file, []byte("from_file: 1\nlist: [a, b]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := parseExtraVars([]string{"a=1 b='two words'", `{"c": true}`, "{d: [1, 2]}", "@" + file, "a=override"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "override", "b": "two words", "c": true, "d": []any{1, 2}, "from_file": 1, "list": []any{"a", "b"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	for _, bad := range []string{"novalue", "@/nonexistent/file.yml", "{unclosed"} {
		if _, err := parseExtraVars([]string{bad}, nil); err == nil {
			t.Errorf("parseExtraVars(%q) succeeded", bad)
		}
	}
}

// TestVaultKeysFromEnvironmentAndFlags pins where vault passwords come from: the environment's
// identity list and password file (TALLY_ before ANSIBLE_) besides the flags.
func TestVaultKeysFromEnvironmentAndFlags(t *testing.T) {
	dir := compatDir + "/vault"
	secretVars, err := os.ReadFile(dir + "/secret_vars.yml") // password alpha
	if err != nil {
		t.Fatal(err)
	}
	extraVars, err := os.ReadFile(dir + "/extra_vars.yml") // password beta, vault ID dev
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		env    map[string]string
		flags  vault.Sources
		opens  [][]byte
		closed [][]byte
	}{
		{"flags", nil, vault.Sources{PasswordFiles: []string{dir + "/alpha.pass"}}, [][]byte{secretVars}, [][]byte{extraVars}},
		{"ANSIBLE_VAULT_PASSWORD_FILE", map[string]string{"ANSIBLE_VAULT_PASSWORD_FILE": dir + "/beta.pass"}, vault.Sources{}, [][]byte{extraVars}, [][]byte{secretVars}},
		{"TALLY_ before ANSIBLE_", map[string]string{"TALLY_VAULT_PASSWORD_FILE": dir + "/alpha.pass", "ANSIBLE_VAULT_PASSWORD_FILE": dir + "/beta.pass"}, vault.Sources{}, [][]byte{secretVars}, [][]byte{extraVars}},
		{"identity list and a flag", map[string]string{"ANSIBLE_VAULT_IDENTITY_LIST": "dev@" + dir + "/beta.pass, other@" + dir + "/pass.sh"}, vault.Sources{}, [][]byte{secretVars, extraVars}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := vaultKeys(tt.flags, func(k string) string { return tt.env[k] }, func(string) {})
			if err != nil {
				t.Fatal(err)
			}
			for _, data := range tt.opens {
				if _, err := keys.Decrypt(data, "f"); err != nil {
					t.Errorf("did not open %.40q: %v", data, err)
				}
			}
			for _, data := range tt.closed {
				if _, err := keys.Decrypt(data, "f"); err == nil {
					t.Errorf("opened %.40q", data)
				}
			}
		})
	}
}
