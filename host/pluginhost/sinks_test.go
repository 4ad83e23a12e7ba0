package pluginhost

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

const sinkerPkg = "./testdata/plugins/sinker"

// sinkRun runs the sinker plugin with the options given, granted what they say, with sinks
// runs (SQLite) and other (SQLite) configured, and returns what came of it and the directory
// that holds the databases and the spool.
func sinkRun(t *testing.T, limits config.SinkLimits, options ...string) (*outcome, string) {
	t.Helper()
	return sinkRunPlugin(t, "sinker", goPlugin(t, sinkerPkg), limits, options...)
}

// sinkRunPlugin is sinkRun with the plugin name and its module.
func sinkRunPlugin(t *testing.T, name string, module []byte, limits config.SinkLimits, options ...string) (*outcome, string) {
	t.Helper()
	dir := t.TempDir()
	plugintest.Install(t, dir, name, module)
	s := testSettings(t, dir, Flags{Callbacks: []string{name}, Options: options})
	s.Sinks = map[string]config.Sink{
		"runs":  {Type: "sqlite", Params: map[string]any{"path": filepath.Join(dir, "runs.db")}},
		"other": {Type: "sqlite", Params: map[string]any{"path": filepath.Join(dir, "other.db")}},
	}
	s.SinkLimits = mergeSinkLimits(limits, DefaultSinkLimits)
	s.Getenv = func(k string) string {
		if k == "XDG_STATE_HOME" {
			return filepath.Join(dir, "state")
		}
		return ""
	}
	o, err := runPlugins(t, s, testEvents(t))
	if err != nil {
		t.Fatal(err)
	}
	return o, dir
}

func rows(t *testing.T, path, query string) int {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	db, err := sink.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil && err != sql.ErrNoRows {
		if strings.Contains(err.Error(), "no such table") {
			return 0
		}
		t.Fatal(err)
	}
	return n
}

func TestPluginRecordsLandInTheGrantedSinkWhenTheRunEnds(t *testing.T) {
	o, dir := sinkRun(t, config.SinkLimits{}, "sinker.sink=runs")
	if len(o.warnings) != 0 || strings.Contains(o.log.String(), "put ") {
		t.Fatalf("warnings %q, log %q", o.warnings, o.log.String())
	}
	events := len(testEvents(t))
	if n := rows(t, filepath.Join(dir, "runs.db"), `SELECT count(*) FROM events WHERE job_id = 'job-1'`); n != events {
		t.Errorf("%d records in the sink, want one per event, %d", n, events)
	}
	if n := rows(t, filepath.Join(dir, "other.db"), `SELECT count(*) FROM events`); n != 0 {
		t.Errorf("%d records in a sink the plugin was not granted", n)
	}
}

func TestPluginCannotReachASinkItWasNotGranted(t *testing.T) {
	o, dir := sinkRun(t, config.SinkLimits{}, "sinker.sink=runs", "sinker.mode=steal", "sinker.target=other")
	if !strings.Contains(o.log.String(), "put 0: sink: not granted to this plugin") {
		t.Errorf("log %q: the plugin was not told", o.log.String())
	}
	if n := rows(t, filepath.Join(dir, "other.db"), `SELECT count(*) FROM runs`); n != 0 {
		t.Errorf("%d records in the sink the plugin was not granted", n)
	}
}

func TestSinkOptionNamingNoConfiguredSinkStopsTheRun(t *testing.T) {
	dir := t.TempDir()
	plugintest.Install(t, dir, "sinker", goPlugin(t, sinkerPkg))
	s := testSettings(t, dir, Flags{Callbacks: []string{"sinker"}, Options: []string{"sinker.sink=nowhere"}})
	_, err := runPlugins(t, s, testEvents(t))
	if err == nil || !strings.Contains(err.Error(), `option sink: no sink named "nowhere"`) {
		t.Errorf("error %v, want one naming the missing sink", err)
	}
}

