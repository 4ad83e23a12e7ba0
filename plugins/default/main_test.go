package main

import (
	"testing"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
)

func newRunner() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) }

// TestDefaultOutput pins the plugin's output on recorded runs; host/display's own tests
// compare the same drawing code with ansible-playbook's output.
func TestDefaultOutput(t *testing.T) {
	golden.Run(t, golden.Case{New: newRunner})
}

func TestDefaultHidesOKAndSkippedWhenAsked(t *testing.T) {
	c := golden.Case{New: newRunner, Options: map[string]any{"display_ok_hosts": false, "display_skipped_hosts": false, "show_custom_stats": true}}
	golden.Compare(t, "testdata/options/set_fact_stats.golden", golden.Output(t, c, golden.Runs+"/set_fact_stats.jsonl"))
}
