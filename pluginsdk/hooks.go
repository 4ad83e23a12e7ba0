package pluginsdk

import (
	"github.com/tallyrun/tally/pluginsdk/event"
)

// Handler handles one event. An error disables the plugin for the rest of the run.
type Handler func(e *event.Event) error

// A plugin implements the hooks of the events it wants, with Ansible's v2 callback names
// without "v2_"; it subscribes to exactly those events. The event a hook receives is the
// plugin's to keep.
type (
	// PlaybookOnStartHook subscribes a plugin to playbook_on_start.
	PlaybookOnStartHook interface{ PlaybookOnStart(*event.Event) error }
	// PlaybookOnPlayStartHook subscribes a plugin to playbook_on_play_start.
	PlaybookOnPlayStartHook interface{ PlaybookOnPlayStart(*event.Event) error }
	// PlaybookOnNoHostsMatchedHook subscribes a plugin to playbook_on_no_hosts_matched.
	PlaybookOnNoHostsMatchedHook interface{ PlaybookOnNoHostsMatched(*event.Event) error }
	// PlaybookOnTaskStartHook subscribes a plugin to playbook_on_task_start.
	PlaybookOnTaskStartHook interface{ PlaybookOnTaskStart(*event.Event) error }
	// PlaybookOnHandlerTaskStartHook subscribes a plugin to playbook_on_handler_task_start.
	PlaybookOnHandlerTaskStartHook interface{ PlaybookOnHandlerTaskStart(*event.Event) error }
	// PlaybookOnIncludeHook subscribes a plugin to playbook_on_include.
	PlaybookOnIncludeHook interface{ PlaybookOnInclude(*event.Event) error }
	// PlaybookOnNotifyHook subscribes a plugin to playbook_on_notify.
	PlaybookOnNotifyHook interface{ PlaybookOnNotify(*event.Event) error }
	// RunnerOnStartHook subscribes a plugin to runner_on_start.
	RunnerOnStartHook interface{ RunnerOnStart(*event.Event) error }
	// RunnerRetryHook subscribes a plugin to runner_retry.
	RunnerRetryHook interface{ RunnerRetry(*event.Event) error }
	// RunnerVerboseHook subscribes a plugin to runner_verbose.
	RunnerVerboseHook interface{ RunnerVerbose(*event.Event) error }
	// RunnerItemOnOKHook subscribes a plugin to runner_item_on_ok.
	RunnerItemOnOKHook interface{ RunnerItemOnOK(*event.Event) error }
	// RunnerItemOnFailedHook subscribes a plugin to runner_item_on_failed.
	RunnerItemOnFailedHook interface{ RunnerItemOnFailed(*event.Event) error }
	// RunnerItemOnSkippedHook subscribes a plugin to runner_item_on_skipped.
	RunnerItemOnSkippedHook interface{ RunnerItemOnSkipped(*event.Event) error }
	// RunnerOnOKHook subscribes a plugin to runner_on_ok.
	RunnerOnOKHook interface{ RunnerOnOK(*event.Event) error }
	// RunnerOnFailedHook subscribes a plugin to runner_on_failed.
	RunnerOnFailedHook interface{ RunnerOnFailed(*event.Event) error }
	// RunnerOnSkippedHook subscribes a plugin to runner_on_skipped.
	RunnerOnSkippedHook interface{ RunnerOnSkipped(*event.Event) error }
	// RunnerOnUnreachableHook subscribes a plugin to runner_on_unreachable.
	RunnerOnUnreachableHook interface{ RunnerOnUnreachable(*event.Event) error }
	// PlaybookOnNoHostsRemainingHook subscribes a plugin to playbook_on_no_hosts_remaining.
	PlaybookOnNoHostsRemainingHook interface{ PlaybookOnNoHostsRemaining(*event.Event) error }
	// PlaybookOnStatsHook subscribes a plugin to playbook_on_stats.
	PlaybookOnStatsHook interface{ PlaybookOnStats(*event.Event) error }
)

