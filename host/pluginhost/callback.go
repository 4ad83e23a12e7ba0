package pluginhost

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// Batching: the events that queued while a plugin was busy go to it in one call, up to these
// bounds, so that a slow moment costs one call, not one per event.
const (
	queueSize      = 1024
	maxBatchEvents = 256
	maxBatchBytes  = 1 << 20
)

// callback is a plugin as a collector callback. The collector's goroutine for it queues the
// events the plugin subscribed to; a goroutine of the callback's own hands them to the plugin
// in batches: every event that is waiting when the plugin is free goes in the next call.
type callback struct {
	p    *Plugin
	run  *Run
	subs map[event.Type]bool
	q    chan *event.Event
	done chan struct{}

	failed atomic.Bool
	left   atomic.Int64 // events queued and not yet handled, for collector.Backlog
	batch  wire.Batch
	// For the stdout plugin: the built-in display that takes over if the plugin fails, and
	// the last play and task started, which it is shown first so that it prints under the
	// right banners.
	fallback           func() collector.Callback
	standIn            collector.Callback
	lastPlay, lastTask *event.Event
}

func newCallback(p *Plugin, r *Run, fallback func() collector.Callback) *callback {
	c := &callback{p: p, run: r, subs: map[event.Type]bool{}, q: make(chan *event.Event, queueSize), done: make(chan struct{})}
	for _, t := range p.Meta.Events {
		c.subs[t] = true
	}
	if p.Meta.Type == meta.Stdout {
		c.fallback = fallback
	}
	go c.deliver()
	return c
}

// Name implements collector.Callback.
func (c *callback) Name() string { return c.p.Name }

// Event implements collector.Callback. It never fails: the callback reports its plugin's
// failure itself, naming the event the plugin failed on.
func (c *callback) Event(e *event.Event) error {
	// The stdout plugin's queue takes every event, for the display that may take over.
	if c.fallback != nil || c.subs[e.Event] && !c.failed.Load() {
		c.left.Add(1)
		c.q <- e
	}
	return nil
}

// Pending implements collector.Backlog.
func (c *callback) Pending() int { return int(c.left.Load()) }

// Close implements collector.Callback: it waits until the plugin has handled every event and
// closed.
func (c *callback) Close() error {
	close(c.q)
	<-c.done
	return nil
}

func (c *callback) deliver() {
	defer close(c.done)
	defer c.p.Close()
	events := make([]*event.Event, 0, maxBatchEvents)
	for e := range c.q {
		events = append(events[:0], e)
	gather:
		for len(events) < maxBatchEvents {
			select {
			case e, ok := <-c.q:
				if !ok {
					break gather
				}
				events = append(events, e)
			default:
				break gather
			}
		}
		c.handle(events)
		c.left.Add(-int64(len(events)))
	}
	switch {
	case c.standIn != nil:
		_ = c.standIn.Close() // the built-in display reports nothing on close
	case !c.failed.Load():
		if fn := c.p.inst.mod.ExportedFunction(exportClose); fn != nil {
			res, err := c.p.inst.call(context.Background(), fn)
			if err == nil {
				err = c.p.inst.status(res)
			}
			c.p.flush()
			if err == nil {
				err = c.p.checkOutput()
			}
			if err != nil {
				c.failed.Store(true)
				c.run.fail(c.p.Name, "close", err)
			}
		}
	}
}

// handle hands events to the plugin in as few calls as the batch bounds allow.
func (c *callback) handle(events []*event.Event) {
	if c.standIn != nil {
		c.show(events)
		return
	}
	from := 0 // the first event not yet handed over
	for i, e := range events {
		if c.failed.Load() {
			return
		}
		if e.Event == event.PlaybookOnStats && c.WantsResults() && e.Data.Stats != nil && e.Data.Stats.Results != nil {
			// The events before the stats go first, then the results, then the stats.
			if c.batch.Len() > 0 && !c.send(events, from, i) {
				return
			}
			from = i
			if err := c.sendResults(e.Data.Stats.Results); err != nil {
				c.failOn("the consolidated results", err, events, from)
				return
			}
		}
		if c.subs[e.Event] {
			c.batch.Add(e)
		}
		if c.batch.Len() == 0 || c.batch.Size() < maxBatchBytes && i < len(events)-1 {
			continue
		}
		if !c.send(events, from, i+1) {
			return
		}
		from = i + 1
	}
	c.track(events)
}

