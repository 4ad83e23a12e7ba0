package collector

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// summarizer wants the consolidated results and counts them by host and status at the stats
// call, as a plugin writing one summary document would.
type summarizer struct {
	counts map[string]map[string]int
	tasks  map[string][]string
}

func (s *summarizer) Name() string       { return "summary" }
func (s *summarizer) WantsResults() bool { return true }
func (s *summarizer) Close() error       { return nil }
func (s *summarizer) Event(e *event.Event) error {
	if e.Event != event.PlaybookOnStats {
		return nil
	}
	rs := e.Data.Stats.Results
	if rs == nil {
		return fmt.Errorf("no results in the stats call")
	}
	s.counts, s.tasks = map[string]map[string]int{}, map[string][]string{}
	for _, h := range rs.Hosts() {
		s.counts[h] = map[string]int{}
		err := rs.Each(h, func(status string, e *event.Event) error {
			s.counts[h][status]++
			s.tasks[h] = append(s.tasks[h], e.Data.Task.Name)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func resultEvent(host string, i int) *event.Event {
	typ, res := event.RunnerOnOK, map[string]any{"changed": i%3 == 0, "rc": 0, "stdout": "hello world", "stdout_lines": []any{"hello world"}}
	var ignore, rescued bool
	switch i % 5 {
	case 1:
		typ = event.RunnerOnSkipped
		res = map[string]any{"changed": false, "skip_reason": "Conditional result was False"}
	case 2:
		typ, ignore = event.RunnerOnFailed, i%2 == 0
		rescued = !ignore
		res = map[string]any{"changed": false, "msg": "non-zero return code", "rc": 1}
	}
	return &event.Event{Event: typ, Data: event.Data{Host: host, IgnoreErrors: ignore, Rescued: rescued, Result: res,
		Task: &event.Task{Name: fmt.Sprintf("task %d", i), Action: "command", Path: "site.yml:10"}}}
}

func TestConsolidatedResultsGroupEveryResultByHostAndStatus(t *testing.T) {
	sum, plain := &summarizer{}, &recorder{name: "plain"}
	c := New("job", []Callback{sum, plain})
	for i := range 20 {
		for _, h := range []string{"b", "a"} {
			c.Emit(resultEvent(h, i))
		}
		c.Emit(&event.Event{Event: event.PlaybookOnTaskStart})
	}
	c.Finish("successful", 0)
	want := map[string]int{"ok": 7, "changed": 5, "skipped": 4, "ignored": 2, "rescued": 2}
	for _, h := range []string{"a", "b"} {
		if fmt.Sprint(sum.counts[h]) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", h, sum.counts[h], want)
		}
		if len(sum.tasks[h]) != 20 || sum.tasks[h][0] != "task 0" || sum.tasks[h][19] != "task 19" {
			t.Errorf("%s: results out of order: %v", h, sum.tasks[h])
		}
	}
	if plain.events[len(plain.events)-1].Data.Stats.Results == nil {
		t.Error("the stats call carries no results for the other callbacks")
	}
}

func TestNoResultsAreKeptWhenNoCallbackAsks(t *testing.T) {
	r := &recorder{name: "plain"}
	c := New("job", []Callback{r})
	c.Emit(resultEvent("a", 0))
	if st := c.Finish("successful", 0); st.Results != nil {
		t.Fatal("results kept although no callback asked")
	}
}

// BenchmarkConsolidatedResults runs 10,000 hosts x 100 tasks (1,000,000 results) through the
// collector to a callback that wants the consolidated results and reads them all, and reports
// the peak growth of the live heap.
func BenchmarkConsolidatedResults(b *testing.B) {
	const hosts, tasks = 10000, 100
	for range b.N {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			var m runtime.MemStats
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		})
		sum := &summarizer{}
		c := New("job", []Callback{sum})
		var prod sync.WaitGroup
		for w := range 4 {
			prod.Go(func() {
				for i := range tasks {
					for h := w; h < hosts; h += 4 {
						c.Emit(resultEvent(fmt.Sprintf("host%05d", h), i))
					}
				}
			})
		}
		prod.Wait()
		c.Finish("successful", 0)
		close(stop)
		wg.Wait()
		if len(sum.counts) != hosts {
			b.Fatalf("summary of %d hosts, want %d", len(sum.counts), hosts)
		}
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapAlloc))/(1<<20), "peak-heap-MB")
	}
}
