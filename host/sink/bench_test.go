package sink

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink/pgtest"
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
		base := heap()
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() {
			var max uint64
			for {
				if h := heap(); h > max {
					max = h
				}
				select {
				case <-stop:
					done <- max
					return
				case <-time.After(time.Millisecond):
				}
			}
		}()
		for _, rec := range rs {
			r.Append("s", rec)
		}
		b.StartTimer()
		before, serverBefore := cpuTime(), server()
		r.Commit(context.Background(), func(w string) { b.Fatal(w) })
		cpu += cpuTime() - before
		serverCPU += server() - serverBefore
		b.StopTimer()
		close(stop)
		if m := <-done; m > base && m-base > peak {
			peak = m - base
		}
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

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

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
