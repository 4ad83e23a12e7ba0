package sink

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink/pgtest"
)

// pgSink opens a postgres sink on s whose DSN has password.
func pgSink(t testing.TB, s *pgtest.Server, password string) (Sink, config.Sink, func(string) string) {
	t.Helper()
	c := config.Sink{Type: "postgres", Params: map[string]any{"dsn_env": "TALLY_PG_DSN"}, Source: "test"}
	getenv := func(k string) string {
		if k == "TALLY_PG_DSN" {
			return s.DSN(password)
		}
		return ""
	}
	sk, err := Open("warehouse", c, getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sk.Close() })
	return sk, c, getenv
}

// pgDB is a connection to s for the test to read with.
func pgDB(t testing.TB, s *pgtest.Server) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", s.DSN("secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresSinkWritesARunInOneTransactionAndUpsertsOnReplay(t *testing.T) {
	pg := pgtest.Start(t)
	sk, _, _ := pgSink(t, pg, "secret")
	reader := pgDB(t, pg)
	rs := records(1000)
	if err := sk.Write(context.Background(), "job-0", seq(rs[:1])); err != nil { // the table exists
		t.Fatal(err)
	}
	// Half way through the run's records, another connection sees none of them.
	seen := -1
	watched := func(yield func(Record, error) bool) {
		for i, r := range rs {
			if i == 500 {
				if err := reader.QueryRow(`SELECT count(*) FROM results WHERE job_id = 'job-1'`).Scan(&seen); err != nil {
					t.Error(err)
				}
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	if err := sk.Write(context.Background(), "job-1", watched); err != nil {
		t.Fatal(err)
	}
	if seen != 0 {
		t.Errorf("a reader saw %d rows in the middle of the run's transaction", seen)
	}
	if err := sk.Write(context.Background(), "job-1", seq(rs)); err != nil { // a replay
		t.Fatal(err)
	}
	var n int
	var i float64
	if err := reader.QueryRow(`SELECT count(*), max((doc->>'i')::float) FROM results WHERE job_id = 'job-1'`).Scan(&n, &i); err != nil {
		t.Fatal(err)
	}
	if n != 1000 || i != 999 {
		t.Errorf("%d rows (max i %v) after a run and its replay, want 1000 (999)", n, i)
	}
	var typ string
	reader.QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_name = 'results' AND column_name = 'doc'`).Scan(&typ)
	if typ != "jsonb" {
		t.Errorf("doc is %q, want jsonb", typ)
	}
}

func TestPostgresSinkWithAWrongPasswordFailsClearlyAndTheRunIsSpooled(t *testing.T) {
	pg := pgtest.Start(t)
	_, c, getenv := pgSink(t, pg, "wrong")
	spool := Spool{Dir: filepath.Join(t.TempDir(), "spool")}
	r := NewRun("job-1", map[string]config.Sink{"warehouse": c}, spool, "", getenv)
	r.Grant("warehouse")
	r.Append("warehouse", records(1)[0])
	var warnings []string
	r.Commit(context.Background(), func(w string) { warnings = append(warnings, w) })
	if len(warnings) != 1 || !strings.Contains(warnings[0], "password authentication failed") || strings.Contains(warnings[0], "wrong") {
		t.Errorf("warnings %q: want one saying the password failed, without the password", warnings)
	}
	if jobs, _ := spool.Jobs("warehouse"); len(jobs) != 1 {
		t.Errorf("spool holds %v, want job-1", jobs)
	}
}

func TestPostgresStoppedMidRunThenRestartedGetsEverythingFromTheSpool(t *testing.T) {
	pg := pgtest.Start(t)
	_, c, getenv := pgSink(t, pg, "secret")
	spool := Spool{Dir: filepath.Join(t.TempDir(), "spool")}
	pg.Stop()
	for _, job := range []string{"job-1", "job-2"} {
		r := NewRun(job, map[string]config.Sink{"warehouse": c}, spool, "", getenv)
		r.Grant("warehouse")
		for _, rec := range records(300) {
			r.Append("warehouse", rec)
		}
		var warned int
		r.Commit(context.Background(), func(string) { warned++ })
		if warned != 1 {
			t.Fatalf("%d warnings with the server down, want 1", warned)
		}
	}
	pg.Restart()
	done, err := Flush(context.Background(), "warehouse", c, spool, getenv)
	if err != nil || len(done) != 2 {
		t.Fatalf("flush: %v, %v", done, err)
	}
	var n int
	if err := pgDB(t, pg).QueryRow(`SELECT count(*) FROM results`).Scan(&n); err != nil || n != 600 {
		t.Errorf("%d rows after the flush (%v), want 600", n, err)
	}
}
