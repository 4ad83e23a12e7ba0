package main

import (
	"testing"
	"time"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// TestTimerSaysTheRunTime pins the line on recorded runs, whose start and end are fixed.
func TestTimerSaysTheRunTime(t *testing.T) {
	golden.Run(t, golden.Case{New: func() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) }})
}

func TestTimerSplitsDaysHoursMinutesSeconds(t *testing.T) {
	start := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	r, err := pluginsdk.NewRunner(metadata, &plugin{})
	if err != nil {
		t.Fatal(err)
	}
	stats := &event.Event{JobID: "j", Seq: 1, Event: event.PlaybookOnStats,
		Data: event.Data{Stats: &event.Stats{Status: "successful", Start: start, End: start.Add(26*time.Hour + 3*time.Minute + 4500*time.Millisecond)}}}
	res, err := plugintest.Run(r, []*event.Event{stats}, plugintest.Options{JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Playbook run took 1 days, 2 hours, 3 minutes, 4 seconds\n"; res.Log != want {
		t.Errorf("log %q, want %q", res.Log, want)
	}
}