// send hands the batch, which holds the subscribed events of events[from:to], to the plugin.
// When the plugin fails, send disables it and returns false.
func (c *callback) send(events []*event.Event, from, to int) bool {
	err := c.p.inst.send(context.Background(), c.p.inst.mod.ExportedFunction(exportEvents), c.batch.Bytes())
	if err == nil {
		err = c.p.checkOutput()
	}
	c.p.flush()
	if err != nil {
		c.failOn(c.describe(events[from:to]), err, events, from)
		return false
	}
	c.batch.Reset()
	return true
}

// failOn disables the plugin, which failed on what, and hands events[from:] to the built-in
// display if it was the stdout plugin.
func (c *callback) failOn(what string, err error, events []*event.Event, from int) {
	c.failed.Store(true)
	c.run.fail(c.p.Name, what, err)
	c.p.Close() // free its memory now
	c.takeOver(events[:from], events[from:])
}

// WantsResults implements collector.ResultsWanter: the plugin asked for the consolidated
// results (meta.Metadata.Results).
func (c *callback) WantsResults() bool { return c.p.Meta.Results }

// sendResults hands every kept result to the plugin's tally_results, host by host, in
// batches of the events' size.
func (c *callback) sendResults(results event.Results) error {
	fn := c.p.inst.mod.ExportedFunction(exportResults)
	var b wire.Batch
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		err := c.p.inst.send(context.Background(), fn, b.Bytes())
		if err == nil {
			err = c.p.checkOutput()
		}
		c.p.flush()
		b.Reset()
		return err
	}
	for _, host := range results.Hosts() {
		err := results.Each(host, func(_ string, e *event.Event) error {
			b.Add(e)
			if b.Len() >= maxBatchEvents || b.Size() >= maxBatchBytes {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return flush()
}

// describe names the event a failed call failed on, "event 17 (runner_on_ok)": the one the
// plugin says it was handling (meta.Metadata.Progress) when it broke its output limit or
// when it stopped, else the only one the call had; failing both, the range of events the
// call had.
func (c *callback) describe(events []*event.Event) string {
	var sent []*event.Event
	for _, e := range events {
		if c.subs[e.Event] {
			sent = append(sent, e)
		}
	}
	seq, ok := c.p.overLimit, c.p.overLimitKnown
	if !ok {
		seq, ok = c.p.progress()
	}
	if ok {
		for _, e := range sent {
			if e.Seq == seq {
				return fmt.Sprintf("event %d (%s)", e.Seq, e.Event)
			}
		}
	}
	first, last := sent[0], sent[len(sent)-1]
	if first == last {
		return fmt.Sprintf("event %d (%s)", first.Seq, first.Event)
	}
	return fmt.Sprintf("events %d-%d (%s to %s)", first.Seq, last.Seq, first.Event, last.Event)
}

// track remembers the last play and task started, for the display that may take over.
func (c *callback) track(events []*event.Event) {
	if c.fallback == nil {
		return
	}
	for _, e := range events {
		switch e.Event {
		case event.PlaybookOnPlayStart:
			c.lastPlay, c.lastTask = e, nil
		case event.PlaybookOnTaskStart, event.PlaybookOnHandlerTaskStart:
			c.lastTask = e
		}
	}
}

// takeOver starts the built-in display in place of a failed stdout plugin: it shows the last
// play and task started before the failed call, then the events from the failed call on.
func (c *callback) takeOver(done, rest []*event.Event) {
	if c.fallback == nil {
		return
	}
	c.track(done)
	c.standIn = c.fallback()
	for _, e := range []*event.Event{c.lastPlay, c.lastTask} {
		if e != nil {
			c.show([]*event.Event{e})
		}
	}
	c.show(rest)
}

func (c *callback) show(events []*event.Event) {
	for _, e := range events {
		_ = c.standIn.Event(e) // the built-in display's only error is the terminal's
	}
}