func TestInvalidCollectionNamesAndKeysAreRefused(t *testing.T) {
	o, dir := sinkRun(t, config.SinkLimits{}, "sinker.sink=runs", "sinker.mode=badnames")
	log := o.log.String()
	for i := range 7 {
		if !strings.Contains(log, "put "+string(rune('0'+i))+": sink: invalid collection name") {
			t.Errorf("collection %d was not refused; log %q", i, log)
		}
	}
	if !strings.Contains(log, "put 99: sink: invalid key") {
		t.Errorf("the empty key was not refused; log %q", log)
	}
	db := filepath.Join(dir, "runs.db")
	if n := rows(t, db, `SELECT count(*) FROM sqlite_master WHERE name != 'tally_schema'`); n != 0 {
		t.Errorf("%d tables made from refused names", n)
	}
}

func TestAFloodingPluginIsStoppedAtItsLimitsWithOneWarning(t *testing.T) {
	o, dir := sinkRun(t, config.SinkLimits{Records: 5, Bytes: 100 << 20}, "sinker.sink=runs", "sinker.mode=flood")
	if !strings.Contains(o.log.String(), "put 5: sink: over the limit of records in a run") {
		t.Errorf("log %q: the plugin was not told at its limit", o.log.String())
	}
	if len(o.warnings) != 1 || !strings.Contains(o.warnings[0], "sinker: sink records refused") {
		t.Errorf("warnings %q, want one", o.warnings)
	}
	if n := rows(t, filepath.Join(dir, "runs.db"), `SELECT count(*) FROM flood`); n != 5 {
		t.Errorf("%d records stored, want the 5 within the limit", n)
	}

	// The byte limit: records of just under 1 MiB, 3 of which fit in 3 MiB.
	o, dir = sinkRun(t, config.SinkLimits{Bytes: 3 << 20}, "sinker.sink=runs", "sinker.mode=flood")
	if n := rows(t, filepath.Join(dir, "runs.db"), `SELECT count(*) FROM flood`); n != 3 {
		t.Errorf("%d records stored within 3 MiB, want 3", n)
	}
	if len(o.warnings) != 1 {
		t.Errorf("warnings %q, want one", o.warnings)
	}
}

func TestARecordOverTheSizeLimitIsRefusedAndTheNextOneTaken(t *testing.T) {
	o, dir := sinkRun(t, config.SinkLimits{}, "sinker.sink=runs", "sinker.mode=huge")
	if !strings.Contains(o.log.String(), "put 0: sink: record over its size limit") || strings.Contains(o.log.String(), "put 1:") {
		t.Errorf("log %q", o.log.String())
	}
	if n := rows(t, filepath.Join(dir, "runs.db"), `SELECT count(*) FROM huge`); n != 1 {
		t.Errorf("%d records stored, want the small one", n)
	}
	if len(o.warnings) != 1 {
		t.Errorf("warnings %q, want one", o.warnings)
	}
}

func TestCHeaderPutsARecordInAGrantedSink(t *testing.T) {
	o, dir := sinkRunPlugin(t, "csink", cPlugin(t, "testdata/plugins/csink/csink.c"), config.SinkLimits{}, "csink.sink=runs")
	if log := o.log.String(); log != "[callback csink] put: 0\n[callback csink] bad: 2\n" || len(o.warnings) != 0 {
		t.Fatalf("log %q, warnings %q", log, o.warnings)
	}
	db, err := sink.OpenSQLite(filepath.Join(dir, "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var doc string
	if err := db.QueryRow(`SELECT doc FROM c_runs WHERE job_id = 'job-1' AND key = 'run'`).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	if want := `{"c":true,"half":0.5,"rc":2,"status":"failed"}`; doc != want {
		t.Errorf("doc = %s, want %s", doc, want)
	}
}

func TestCheckGivesASinkOptionAFileSinkAndShowsWhatWasAppended(t *testing.T) {
	dir := t.TempDir()
	file := plugintest.Install(t, dir, "sinker", goPlugin(t, sinkerPkg))
	h, err := New(testSettings(t, dir, Flags{}), io.Discard, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var out strings.Builder
	if err := h.Check(context.Background(), file, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`(?m)^      sink: wrote records.jsonl \(\d+ bytes\)$`).MatchString(out.String()) {
		t.Errorf("check says:\n%s", out.String())
	}
}
