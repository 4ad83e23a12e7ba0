// Package event defines tally's event schema: the records the collector hands to every callback.
//
// The package is shared by the host and the plugin SDK, so it depends on the standard library
// only. docs/events.md describes the schema for readers who do not read Go.
package event

import "time"

// SchemaVersion is the version of the event schema. It changes when a field changes meaning or
// is removed; adding a field does not change it.
const SchemaVersion = 1

// Type names an event, with Ansible's v2 callback names (without the "v2_" prefix).
type Type string

// The events, in the order a run produces them.
const (
	PlaybookOnStart            Type = "playbook_on_start"
	PlaybookOnPlayStart        Type = "playbook_on_play_start"
	PlaybookOnNoHostsMatched   Type = "playbook_on_no_hosts_matched"
	PlaybookOnTaskStart        Type = "playbook_on_task_start"
	PlaybookOnHandlerTaskStart Type = "playbook_on_handler_task_start"
	PlaybookOnInclude          Type = "playbook_on_include"
	PlaybookOnNotify           Type = "playbook_on_notify"
	RunnerOnStart              Type = "runner_on_start"
	RunnerRetry                Type = "runner_retry"
	// RunnerVerbose is tally's own: a line Ansible's display prints at some verbosity, not
	// through its callbacks: at -vvv a host's connection (connecting, a command run and its
	// exit status), at -vv a meta task's "META: ..." line. res.msg holds it, res.verbosity
	// the -v count it shows from (3 when absent).
	RunnerVerbose              Type = "runner_verbose"
	RunnerItemOnOK             Type = "runner_item_on_ok"
	RunnerItemOnFailed         Type = "runner_item_on_failed"
	RunnerItemOnSkipped        Type = "runner_item_on_skipped"
	RunnerOnOK                 Type = "runner_on_ok"
	RunnerOnFailed             Type = "runner_on_failed"
	RunnerOnSkipped            Type = "runner_on_skipped"
	RunnerOnUnreachable        Type = "runner_on_unreachable"
	PlaybookOnNoHostsRemaining Type = "playbook_on_no_hosts_remaining"
	PlaybookOnStats            Type = "playbook_on_stats"
)

// Event is one record of a run. The collector sets JobID, Seq, Created, and UUID where the
// producer left it empty; the producer sets everything else.
type Event struct {
	JobID      string    `json:"job_id"`
	Seq        uint64    `json:"seq"`
	UUID       string    `json:"uuid"`
	ParentUUID string    `json:"parent_uuid,omitempty"`
	Created    time.Time `json:"created"`
	Event      Type      `json:"event"`
	Data       Data      `json:"event_data"`
}

// Data is the payload of an event. Which fields are set depends on the event type (docs/events.md).
type Data struct {
	Playbook      string `json:"playbook,omitempty"`
	Play          string `json:"play,omitempty"`
	PlayPattern   string `json:"play_pattern,omitempty"`
	Host          string `json:"host,omitempty"`
	Task          *Task  `json:"task,omitempty"`
	IsConditional bool   `json:"is_conditional,omitempty"`
	IgnoreErrors  bool   `json:"ignore_errors,omitempty"`
	// Rescued marks a failure that a block's rescue section handles: it counts as rescued, not
	// as a failure.
	Rescued bool `json:"rescued,omitempty"`
	// IgnoreUnreachable marks an unreachable result that ignore_unreachable turns into ok.
	IgnoreUnreachable bool           `json:"ignore_unreachable,omitempty"`
	Handler           string         `json:"handler,omitempty"`
	Included          string         `json:"included,omitempty"`
	Start             time.Time      `json:"start,omitzero"`
	End               time.Time      `json:"end,omitzero"`
	Duration          float64        `json:"duration,omitempty"`
	Result            map[string]any `json:"res,omitempty"`
	Stats             *Stats         `json:"stats,omitempty"` // playbook_on_stats only
	// RawResult is res in the plugin ABI's value encoding (package pluginsdk/wire): what a
	// plugin that reads values lazily gets instead of Result. The host leaves it nil.
	RawResult []byte `json:"-"`
}

// Task describes the task an event belongs to.
type Task struct {
	Name   string         `json:"name"`
	Action string         `json:"action"`
	Path   string         `json:"path"` // file:line
	UUID   string         `json:"uuid"`
	Tags   []string       `json:"tags,omitempty"`
	Args   map[string]any `json:"args,omitempty"` // omitted under no_log
	// RawArgs is Args in the plugin ABI's value encoding, as Data.RawResult is Result.
	RawArgs []byte `json:"-"`
}

// HostStats are one host's recap counters, as Ansible's PLAY RECAP prints them.
type HostStats struct {
	OK          int `json:"ok"`
	Changed     int `json:"changed"`
	Failures    int `json:"failures"`
	Unreachable int `json:"unreachable"`
	Skipped     int `json:"skipped"`
	Rescued     int `json:"rescued"`
	Ignored     int `json:"ignored"`
	Processed   int `json:"processed"`
}

// Stats is the payload of the one playbook_on_stats event that ends every run.
type Stats struct {
	Status            string                    `json:"status"` // successful, failed, unreachable, interrupted, error
	RC                int                       `json:"rc"`
	Message           string                    `json:"message,omitempty"` // what ended the run, with status error
	Start             time.Time                 `json:"start"`
	End               time.Time                 `json:"end"`
	Hosts             map[string]HostStats      `json:"hosts"`
	CustomStats       map[string]map[string]any `json:"custom_stats,omitempty"` // per host, from set_stats
	GlobalCustomStats map[string]any            `json:"global_custom_stats,omitempty"`
	// Results are the run's result events, grouped by host and status, for callbacks that
	// asked for them (see the collector's ResultsWanter); nil otherwise. They are read back from
	// where the collector kept them, so they do not take memory until used, and they can be read
	// only while the stats event is being handled.
	Results Results `json:"-"`
}

// Results gives a run's result events grouped host -> status -> list, in seq order within a
// host. Status is one of ok, changed, failed, skipped, unreachable, ignored, rescued.
type Results interface {
	// Hosts returns the hosts with results, sorted.
	Hosts() []string
	// Each calls fn for every result event of host, in seq order; an error from fn stops it.
	Each(host string, fn func(status string, e *Event) error) error
}

// ResultStatus is the status a result event is grouped under in Results.
func ResultStatus(e *Event) string {
	switch e.Event {
	case RunnerOnOK:
		if c, _ := e.Data.Result["changed"].(bool); c {
			return "changed"
		}
		return "ok"
	case RunnerOnFailed:
		switch {
		case e.Data.IgnoreErrors:
			return "ignored"
		case e.Data.Rescued:
			return "rescued"
		}
		return "failed"
	case RunnerOnSkipped:
		return "skipped"
	case RunnerOnUnreachable:
		if e.Data.IgnoreUnreachable {
			return "ignored"
		}
		return "unreachable"
	}
	return ""
}
