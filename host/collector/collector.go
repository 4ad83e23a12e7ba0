// Package collector is the one owner of a run's record. Per-host workers hand it their events;
// it numbers them (seq 1, 2, 3, ... with no gaps), tags them with the job ID, keeps the recap
// counters and custom stats, and delivers every event, in order, to every callback. Finish ends
// the run with one playbook_on_stats event, which every callback receives last.
package collector

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// DefaultQueueSize is how many events may wait for one callback before the collector waits for
// it: a slow callback delays the others by at most this much, and never loses an event.
const DefaultQueueSize = 4096

// Every event gets a UUID: draw their randomness in bulk, not per event. (Set once, before
// any UUID is made, as the uuid package requires.)
func init() { uuid.EnableRandPool() }

// Collector receives events from any goroutine and delivers them in one order to every callback.
// Emit is safe for concurrent use; Finish must be called once, after the last Emit.
type Collector struct {
	jobID string
	in    chan *event.Event
	subs  []*subscriber
	spill *subscriber // keeps result events for the consolidated results; nil if no one asked
	warn  func(string)
	stats *tally
	start time.Time
	seq   uint64
	done  chan struct{} // closed when the collecting goroutine has drained in
}

// Option configures a Collector.
type Option func(*Collector)

// WithWarnings sends the collector's warnings (a callback that failed and was disabled) to warn
// instead of dropping them.
func WithWarnings(warn func(string)) Option { return func(c *Collector) { c.warn = warn } }

