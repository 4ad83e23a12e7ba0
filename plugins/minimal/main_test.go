package main

import (
	"testing"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
)

// TestMinimalOutput pins the plugin's output on recorded runs; cmd/tally's
// TestBundledStdoutPluginsMatchAnsible compares it with ansible-playbook's minimal callback.
func TestMinimalOutput(t *testing.T) {
	golden.Run(t, golden.Case{New: func() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) }})
}
