package sink

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink/pgtest"
	"github.com/tallyrun/tally/internal/benchutil"
)

// resultRecords are 50,000 records shaped as the db plugin's results of 1,000 hosts x 50 tasks.
func resultRecords() []Record {
	rs := records(50000)
	for i := range rs {
		rs[i].Doc = []byte(`{"host":"web0001","task":"install the packages","task_uuid":"0195f2a4-8c1e-7d3a-9b2f-4e6a1c8d0b7f","action":"package","path":"site.yml:42","status":"changed","changed":true,"duration":0.25,"msg":"","rc":0,"res":{"changed":true,"results":["ok"]}}`)
	}
	return rs
}

// benchCommit measures what happens when a run of 50,000 records ends: Run.Commit writes
// them to the spool, then to the sink in one transaction. It reports records/s and the heap's
// growth from before the records were appended to its peak (sampled every millisecond).
func benchCommit(b *testing.B, c config.Sink, getenv func(string) string, server func() time.Duration) {
	rs := resultRecords()
	var peak uint64
	var cpu, serverCPU time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		r := NewRun("job-"+string(rune('a'+i%26))+time.Now().Format("150405.000000"), map[string]config.Sink{"s": c}, Spool{Dir: b.TempDir()}, b.TempDir(), getenv)
		r.Grant("s")
		runtime.GC()
		stopHeap := benchutil.WatchHeap()
		for _, rec := range rs {
			r.Append("s", rec)
		}
		b.StartTimer()
		before, serverBefore := benchutil.CPU(), server()
		r.Commit(context.Background(), func(w string) { b.Fatal(w) })
		cpu += benchutil.CPU() - before
		serverCPU += server() - serverBefore
		b.StopTimer()
		peak = max(peak, stopHeap())
		b.StartTimer()
	}
	b.ReportMetric(float64(len(rs)*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	// On a shared machine the wall time depends on the others' load; the CPU time tally and
	// the PostgreSQL server use does not.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "tally-cpu-s/op")
	b.ReportMetric(serverCPU.Seconds()/float64(b.N), "server-cpu-s/op")
}

// noServer is the CPU time of a sink with no server: none.
func noServer() time.Duration { return 0 }

// BenchmarkSinkCommit50000SQLite: the end of a 50,000-record run into a new SQLite file.
func BenchmarkSinkCommit50000SQLite(b *testing.B) {
	benchCommit(b, sqliteConfig(filepath.Join(b.TempDir(), "runs.db")), noenv, noServer)
}

// BenchmarkSinkCommit50000Postgres: the same into a PostgreSQL 15 server the benchmark starts.
func BenchmarkSinkCommit50000Postgres(b *testing.B) {
	pg := pgtest.Start(b)
	_, c, getenv := pgSink(b, pg, "secret")
	benchCommit(b, c, getenv, pg.CPU)
}
