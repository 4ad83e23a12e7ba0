package main

import (
	"testing"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
)

func newRunner() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) }

// TestProfileTasksListsTheSlowest pins the list on recorded runs (the times come from the
// recorded events, so they are fixed).
func TestProfileTasksListsTheSlowest(t *testing.T) {
	golden.Run(t, golden.Case{New: newRunner})
}

func TestProfileTasksOptions(t *testing.T) {
	for _, opts := range []map[string]any{
		{"output_limit": "3", "sort_order": "ascending"},
		{"output_limit": "all", "sort_order": "none"},
	} {
		name := opts["output_limit"].(string) + "-" + opts["sort_order"].(string)
		t.Run(name, func(t *testing.T) {
			got := golden.Output(t, golden.Case{New: newRunner, Options: opts}, golden.Runs+"/loops.jsonl")
			golden.Compare(t, "testdata/options/"+name+".golden", got)
		})
	}
}
