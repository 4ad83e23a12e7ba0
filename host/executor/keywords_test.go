package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// TestKeywordTallyLacksFailsOnlyItsTask: a task keyword Ansible accepts and tally does not
// implement fails that task (with ignore_errors honoured), inside a block too, and every
// other task of the file runs.
func TestKeywordTallyLacksFailsOnlyItsTask(t *testing.T) {
	file := filepath.Join(t.TempDir(), "play.yml")
	src := `- hosts: all
  gather_facts: false
  tasks:
    - name: before
      debug:
        msg: before
    - name: throttled
      debug:
        msg: throttled
      throttle: 1
      ignore_errors: true
    - block:
        - name: in a block with a timeout
          debug:
            msg: inner
      timeout: 5
      ignore_errors: true
    - name: after
      debug:
        msg: after
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, err := playbook.Load(file)
	if err != nil {
		t.Fatalf("the file must load: %v", err)
	}
	inv, err := inventory.Load([]string{"h1,"})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	col := collector.New("job", []collector.Callback{rec})
	out := New(Config{Inventory: inv, Emitter: col, Connect: fakeConnector}).Run(context.Background(), []*playbook.Playbook{pb})
	col.Finish(out.Status, out.RC)
	if out.RC != RCOK {
		t.Fatalf("rc %d (%v), want 0: the failures are ignored", out.RC, out.Err)
	}
	got := map[string]string{}
	for _, e := range rec.events {
		switch e.Event {
		case event.RunnerOnOK:
			got[e.Data.Task.Name] = "ok"
		case event.RunnerOnFailed:
			msg, _ := e.Data.Result["msg"].(string)
			got[e.Data.Task.Name] = "failed: " + msg
		}
	}
	if got["before"] != "ok" || got["after"] != "ok" {
		t.Errorf("the other tasks did not run: %v", got)
	}
	for task, keyword := range map[string]string{"throttled": "'throttle' on a task", "in a block with a timeout": "'timeout' on a block"} {
		if !strings.Contains(got[task], "tally does not support "+keyword) {
			t.Errorf("%s: %q, want a failure naming %s", task, got[task], keyword)
		}
	}
}