// EventHook is implemented by a plugin that wants every event: Event receives each event
// that has no hook of its own in the plugin.
type EventHook interface{ Event(*event.Event) error }

// ResultsHook is implemented by a plugin that wants the run's consolidated results, as one
// database insert would: Result is called for every result event of the run (runner_on_ok,
// _failed, _skipped, _unreachable; event.ResultStatus says ok, changed, failed, ...), host by
// host, just before the playbook_on_stats event. The host reads them back from disk, so a run
// of any size reaches the plugin in batches, never whole.
type ResultsHook interface{ Result(*event.Event) error }

// ConfigureHook is implemented by a plugin that reads its options or writes output: Configure
// is called once, before the first event.
type ConfigureHook interface{ Configure(*Config) error }

// CloseHook is implemented by a plugin with work to finish: Close is called once, after the
// last event (playbook_on_stats).
type CloseHook interface{ Close() error }

// RawValuesHook is implemented by a plugin that may read results and task arguments lazily.
// When RawValues, asked after Configure, says so, its events carry them encoded, in
// Data.RawResult and Task.RawArgs (read them as wire.Values), and leave Data.Result and
// Task.Args nil: building those maps is most of what decoding an event costs in WebAssembly
// (docs/benchmarks.md).
type RawValuesHook interface{ RawValues() bool }

// hookTable finds, for each event type, the plugin's hook for it.
var hookTable = map[event.Type]func(p any) Handler{
	event.PlaybookOnStart:            hook(PlaybookOnStartHook.PlaybookOnStart),
	event.PlaybookOnPlayStart:        hook(PlaybookOnPlayStartHook.PlaybookOnPlayStart),
	event.PlaybookOnNoHostsMatched:   hook(PlaybookOnNoHostsMatchedHook.PlaybookOnNoHostsMatched),
	event.PlaybookOnTaskStart:        hook(PlaybookOnTaskStartHook.PlaybookOnTaskStart),
	event.PlaybookOnHandlerTaskStart: hook(PlaybookOnHandlerTaskStartHook.PlaybookOnHandlerTaskStart),
	event.PlaybookOnInclude:          hook(PlaybookOnIncludeHook.PlaybookOnInclude),
	event.PlaybookOnNotify:           hook(PlaybookOnNotifyHook.PlaybookOnNotify),
	event.RunnerOnStart:              hook(RunnerOnStartHook.RunnerOnStart),
	event.RunnerRetry:                hook(RunnerRetryHook.RunnerRetry),
	event.RunnerVerbose:              hook(RunnerVerboseHook.RunnerVerbose),
	event.RunnerItemOnOK:             hook(RunnerItemOnOKHook.RunnerItemOnOK),
	event.RunnerItemOnFailed:         hook(RunnerItemOnFailedHook.RunnerItemOnFailed),
	event.RunnerItemOnSkipped:        hook(RunnerItemOnSkippedHook.RunnerItemOnSkipped),
	event.RunnerOnOK:                 hook(RunnerOnOKHook.RunnerOnOK),
	event.RunnerOnFailed:             hook(RunnerOnFailedHook.RunnerOnFailed),
	event.RunnerOnSkipped:            hook(RunnerOnSkippedHook.RunnerOnSkipped),
	event.RunnerOnUnreachable:        hook(RunnerOnUnreachableHook.RunnerOnUnreachable),
	event.PlaybookOnNoHostsRemaining: hook(PlaybookOnNoHostsRemainingHook.PlaybookOnNoHostsRemaining),
	event.PlaybookOnStats:            hook(PlaybookOnStatsHook.PlaybookOnStats),
}

// hook turns a hook interface's method into a lookup of that hook in a plugin.
func hook[H any](method func(H, *event.Event) error) func(p any) Handler {
	return func(p any) Handler {
		h, ok := p.(H)
		if !ok {
			return nil
		}
		return func(e *event.Event) error { return method(h, e) }
	}
}
