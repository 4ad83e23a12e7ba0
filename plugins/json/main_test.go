package main

import (
	"regexp"
	"testing"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
)

// TestJSONOutput pins the plugin's document on recorded runs (times masked); cmd/tally's
// TestBundledStdoutPluginsMatchAnsible compares it with ansible.posix.json's.
func TestJSONOutput(t *testing.T) {
	golden.Run(t, golden.Case{
		New:     func() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) },
		Options: map[string]any{"show_custom_stats": true},
		Masks:   []golden.Mask{{Pattern: regexp.MustCompile(`"(start|end)": "[^"]*"`), Replacement: `"$1": "<time>"`}},
	})
}
