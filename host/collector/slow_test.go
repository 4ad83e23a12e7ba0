package collector

import (
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
