package pluginhost

import (
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink/pgtest"
	"github.com/tallyrun/tally/internal/benchutil"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// The db plugin benchmarks run the bundled db plugin (plugins/db, built to WebAssembly) in the
// plugin host on a run of 1,000 hosts x 50 tasks, as the collector hands it the events, into
// a SQLite file and into a PostgreSQL 15 server the benchmark starts. They time the two parts
// of what the plugin costs:
//
//   - put: the 50,000 result events, each of which the plugin turns into a results record
//     (decoding the event, building the document, sink_put, which the host checks, converts
//     to JSON and buffers), until the plugin has handled the last;
//   - commit: from the stats event to the committed transaction: the plugin's hosts, tasks
//     and runs records, its close, then the spool and the sink's one transaction (Run.Close).
//
// and report records/s of each (51,051 records: 50,000 results, 1,000 hosts, 50 tasks, 1 run),
// the CPU seconds of tally and of the PostgreSQL server for the whole, and the peak growth
// of the heap.

const (
	benchHosts = 1000
	benchTasks = 50
)

func BenchmarkDBPluginSQLite(b *testing.B) {
	benchDBPlugin(b, config.Sink{Type: "sqlite", Params: map[string]any{"path": filepath.Join(b.TempDir(), "runs.db")}, Source: "bench"}, noEnv, func() time.Duration { return 0 })
}

func BenchmarkDBPluginPostgres(b *testing.B) {
	pg := pgtest.Start(b)
	getenv := func(k string) string {
		if k == "TALLY_PG_DSN" {
			return pg.DSN("secret")
		}
		return ""
	}
	benchDBPlugin(b, config.Sink{Type: "postgres", Params: map[string]any{"dsn_env": "TALLY_PG_DSN"}, Source: "bench"}, getenv, pg.CPU)
}

// dbRunEvents yields the events of a run of benchHosts hosts and benchTasks tasks that the db
// plugin subscribes to, made as they go, as a run makes them (so that the heap holds no more
// of them than a run would): every task changes every host, with a result of about 250 bytes
// of JSON.
func dbRunEvents() (results iter.Seq[*event.Event], stats *event.Event) {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	res := map[string]any{"changed": true, "msg": "", "rc": 0, "results": []any{"Installed: nginx-1.22.1-9"}, "cache_updated": false,
		"stdout": "Reading package lists...\nBuilding dependency tree...", "stdout_lines": []any{"Reading package lists...", "Building dependency tree..."}}
	hosts := map[string]event.HostStats{}
	names := make([]string, benchHosts)
	for h := range names {
		names[h] = fmt.Sprintf("web%04d", h)
		hosts[names[h]] = event.HostStats{OK: benchTasks, Changed: benchTasks, Processed: 1}
	}
	results = func(yield func(*event.Event) bool) {
		if !yield(&event.Event{Event: event.PlaybookOnStart, Data: event.Data{Playbook: "site.yml"}}) {
			return
		}
		for t := range benchTasks {
			task := &event.Task{Name: fmt.Sprintf("install the packages %d", t), Action: "package", Path: fmt.Sprintf("site.yml:%d", 10+t),
				UUID: fmt.Sprintf("0195f2a4-8c1e-7d3a-9b2f-%012d", t), Tags: []string{"packages"}}
			at := start.Add(time.Duration(t) * time.Second)
			for h, host := range names {
				e := &event.Event{Event: event.RunnerOnOK, UUID: task.UUID + "-" + strconv.Itoa(h), ParentUUID: task.UUID,
					Data: event.Data{Host: host, Task: task, Start: at, End: at.Add(250 * time.Millisecond), Duration: 0.25, Result: res}}
				if !yield(e) {
					return
				}
			}
		}
	}
	stats = &event.Event{Event: event.PlaybookOnStats, Data: event.Data{Stats: &event.Stats{Status: "successful",
		Start: start, End: start.Add(benchTasks * time.Second), Hosts: hosts}}}
	return results, stats
}

func benchDBPlugin(b *testing.B, c config.Sink, getenv func(string) string, serverCPU func() time.Duration) {
	dir := b.TempDir()
	plugintest.Install(b, dir, "db", plugintest.Build(b, "../../plugins/db"))
	s := testSettings(b, dir, Flags{Callbacks: []string{"db"}, Options: []string{"db.sink=bench"}})
	s.Sinks = map[string]config.Sink{"bench": c}
	state := b.TempDir()
	s.Getenv = func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return getenv(k)
	}
	results, stats := dbRunEvents()
	records := benchHosts*benchTasks + benchHosts + benchTasks + 1
	var put, commit, cpu, server time.Duration
	var peak uint64
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		o := &outcome{}
		run, err := Start(b.Context(), s, Output{Log: io.Discard, Warn: o.warn,
			JobID: fmt.Sprintf("job-%d-%d", i, time.Now().UnixNano()), Fallback: func() collector.Callback { return display{o} }})
		if err != nil {
			b.Fatal(err)
		}
		var db *callback
		for _, cb := range run.Callbacks() {
			if c, ok := cb.(*callback); ok && c.p.Name == "db" {
				db = c
			}
		}
		runtime.GC()
		stopHeap := benchutil.WatchHeap()
		b.StartTimer()
		cpu0, server0, t0 := benchutil.CPU(), serverCPU(), time.Now()
		for e := range results {
			db.Event(e)
		}
		for db.Pending() > 0 { // the plugin handles its queue in the background
			time.Sleep(time.Millisecond)
		}
		t1 := time.Now()
		db.Event(stats)
		for _, cb := range run.Callbacks() {
			cb.Close()
		}
		if err := run.Close(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		cpu += benchutil.CPU() - cpu0
		server += serverCPU() - server0
		b.StopTimer()
		put, commit = put+t1.Sub(t0), commit+t2.Sub(t1)
		peak = max(peak, stopHeap())
		if len(o.warnings) > 0 {
			b.Fatal(o.warnings)
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(benchHosts*benchTasks)*n/put.Seconds(), "put-records/s")
	b.ReportMetric(float64(records)*n/commit.Seconds(), "commit-records/s")
	b.ReportMetric(float64(records)*n/(put+commit).Seconds(), "records/s")
	b.ReportMetric(cpu.Seconds()/n, "tally-cpu-s/op")
	b.ReportMetric(server.Seconds()/n, "server-cpu-s/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
