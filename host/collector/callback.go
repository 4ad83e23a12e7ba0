package collector

import "github.com/tallyrun/tally/pluginsdk/event"

// Callback receives a run's events. The collector calls a callback from one goroutine of its
// own, one event at a time, in seq order, ending with the playbook_on_stats event; a callback
// needs no locking of its own.
type Callback interface {
	// Name identifies the callback in warnings.
	Name() string
	// Event handles one event. An error disables the callback for the rest of the run.
	Event(e *event.Event) error
	// Close is called once after the last event.
	Close() error
}
