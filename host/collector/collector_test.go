package collector

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// recorder is a callback that keeps what it receives, optionally slowly.
type recorder struct {
	name   string
	delay  time.Duration
	failAt uint64 // return an error on this seq
	panics bool
	events []*event.Event
	closed bool
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Event(e *event.Event) error {
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	r.events = append(r.events, e)
	if e.Seq == r.failAt {
		if r.panics {
			panic("boom")
		}
		return errors.New("broken")
	}
	return nil
}
func (r *recorder) Close() error { r.closed = true; return nil }

// emitResults emits n result events per host from one goroutine per host.
func emitResults(c *Collector, hosts, n int) {
	var wg sync.WaitGroup
	for h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				typ := event.RunnerOnOK
				res := map[string]any{"changed": i%2 == 0}
				switch i % 4 {
				case 1:
					typ = event.RunnerOnSkipped
				case 3:
					typ = event.RunnerOnFailed
				}
				c.Emit(&event.Event{Event: typ, Data: event.Data{Host: fmt.Sprintf("h%03d", h), Result: res, IgnoreErrors: i%8 == 3}})
			}
		}()
	}
	wg.Wait()
}

func TestCollectorDeliversEveryEventInOrderToSlowAndFastCallbacks(t *testing.T) {
	fast := &recorder{name: "fast"}
	slow := &recorder{name: "slow", delay: 20 * time.Microsecond}
	c := New("job-1", []Callback{fast, slow})
	const hosts, n = 50, 40
	emitResults(c, hosts, n)
	st := c.Finish("successful", 0)

	for _, r := range []*recorder{fast, slow} {
		if len(r.events) != hosts*n+1 {
			t.Fatalf("%s got %d events, want %d", r.name, len(r.events), hosts*n+1)
		}
		for i, e := range r.events {
			if e.Seq != uint64(i+1) || e.JobID != "job-1" || e.UUID == "" || e.Created.IsZero() {
				t.Fatalf("%s event %d: seq %d job %q uuid %q", r.name, i, e.Seq, e.JobID, e.UUID)
			}
		}
		if last := r.events[len(r.events)-1]; last.Event != event.PlaybookOnStats || last.Data.Stats != st {
			t.Fatalf("%s: last event is %s, want the stats call", r.name, last.Event)
		}
		if !r.closed {
			t.Errorf("%s was not closed", r.name)
		}
	}
	// Per host: i%4 in {0,2} ok and changed (20), 1 skipped (10), 3 failed (10), of which
	// i%8==3 ignored (5: ok and ignored).
	want := event.HostStats{OK: 25, Changed: 20, Skipped: 10, Failures: 5, Ignored: 5, Processed: 1}
	for h, got := range st.Hosts {
		if got != want {
			t.Fatalf("%s stats %+v, want %+v", h, got, want)
		}
	}
	if len(st.Hosts) != hosts {
		t.Fatalf("stats for %d hosts, want %d", len(st.Hosts), hosts)
	}
}

func TestCollectorDisablesAFailingCallbackAndKeepsTheOthers(t *testing.T) {
	for _, panics := range []bool{false, true} {
		bad := &recorder{name: "bad", failAt: 3, panics: panics}
		good := &recorder{name: "good"}
		var warnings []string
		var mu sync.Mutex
		c := New("job", []Callback{bad, good}, WithWarnings(func(s string) { mu.Lock(); warnings = append(warnings, s); mu.Unlock() }))
		emitResults(c, 1, 10)
		c.Finish("successful", 0)
		if len(bad.events) != 3 || bad.closed {
			t.Errorf("panics=%v: bad callback got %d events (closed %v), want 3 and no Close", panics, len(bad.events), bad.closed)
		}
		if len(good.events) != 11 {
			t.Errorf("panics=%v: good callback got %d events, want 11", panics, len(good.events))
		}
		if len(warnings) != 1 {
			t.Errorf("panics=%v: warnings %q, want one", panics, warnings)
		}
	}
}

func TestCustomStatsAggregateAsAnsible(t *testing.T) {
	c := New("job", nil)
	stat := func(host string, data map[string]any, perHost, aggregate bool) {
		c.Emit(&event.Event{Event: event.RunnerOnOK, Data: event.Data{Host: host, Result: map[string]any{
			"ansible_stats": map[string]any{"data": data, "per_host": perHost, "aggregate": aggregate}}}})
	}
	stat("a", map[string]any{"n": 1, "l": []any{"x"}, "d": map[string]any{"k": 1}}, false, true)
	stat("b", map[string]any{"n": 2, "l": []any{"y"}, "d": map[string]any{"j": 2}}, false, true)
	stat("a", map[string]any{"mine": "s"}, true, true)
	stat("a", map[string]any{"mine": "t"}, true, false)
	stat("b", map[string]any{"n": "wrong type"}, false, true)
	st := c.Finish("successful", 0)
	g := st.GlobalCustomStats
	if g["n"] != 3 || fmt.Sprint(g["l"]) != "[x y]" || fmt.Sprint(g["d"]) != "map[j:2 k:1]" {
		t.Errorf("run-wide custom stats %v", g)
	}
	if st.CustomStats["a"]["mine"] != "t" {
		t.Errorf("per-host custom stats %v", st.CustomStats)
	}
}

// TestSkippedMetaTaskCountsNothing pins Ansible's recap: a meta task whose when is false is
// reported skipped to the callbacks (the --engine ansible bridge passes that on) but counted
// nowhere; any other skipped task counts.
func TestSkippedMetaTaskCountsNothing(t *testing.T) {
	c := New("job", nil)
	for _, action := range []string{"meta", "ansible.builtin.meta", "debug"} {
		c.Emit(&event.Event{Event: event.RunnerOnSkipped, Data: event.Data{Host: "h", Task: &event.Task{Action: action}}})
	}
	if st := c.Finish("successful", 0); st.Hosts["h"].Skipped != 1 {
		t.Errorf("skipped = %d, want 1 (the debug task)", st.Hosts["h"].Skipped)
	}
}

func BenchmarkCollectorNoopCallback(b *testing.B) {
	c := New("job", []Callback{noop{}})
	e := event.Event{Event: event.RunnerOnOK, Data: event.Data{Host: "h", Result: map[string]any{"changed": true}}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ev := e
		c.Emit(&ev)
	}
	c.Finish("successful", 0)
}

type noop struct{}

func (noop) Name() string             { return "noop" }
func (noop) Event(*event.Event) error { return nil }
func (noop) Close() error             { return nil }