// New starts a collector for the run jobID that delivers to callbacks, each through a queue of
// DefaultQueueSize events and a goroutine of its own.
func New(jobID string, callbacks []Callback, opts ...Option) *Collector {
	c := &Collector{
		jobID: jobID,
		in:    make(chan *event.Event, DefaultQueueSize),
		warn:  func(string) {},
		stats: newTally(),
		start: time.Now(),
		done:  make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	for _, cb := range callbacks {
		c.subs = append(c.subs, c.subscribe(cb))
		if w, ok := cb.(ResultsWanter); ok && w.WantsResults() && c.spill == nil {
			sp, err := newSpill()
			if err != nil {
				c.warn(err.Error())
				continue
			}
			c.spill = c.subscribe(sp)
		}
	}
	go c.collect()
	return c
}

func (c *Collector) subscribe(cb Callback) *subscriber {
	s := &subscriber{cb: cb, q: make(chan *event.Event, DefaultQueueSize), done: make(chan struct{}), warn: c.warn}
	go s.run()
	return s
}

// JobID returns the run's job ID.
func (c *Collector) JobID() string { return c.jobID }

// Emit hands one event to the collector. The event must not be changed afterwards: callbacks
// share it. Emit blocks while the collector's queue is full.
func (c *Collector) Emit(e *event.Event) { c.in <- e }

func (c *Collector) collect() {
	defer close(c.done)
	for e := range c.in {
		c.deliver(e)
	}
}

// deliver stamps e and passes it to every callback. Only the collecting goroutine, and Finish
// after it has ended, call it.
func (c *Collector) deliver(e *event.Event) {
	c.seq++
	e.Seq = c.seq
	e.JobID = c.jobID
	if e.Created.IsZero() {
		e.Created = time.Now()
	}
	if e.UUID == "" {
		e.UUID = uuid.NewString()
	}
	c.stats.apply(e)
	if c.spill != nil {
		c.spill.send(e)
	}
	for _, s := range c.subs {
		s.send(e)
	}
}

// Finish ends the run: it delivers the playbook_on_stats event with the status word and exit
// code the run ended with, waits until every callback has handled every event, closes the
// callbacks and returns the stats.
func (c *Collector) Finish(status string, rc int) *event.Stats {
	return c.finish(status, rc, "")
}

// FinishError ends a run that an error stopped (a playbook that cannot be parsed, a missing
// vars file) as Finish does, with status error and the error's message in the stats.
func (c *Collector) FinishError(rc int, err error) *event.Stats {
	return c.finish("error", rc, err.Error())
}

func (c *Collector) finish(status string, rc int, msg string) *event.Stats {
	close(c.in)
	<-c.done
	st := c.stats.result()
	st.Status, st.RC, st.Message, st.Start, st.End = status, rc, msg, c.start, time.Now()
	if c.spill != nil {
		// Every result is kept before the stats call offers them.
		close(c.spill.q)
		<-c.spill.done
		sp := c.spill.cb.(*spill)
		defer sp.remove()
		c.spill = nil
		if sp.err == nil {
			st.Results = sp
		}
	}
	c.deliver(&event.Event{Event: event.PlaybookOnStats, Data: event.Data{Stats: st}})
	for _, s := range c.subs {
		close(s.q)
	}
	c.waitCallbacks()
	for _, s := range c.subs {
		if s.stalls.Load() > 0 && s.stall >= SlowQueue {
			c.warn(fmt.Sprintf("callback %s held the run back: its queue of %d events stayed full for up to %v",
				s.cb.Name(), cap(s.q), s.stall.Round(time.Millisecond)))
		}
	}
	return st
}

// SlowQueue is how long a callback's queue may stay full, the run waiting for the callback,
// before Finish says so: a callback that cannot keep up slows the run down.
var SlowQueue = time.Second

// SlowCallbacks is how long Finish waits for the callbacks to handle the last events before it
// says which are still working: the run is over, and a silent wait looks like a hang.
var SlowCallbacks = time.Second

// Backlog is implemented by a callback that queues events of its own (a plugin): Pending is
// how many it has not finished handling.
type Backlog interface {
	Pending() int
}

// Starter is implemented by a callback that gets ready in the background (a plugin starting
// while the run does): Started is closed once it is ready.
type Starter interface {
	Started() <-chan struct{}
}

// waitCallbacks waits until every callback has handled its last event and closed, saying once,
// after SlowCallbacks, which ones are still working and how many events each has left. The
// time counts from when every callback has started: one still starting is not slow at its work.
func (c *Collector) waitCallbacks() {
	for _, s := range c.subs {
		if st, ok := s.cb.(Starter); ok {
			<-st.Started()
		}
	}
	all := make(chan struct{})
	go func() {
		defer close(all)
		for _, s := range c.subs {
			<-s.done
		}
	}()
	select {
	case <-all:
		return
	case <-time.After(SlowCallbacks):
	}
	var busy []string
	for _, s := range c.subs {
		select {
		case <-s.done:
			continue
		default:
		}
		left := len(s.q)
		if b, ok := s.cb.(Backlog); ok {
			left += b.Pending()
		}
		busy = append(busy, fmt.Sprintf("%s (%d %s left)", s.cb.Name(), left, plural(left, "event", "events")))
	}
	if len(busy) > 0 {
		c.warn("the run is over; waiting for callback plugins still working: " + strings.Join(busy, ", "))
	}
	<-all
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// subscriber is one callback's queue and delivery goroutine.
type subscriber struct {
	cb   Callback
	q    chan *event.Event
	done chan struct{}
	warn func(string)

	stalls atomic.Int64  // how many times the collector found the queue full
	stall  time.Duration // the longest it then waited; the collecting goroutine's
}

// send queues e, timing how long the collector waits when the queue is full.
func (s *subscriber) send(e *event.Event) {
	select {
	case s.q <- e:
		return
	default:
	}
	s.stalls.Add(1)
	start := time.Now()
	s.q <- e
	s.stall = max(s.stall, time.Since(start))
}

func (s *subscriber) run() {
	defer close(s.done)
	disabled := false
	for e := range s.q {
		if disabled {
			continue // keep draining so the collector never waits on a dead callback
		}
		if err := s.call(e); err != nil {
			disabled = true
			s.warn(fmt.Sprintf("callback %s failed on event %d (%s) and is disabled for the rest of the run: %v", s.cb.Name(), e.Seq, e.Event, err))
		}
	}
	if !disabled {
		if err := s.cb.Close(); err != nil {
			s.warn(fmt.Sprintf("callback %s: %v", s.cb.Name(), err))
		}
	}
}

// call runs the callback, turning a panic into an error so that one callback cannot take the
// run down.
func (s *subscriber) call(e *event.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return s.cb.Event(e)
}
