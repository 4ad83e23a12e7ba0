package main

import (
	"testing"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
)

// TestHostlogWritesAFilePerHost pins the per-host files on recorded runs.
func TestHostlogWritesAFilePerHost(t *testing.T) {
	golden.Run(t, golden.Case{
		New:       func() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) },
		DirOption: "dir",
	})
}
