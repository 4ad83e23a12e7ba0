package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

func newRunner() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) }

// TestSummaryFile pins the file on recorded runs; only it is left in the directory.
func TestSummaryFile(t *testing.T) {
	golden.Run(t, golden.Case{New: newRunner, DirOption: "dir"})
}

// TestSummaryHoldsEveryResultOnce checks the file against the recorded events: each result
// event is under its host and status once, and the counters are the stats'.
func TestSummaryHoldsEveryResultOnce(t *testing.T) {
	runs, _ := filepath.Glob(filepath.Join(golden.Runs, "*.jsonl"))
	for _, path := range runs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			events, err := plugintest.ReadEvents(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			r, _ := newRunner()
			if _, err := plugintest.Run(r, events, plugintest.Options{JobID: events[0].JobID, Options: map[string]any{"dir": dir}}); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, events[0].JobID+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				JobID       string                                        `json:"job_id"`
				Summary     map[string]map[string]int                     `json:"summary"`
				TaskSummary map[string]map[string][]struct{ UUID string } `json:"task_summary"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			want := map[string]bool{}
			for _, e := range events {
				if status := event.ResultStatus(e); status != "" {
					want[e.Data.Host+" "+status+" "+e.UUID] = true
				}
				if e.Event == event.PlaybookOnStats {
					for h, c := range e.Data.Stats.Hosts {
						if got := doc.Summary[h]; got["ok"] != c.OK || got["failures"] != c.Failures || got["changed"] != c.Changed {
							t.Errorf("summary of %s = %v, stats say %+v", h, got, c)
						}
					}
				}
			}
			got := map[string]bool{}
			for h, byStatus := range doc.TaskSummary {
				for status, results := range byStatus {
					for _, r := range results {
						key := h + " " + status + " " + r.UUID
						if got[key] {
							t.Errorf("%s twice", key)
						}
						got[key] = true
					}
				}
			}
			if len(got) != len(want) || doc.JobID != events[0].JobID {
				t.Errorf("job %q, %d results, want %q and %d", doc.JobID, len(got), events[0].JobID, len(want))
			}
			for k := range want {
				if !got[k] {
					t.Errorf("missing %s", k)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".json") {
				t.Errorf("the directory holds %v, want only the summary", entries)
			}
		})
	}
}
