package executor

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// fakeConn answers every command at once with rc 0, or rc 1 when the command mentions "fail".
type fakeConn struct{}

func (fakeConn) Exec(_ context.Context, cmd connection.Command) (connection.Result, error) {
	if strings.Contains(cmd.Cmd, "fail") {
		return connection.Result{RC: 1, Stderr: []byte("failed")}, nil
	}
	return connection.Result{Stdout: []byte("ok\n")}, nil
}
func (fakeConn) Put(context.Context, string, []byte, fs.FileMode, *connection.Become) error {
	return nil
}
func (fakeConn) Fetch(context.Context, string, *connection.Become) ([]byte, error) { return nil, nil }
func (fakeConn) Close() error                                                      { return nil }

func fakeConnector(context.Context, string, map[string]any) (connection.Connection, error) {
	return fakeConn{}, nil
}

// recorder is a callback keeping every event, optionally slowly.
type recorder struct {
	delay  time.Duration
	events []*event.Event
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Event(e *event.Event) error {
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	r.events = append(r.events, e)
	return nil
}
func (r *recorder) Close() error { return nil }

// writePlaybook writes a playbook of n tasks: command tasks that change, one that fails on
// every tenth host with ignore_errors, and a skipped one.
func writePlaybook(t testing.TB, n int) string {
	var b strings.Builder
	b.WriteString("- hosts: all\n  gather_facts: false\n  tasks:\n")
	for i := range n {
		switch i % 4 {
		case 1:
			fmt.Fprintf(&b, "    - name: t%d\n      raw: echo {{ 'fail' if inventory_hostname.endswith('0') else 'ok' }}\n      ignore_errors: true\n", i)
		case 2:
			fmt.Fprintf(&b, "    - name: t%d\n      debug:\n        msg: skipped\n      when: false\n", i)
		default:
			fmt.Fprintf(&b, "    - name: t%d\n      raw: echo {{ inventory_hostname }}\n", i)
		}
	}
	path := filepath.Join(t.TempDir(), "pb.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func hostList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "h%03d,", i)
	}
	return b.String()
}

func TestEveryCallbackGetsEveryEventOfALargeRunInOrder(t *testing.T) {
	const hosts, tasks = 200, 20
	pb, err := playbook.Load(writePlaybook(t, tasks))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load([]string{hostList(hosts)})
	if err != nil {
		t.Fatal(err)
	}
	fast, slow := &recorder{}, &recorder{delay: time.Microsecond}
	col := collector.New("job-test", []collector.Callback{fast, slow})
	x := New(Config{Inventory: inv, Forks: 50, Emitter: col, Connect: fakeConnector})
	out := x.Run(context.Background(), []*playbook.Playbook{pb})
	st := col.Finish(out.Status, out.RC)
	if out.RC != RCOK || out.Err != nil {
		for _, e := range fast.events {
			if e.Event == event.RunnerOnFailed && !e.Data.IgnoreErrors {
				t.Logf("%s %s %v", e.Data.Host, e.Data.Task.Name, e.Data.Result)
				break
			}
		}
		t.Fatalf("run: rc %d err %v", out.RC, out.Err)
	}

	for _, r := range []*recorder{fast, slow} {
		counts := map[string]*event.HostStats{}
		var last uint64
		for _, e := range r.events {
			if e.Seq != last+1 {
				t.Fatalf("seq %d after %d", e.Seq, last)
			}
			last = e.Seq
			if e.JobID != "job-test" {
				t.Fatalf("event %d has job ID %q", e.Seq, e.JobID)
			}
			h := counts[e.Data.Host]
			if h == nil {
				h = &event.HostStats{}
				counts[e.Data.Host] = h
			}
			switch e.Event {
			case event.RunnerOnOK:
				h.OK++
			case event.RunnerOnFailed:
				h.Failures++
			case event.RunnerOnSkipped:
				h.Skipped++
			}
		}
		if r.events[len(r.events)-1].Event != event.PlaybookOnStats {
			t.Fatal("the last event is not the stats call")
		}
		if len(st.Hosts) != hosts {
			t.Fatalf("stats for %d hosts, want %d", len(st.Hosts), hosts)
		}
		for name, s := range st.Hosts {
			c := counts[name]
			if s.OK-s.Ignored != c.OK || s.Ignored != c.Failures || s.Skipped != c.Skipped {
				t.Fatalf("%s: stats %+v, events %+v", name, s, *c)
			}
			if s.OK+s.Skipped != tasks {
				t.Fatalf("%s: %d results, want %d", name, s.OK+s.Skipped, tasks)
			}
		}
	}
	if len(fast.events) != len(slow.events) {
		t.Fatalf("fast callback got %d events, slow %d", len(fast.events), len(slow.events))
	}
}

// countingConn counts concurrent commands, to check the fork limit.
type countingConn struct {
	fakeConn
	mu        sync.Mutex
	cur, peak int
}

func (c *countingConn) Exec(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	c.mu.Lock()
	c.cur++
	c.peak = max(c.peak, c.cur)
	c.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	c.mu.Lock()
	c.cur--
	c.mu.Unlock()
	return c.fakeConn.Exec(ctx, cmd)
}

func TestForksLimitsHostsWorkingAtOnce(t *testing.T) {
	pb, err := playbook.Load(writePlaybook(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load([]string{hostList(30)})
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{}
	col := collector.New("job", nil)
	x := New(Config{Inventory: inv, Forks: 4, Emitter: col,
		Connect: func(context.Context, string, map[string]any) (connection.Connection, error) { return cc, nil }})
	x.Run(context.Background(), []*playbook.Playbook{pb})
	col.Finish("successful", 0)
	if cc.peak != 4 {
		t.Fatalf("peak concurrency %d, want 4", cc.peak)
	}
}
