package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
)

// TestJSONLWritesWhatArtifactsWrite requires the plugin's file to hold, byte for byte, the
// events.jsonl that tally run --artifacts wrote for each recorded run.
func TestJSONLWritesWhatArtifactsWrite(t *testing.T) {
	runs, _ := filepath.Glob(filepath.Join(golden.Runs, "*.jsonl"))
	for _, path := range runs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out := golden.Output(t, golden.Case{
				New:       func() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) },
				DirOption: "dir",
			}, path)
			_, got, found := strings.Cut(out, ".jsonl\n")
			if !found || got != string(want) {
				t.Errorf("the plugin wrote:\n%.2000s\nwant the recording:\n%.2000s", out, want)
			}
		})
	}
}
