package pluginhost

import (
	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// starting is the place among a run's callbacks of a plugin that starts in the background.
// Until the plugin is ready, Event waits: the run's events wait, in order, in the collector's
// bounded queue for this callback, and only a full queue holds the collector back. Once ready,
// it hands everything to the plugin's callback, or to the built-in display that stands in for
// a stdout plugin that could not start, or drops it if an enabled plugin could not start (which
// was reported).
type starting struct {
	name    string
	results bool
	ready   chan struct{} // closed when cb is set
	cb      collector.Callback
}

// Name implements collector.Callback.
func (s *starting) Name() string { return s.name }

// Event implements collector.Callback.
func (s *starting) Event(e *event.Event) error {
	<-s.ready
	if s.cb == nil {
		return nil
	}
	return s.cb.Event(e)
}

// Close implements collector.Callback.
func (s *starting) Close() error {
	<-s.ready
	if s.cb == nil {
		return nil
	}
	return s.cb.Close()
}

// Pending implements collector.Backlog: the plugin's own backlog once it is ready.
func (s *starting) Pending() int {
	select {
	case <-s.ready:
		if b, ok := s.cb.(collector.Backlog); ok {
			return b.Pending()
		}
	default:
	}
	return 0
}

// Started implements collector.Starter.
func (s *starting) Started() <-chan struct{} { return s.ready }

// WantsResults implements collector.ResultsWanter, from the plugin's cached metadata.
func (s *starting) WantsResults() bool { return s.results }
