package bridge

import (
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tallyrun/tally/host/executor"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// events is an Emitter that keeps what it gets.
type events struct {
	mu  sync.Mutex
	got []*event.Event
}

func (e *events) Emit(ev *event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) types() []event.Type {
	var out []event.Type
	for _, ev := range e.got {
		out = append(out, ev.Event)
	}
	return out
}

func record(body string) string {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(body)))
	return string(n[:]) + body
}

func TestDecodeGivesTheNumbersOfTallysEngine(t *testing.T) {
	e, err := Decode([]byte(`{"event":"runner_on_ok","parent_uuid":"t1","event_data":{"host":"h1",` +
		`"task":{"name":"n","action":"debug","path":"p.yml:3","uuid":"t1","args":{"port":22}},` +
		`"res":{"rc":0,"delta":0.5,"big":12345678901,"results":[{"n":1}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"rc": 0, "delta": 0.5, "big": 12345678901, "results": []any{map[string]any{"n": 1}}}
	if !reflect.DeepEqual(e.Data.Result, want) || e.Data.Task.Args["port"] != 22 || e.ParentUUID != "t1" || e.Data.Host != "h1" {
		t.Errorf("Decode = %+v, task %+v", e.Data, e.Data.Task)
	}
	for _, bad := range []string{`{"event_data":{}}`, `{"event":`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%s) = nil error", bad)
		}
	}
}

func TestForwardEmitsInOrderAndKeepsAnsiblesStats(t *testing.T) {
	stream := record(`{"event":"playbook_on_start","event_data":{"playbook":"site.yml"}}`) +
		record(`{"event":"runner_on_ok","event_data":{"host":"h1","res":{"changed":true}}}`) +
		record(`{"event":"playbook_on_stats","event_data":{"stats":{"status":"","rc":0,"start":"2026-01-02T03:04:05Z","end":"2026-01-02T03:04:06Z","hosts":{"h1":{"ok":1,"changed":1,"processed":1}}}}}`)
	var em events
	got := forward(strings.NewReader(stream), &em)
	if got.err != nil {
		t.Fatal(got.err)
	}
	if want := []event.Type{event.PlaybookOnStart, event.RunnerOnOK}; !slices.Equal(em.types(), want) {
		t.Errorf("emitted %v, want %v: the stats record is Ansible's, not an event", em.types(), want)
	}
	if got.stats == nil || got.stats.Hosts["h1"] != (event.HostStats{OK: 1, Changed: 1, Processed: 1}) {
		t.Errorf("Ansible's stats = %+v", got.stats)
	}

	cut := stream[:len(stream)-10]
	em = events{}
	if got := forward(strings.NewReader(cut), &em); got.err == nil || got.stats != nil || len(em.got) != 2 {
		t.Errorf("a stream cut short: err %v, stats %v, %d events; want an error, no stats, the 2 whole events", got.err, got.stats, len(em.got))
	}
}

func TestOutcome(t *testing.T) {
	stats := &event.Stats{}
	tests := []struct {
		name       string
		cancelled  bool
		rc         int // -1: killed by a signal
		got        readResult
		wantRC     int
		wantStatus string
		wantErr    bool
	}{
		{"success", false, 0, readResult{stats: stats}, 0, executor.StatusSuccessful, false},
		{"a host failed", false, 2, readResult{stats: stats}, 2, executor.StatusFailed, false},
		{"unreachable", false, 4, readResult{stats: stats}, 4, executor.StatusUnreachable, false},
		{"interrupted by tally", true, 99, readResult{}, 99, executor.StatusInterrupted, false},
		{"interrupted from the terminal", false, 99, readResult{}, 99, executor.StatusInterrupted, false},
		{"parse error: no stats", false, 4, readResult{}, 4, executor.StatusError, false},
		{"killed", false, -1, readResult{}, 1, executor.StatusError, true},
		{"exit 0 without stats: the pipe closed early", false, 0, readResult{}, 1, executor.StatusError, true},
		{"broken record", false, 2, readResult{stats: stats, err: io.ErrUnexpectedEOF}, 2, executor.StatusError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancelled {
				cancel()
			}
			defer cancel()
			ps := exitState(t, tt.rc)
			out := outcome(ctx, ps, nil, tt.got)
			if out.RC != tt.wantRC || out.Status != tt.wantStatus || (out.Err != nil) != tt.wantErr {
				t.Errorf("outcome = rc %d, %s, %v; want rc %d, %s, error %v", out.RC, out.Status, out.Err, tt.wantRC, tt.wantStatus, tt.wantErr)
			}
		})
	}
}

// exitState runs a shell that exits with rc (or kills itself for -1) and returns its state.
func exitState(t *testing.T, rc int) *os.ProcessState {
	t.Helper()
	script := "exit " + strconv.Itoa(rc)
	if rc < 0 {
		script = "kill -9 $$"
	}
	p, err := os.StartProcess("/bin/sh", []string{"sh", "-c", script}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestCallbackEnvKeepsTheOperatorsCallbacks(t *testing.T) {
	t.Chdir(t.TempDir())
	env := []string{"PATH=/bin", "ANSIBLE_CALLBACK_PLUGINS=/opt/cb:/srv/cb", "ANSIBLE_CALLBACKS_ENABLED=profile_tasks",
		"ANSIBLE_STDOUT_CALLBACK=yaml", "ANSIBLE_CONFIG=/nonexistent"}
	got := callbackEnv(env, "/tmp/bridge", 3)
	want := []string{"PATH=/bin", "ANSIBLE_CALLBACKS_ENABLED=profile_tasks", "ANSIBLE_CONFIG=/nonexistent",
		"ANSIBLE_CALLBACK_PLUGINS=/tmp/bridge:/opt/cb:/srv/cb", "ANSIBLE_STDOUT_CALLBACK=tally_bridge", "TALLY_BRIDGE_FD=3"}
	if !slices.Equal(got, want) {
		t.Errorf("callbackEnv =\n%q\nwant\n%q", got, want)
	}

	// Without the variable, the ansible.cfg's callback_plugins stay searched, relative to it.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(cfg, []byte("[defaults]\n# callback_plugins = nope\ncallback_plugins = plugins/cb:/abs/cb\n[other]\ncallback_plugins: wrong\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got = callbackEnv([]string{"ANSIBLE_CONFIG=" + cfg}, "/tmp/bridge", 3)
	if want := "ANSIBLE_CALLBACK_PLUGINS=/tmp/bridge:" + filepath.Join(dir, "plugins/cb") + ":/abs/cb"; !slices.Contains(got, want) {
		t.Errorf("callbackEnv = %q, want %q in it", got, want)
	}
	// Without either, Ansible's default directories.
	got = callbackEnv([]string{"ANSIBLE_CONFIG=/nonexistent", "ANSIBLE_HOME=/ah"}, "/tmp/bridge", 3)
	if want := "ANSIBLE_CALLBACK_PLUGINS=/tmp/bridge:/ah/plugins/callback:/usr/share/ansible/plugins/callback"; !slices.Contains(got, want) {
		t.Errorf("callbackEnv = %q, want %q in it", got, want)
	}
}

// TestRunWithoutFinalStatsIsAnError runs a stand-in for ansible-playbook that sends one event
// over the inherited pipe and exits 0 without the final stats: the event is emitted, and the
// run ends with status error and exit code 1.
func TestRunWithoutFinalStatsIsAnError(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "ansible-playbook")
	script := "#!/usr/bin/python3\nimport os, struct\n" +
		"fd = int(os.environ['TALLY_BRIDGE_FD'])\n" +
		"assert os.environ['ANSIBLE_STDOUT_CALLBACK'] == 'tally_bridge'\n" +
		"assert os.path.exists(os.environ['ANSIBLE_CALLBACK_PLUGINS'].split(':')[0] + '/tally_bridge.py')\n" +
		"b = b'{\"event\":\"playbook_on_start\",\"event_data\":{\"playbook\":\"p.yml\"}}'\n" +
		"os.write(fd, struct.pack('>I', len(b)) + b)\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var em events
	var stderr strings.Builder
	out := Run(context.Background(), Config{AnsiblePlaybook: fake, Stdout: io.Discard, Stderr: &stderr, Emitter: &em})
	if out.RC != 1 || out.Status != executor.StatusError || out.Err == nil || out.AnsibleStats != nil {
		t.Errorf("Run = %+v, want rc 1, status error, an error, no stats\n%s", out, stderr.String())
	}
	if want := []event.Type{event.PlaybookOnStart}; !slices.Equal(em.types(), want) {
		t.Errorf("emitted %v, want %v", em.types(), want)
	}
}

func TestCompareStatsShowsBothWhereTheyDiffer(t *testing.T) {
	ansible := &event.Stats{Hosts: map[string]event.HostStats{"h1": {OK: 2, Processed: 1}, "h2": {OK: 1, Processed: 1}},
		GlobalCustomStats: map[string]any{"n": 1}}
	same := &event.Stats{Hosts: map[string]event.HostStats{"h1": {OK: 2, Processed: 1}, "h2": {OK: 1, Processed: 1}},
		GlobalCustomStats: map[string]any{"n": 1}, CustomStats: map[string]map[string]any{}}
	if d := CompareStats(ansible, same); d != "" {
		t.Errorf("CompareStats of equal stats = %q", d)
	}
	if d := CompareStats(nil, same); d != "" {
		t.Errorf("CompareStats without Ansible's stats = %q", d)
	}
	differ := &event.Stats{Hosts: map[string]event.HostStats{"h1": {OK: 1, Failures: 1, Processed: 1}, "h3": {Skipped: 1, Processed: 1}}}
	want := "  h1: ansible ok=2 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0; tally ok=1 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n" +
		"  h2: ansible ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0; tally (no host)\n" +
		"  h3: ansible (no host); tally ok=0 changed=0 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0\n" +
		"  global custom stats: ansible {\"n\":1}; tally null\n"
	if d := CompareStats(ansible, differ); d != want {
		t.Errorf("CompareStats =\n%s\nwant\n%s", d, want)
	}
}
