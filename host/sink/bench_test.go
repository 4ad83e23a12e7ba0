package sink

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkSQLiteRun50000 writes a run of 50,000 records of a few hundred bytes (the db
// plugin's results of 1,000 hosts x 50 tasks) into a new SQLite file, in one transaction.
func BenchmarkSQLiteRun50000(b *testing.B) {
	rs := records(50000)
	for i := range rs {
		rs[i].Doc = []byte(`{"host":"web0001","task":"install the packages","task_uuid":"0195f2a4-8c1e-7d3a-9b2f-4e6a1c8d0b7f","action":"package","path":"site.yml:42","status":"changed","changed":true,"duration":0.25,"msg":"","rc":0,"res":{"changed":true,"results":["ok"]}}`)
	}
	for b.Loop() {
		s, err := Open("runs", sqliteConfig(filepath.Join(b.TempDir(), "runs.db")), noenv)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Write(context.Background(), "job-1", seq(rs)); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(len(rs)*b.N)/b.Elapsed().Seconds(), "records/s")
}
