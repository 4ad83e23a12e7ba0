package collector

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// stuck is a callback that blocks on the stats event until released, with a backlog of its own.
type stuck struct {
	name    string
	release chan struct{}
	backlog int
}

func (s *stuck) Name() string { return s.name }
func (s *stuck) Event(e *event.Event) error {
	if e.Event == event.PlaybookOnStats {
		<-s.release
	}
	return nil
}
func (s *stuck) Close() error { return nil }
func (s *stuck) Pending() int { return s.backlog }

// TestFinishSaysWhichCallbacksAreStillWorking pins that a callback still working a while after
// the run's end is named once, with the events it has left, and that Finish still waits for it.
// The callback is released by the warning itself, so the test does not depend on speed.
func TestFinishSaysWhichCallbacksAreStillWorking(t *testing.T) {
	slow := &stuck{name: "slow", release: make(chan struct{}), backlog: 3}
	var mu sync.Mutex
	var warnings []string
	c := New("job", []Callback{slow, &recorder{name: "fast"}}, WithWarnings(func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
		close(slow.release)
	}))
	c.Emit(&event.Event{Event: event.PlaybookOnStart})
	c.Finish("successful", 0)
	mu.Lock()
	defer mu.Unlock()
	want := "the run is over; waiting for callback plugins still working: slow (3 events left)"
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q, want [%q]", warnings, want)
	}
}

// TestFinishIsQuietWhenCallbacksAreDone pins that callbacks that finish in time are not named
// (in a minute, so that a busy machine cannot make them late).
func TestFinishIsQuietWhenCallbacksAreDone(t *testing.T) {
	defer func(d time.Duration) { SlowCallbacks = d }(SlowCallbacks)
	SlowCallbacks = time.Minute
	var warnings []string
	c := New("job", []Callback{&recorder{name: "fast"}}, WithWarnings(func(msg string) { warnings = append(warnings, msg) }))
	c.Emit(&event.Event{Event: event.PlaybookOnStart})
	c.Finish("successful", 0)
	if len(warnings) != 0 {
		t.Errorf("warnings %q, want none", warnings)
	}
}

// starting is a callback that is not ready until released: its first Event waits, as a plugin
// starting in the background does (pluginhost).
type starting struct {
	recorder
	ready <-chan struct{}
}

func (s *starting) Event(e *event.Event) error {
	<-s.ready
	return s.recorder.Event(e)
}

// counter tells, once, when it has received n events.
type counter struct {
	recorder
	n       int
	reached chan struct{}
}

func (c *counter) Event(e *event.Event) error {
	if err := c.recorder.Event(e); err != nil {
		return err
	}
	if len(c.events) == c.n {
		close(c.reached)
	}
	return nil
}

// TestSlowStartingCallbackGetsEveryEventInOrder pins that a callback that is not ready while
// the run goes on loses nothing: the events wait in its queue, in order, the collector waiting
// once the queue is full, and the other callbacks go on meanwhile (the slow one is released
// only when a ready one has received a full queue's worth). The job ID and the one final stats
// call are as for any callback.
func TestSlowStartingCallbackGetsEveryEventInOrder(t *testing.T) {
	const hosts, perHost = 6, DefaultQueueSize
	ready := make(chan struct{})
	slow := &starting{recorder: recorder{name: "slow"}, ready: ready}
	fast := &counter{recorder: recorder{name: "fast"}, n: DefaultQueueSize, reached: make(chan struct{})}
	c := New("job-7", []Callback{slow, fast})
	go func() {
		<-fast.reached
		close(ready)
	}()
	emitResults(c, hosts, perHost)
	st := c.Finish("successful", 0)
	for _, r := range []*recorder{&slow.recorder, &fast.recorder} {
		if got, want := len(r.events), hosts*perHost+1; got != want {
			t.Fatalf("%s received %d events, want %d", r.name, got, want)
		}
		for i, e := range r.events {
			if e.Seq != uint64(i+1) || e.JobID != "job-7" {
				t.Fatalf("%s: event %d has seq %d, job ID %q; want %d, job-7", r.name, i, e.Seq, e.JobID, i+1)
			}
		}
		if last := r.events[len(r.events)-1]; last.Event != event.PlaybookOnStats || last.Data.Stats != st {
			t.Errorf("%s: last event %s, want the stats", r.name, last.Event)
		}
		if !r.closed {
			t.Errorf("%s was not closed", r.name)
		}
	}
}

// TestFinishNamesACallbackWhoseFullQueueHeldTheRunBack pins that a callback whose queue filled
// up, so that the run waited for it, is named at the end with its queue's size, and that one
// that kept up is not. SlowQueue is 0 so that any wait counts: the slow callback is released
// only once the collector has found its queue full, so the test does not depend on speed.
func TestFinishNamesACallbackWhoseFullQueueHeldTheRunBack(t *testing.T) {
	defer func(d time.Duration) { SlowQueue = d }(SlowQueue)
	SlowQueue = 0
	for _, tc := range []struct {
		name   string
		events int
		want   []string
	}{
		{name: "full", events: DefaultQueueSize + 2, want: []string{"callback slow held the run back: its queue of 4096 events stayed full for up to "}},
		{name: "kept up", events: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready := make(chan struct{})
			slow := &starting{recorder: recorder{name: "slow"}, ready: ready}
			var warnings []string
			c := New("job", []Callback{slow, &recorder{name: "fast"}}, WithWarnings(func(msg string) { warnings = append(warnings, msg) }))
			go func() {
				for tc.want != nil && c.subs[0].stalls.Load() == 0 {
					time.Sleep(time.Millisecond)
				}
				close(ready)
			}()
			emitResults(c, 1, tc.events)
			c.Finish("successful", 0)
			if len(warnings) != len(tc.want) {
				t.Fatalf("warnings %q, want %d starting %q", warnings, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(warnings[i], w) {
					t.Errorf("warning %q, want it to start %q", warnings[i], w)
				}
			}
		})
	}
}
