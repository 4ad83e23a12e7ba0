package sink

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// stalling is a sink that, half way through a run's records, writes a marker file and then
// waits for ever, in the middle of its transaction.
type stalling struct {
	Sink
	marker string
}

func (s stalling) Write(ctx context.Context, jobID string, records Records) error {
	return s.Sink.Write(ctx, jobID, func(yield func(Record, error) bool) {
		i := 0
		for r, err := range records {
			if i++; i == 2000 {
				os.WriteFile(s.marker, nil, 0o644)
				select {}
			}
			if !yield(r, err) {
				return
			}
		}
	})
}

// TestKilledDuringTheWriteLeavesTheWholeRunOrNothingAndTheSpoolHoldsIt runs a helper process
// (this test binary again) that spools a run of 5,000 records and replays it into SQLite,
// stalling half way through the transaction; it kills the helper with SIGKILL there. The
// database has none of the run, the spool still has it, and a flush then writes all of it.
func TestKilledDuringTheWriteLeavesTheWholeRunOrNothingAndTheSpoolHoldsIt(t *testing.T) {
	if dir := os.Getenv("TALLY_SINK_KILL_HELPER"); dir != "" {
		spool := Spool{Dir: filepath.Join(dir, "spool")}
		if _, err := spool.Put("runs", "job-1", seq(records(5000))); err != nil {
			t.Fatal(err)
		}
		s, err := Open("runs", sqliteConfig(filepath.Join(dir, "runs.db")), noenv)
		if err != nil {
			t.Fatal(err)
		}
		spool.Replay(context.Background(), "runs", stalling{s, filepath.Join(dir, "marker")})
		t.Fatal("the stalling sink returned")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledDuringTheWriteLeavesTheWholeRunOrNothingAndTheSpoolHoldsIt$")
	cmd.Env = append(os.Environ(), "TALLY_SINK_KILL_HELPER="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		if _, err := os.Stat(filepath.Join(dir, "marker")); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the helper ended before it stalled: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited

	db := filepath.Join(dir, "runs.db")
	sdb, err := OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var n int
	if err := sdb.QueryRow(`SELECT count(*) FROM results`).Scan(&n); err == nil && n != 0 {
		t.Errorf("%d rows of a run killed during its transaction are in the database", n)
	}
	spool := Spool{Dir: filepath.Join(dir, "spool")}
	if jobs, _ := spool.Jobs("runs"); len(jobs) != 1 {
		t.Fatalf("spool holds %v after the kill, want job-1", jobs)
	}
	if _, err := Flush(context.Background(), "runs", sqliteConfig(db), spool, noenv); err != nil {
		t.Fatal(err)
	}
	if n := count(t, sdb, `SELECT count(*) FROM results`); n != 5000 {
		t.Errorf("%d rows after the flush, want 5000", n)
	}
}
