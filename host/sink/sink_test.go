package sink

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink/pgtest"
)

func noenv(string) string { return "" }

// records makes n records of collection results, keyed r0, r1, ...
func records(n int) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = Record{Collection: "results", Key: fmt.Sprintf("r%d", i), Doc: json.RawMessage(fmt.Sprintf(`{"i":%d,"msg":"ok"}`, i)), Created: time.Unix(1700000000, 0)}
	}
	return out
}

func seq(rs []Record) Records {
	return func(yield func(Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func sqliteConfig(path string) config.Sink {
	return config.Sink{Type: "sqlite", Params: map[string]any{"path": path}, Source: "test"}
}

func TestSQLiteStoresARunInATablePerCollectionAndAReplayDoesNotDuplicate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := Open("runs", sqliteConfig(path), noenv)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs := append(records(3), Record{Collection: "order", Key: "x", Doc: json.RawMessage(`{"a":1}`), Created: time.Now()})
	for range 2 { // the second write is a replay: an upsert
		if err := s.Write(context.Background(), "job-1", seq(rs)); err != nil {
			t.Fatal(err)
		}
	}
	db, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := count(t, db, `SELECT count(*) FROM results WHERE job_id = 'job-1'`); n != 3 {
		t.Errorf("results rows = %d, want 3", n)
	}
	if n := count(t, db, `SELECT count(*) FROM "order"`); n != 1 {
		t.Errorf("order rows = %d, want 1", n)
	}
	if n := count(t, db, `SELECT json_extract(doc, '$.i') FROM results WHERE key = 'r2'`); n != 2 {
		t.Errorf("doc of r2 has i = %d, want 2", n)
	}
	if n := count(t, db, `SELECT version FROM tally_schema`); n != SchemaVersion {
		t.Errorf("schema version = %d, want %d", n, SchemaVersion)
	}
}

// failing yields some records and then an error, as a spool file cut short would.
func failing(rs []Record) Records {
	return func(yield func(Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
		yield(Record{}, errors.New("cut short"))
	}
}

func TestSQLiteWritesARunWholeOrNotAtAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := Open("runs", sqliteConfig(path), noenv)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(context.Background(), "job-1", failing(records(100))); err == nil {
		t.Fatal("a write whose records end in an error succeeded")
	}
	db, _ := OpenSQLite(path)
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT count(*) FROM results`).Scan(&n)
	if err == nil && n != 0 {
		t.Errorf("%d rows of a failed run are in the database", n)
	}
}

func TestTwoRunsWritingOneSQLiteFileAtOnceBothLand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open("runs", sqliteConfig(path), noenv)
			if err == nil {
				err = s.Write(context.Background(), fmt.Sprintf("job-%d", i), seq(records(2000)))
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	db, _ := OpenSQLite(path)
	defer db.Close()
	if n := count(t, db, `SELECT count(DISTINCT job_id) FROM results`); n != len(errs) {
		t.Errorf("%d runs landed, want %d", n, len(errs))
	}
}

func TestBufferKeepsBoundedMemoryAndYieldsEveryRecordInOrder(t *testing.T) {
	b := NewBuffer(t.TempDir(), 1000)
	defer b.Close()
	want := records(500)
	for _, r := range want {
		if err := b.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if b.file == nil || len(b.mem) != 0 {
		t.Fatalf("past its bound the buffer still holds %d records in memory", len(b.mem))
	}
	i := 0
	for r, err := range b.Records() {
		if err != nil {
			t.Fatal(err)
		}
		if r.Key != want[i].Key || string(r.Doc) != string(want[i].Doc) {
			t.Fatalf("record %d = %+v, want %+v", i, r, want[i])
		}
		i++
	}
	if i != len(want) {
		t.Errorf("%d records, want %d", i, len(want))
	}
}

func TestARunASinkCannotTakeIsSpooledWithOneWarningAndFlushedLater(t *testing.T) {
	dir := t.TempDir()
	// A sink whose path is under a file cannot be opened: the database is "down".
	blocker := filepath.Join(dir, "blocker")
	os.WriteFile(blocker, nil, 0o644)
	down := sqliteConfig(filepath.Join(blocker, "runs.db"))
	spool := Spool{Dir: filepath.Join(dir, "spool")}
	for _, job := range []string{"job-1", "job-2"} {
		r := NewRun(job, map[string]config.Sink{"runs": down}, spool, dir, noenv)
		if err := r.Grant("runs"); err != nil {
			t.Fatal(err)
		}
		for _, rec := range records(10) {
			r.Append("runs", rec)
		}
		var warnings []string
		r.Commit(context.Background(), func(w string) { warnings = append(warnings, w) })
		if len(warnings) != 1 || !strings.Contains(warnings[0], "tally sinks flush") {
			t.Fatalf("warnings = %q, want one naming tally sinks flush", warnings)
		}
	}
	st, err := os.Stat(filepath.Join(spool.Dir, "runs", "job-1"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("spool file: %v, mode %v; want 0600", err, st)
	}
	up := sqliteConfig(filepath.Join(dir, "runs.db"))
	for range 2 { // the second flush finds nothing
		if _, err := Flush(context.Background(), "runs", up, spool, noenv); err != nil {
			t.Fatal(err)
		}
	}
	db, _ := OpenSQLite(filepath.Join(dir, "runs.db"))
	defer db.Close()
	if n := count(t, db, `SELECT count(*) FROM results`); n != 20 {
		t.Errorf("%d rows after the flush, want 20", n)
	}
	if jobs, _ := spool.Jobs("runs"); len(jobs) != 0 {
		t.Errorf("spool still holds %v", jobs)
	}
}

func TestFileSinkWritesJSONLinesWithTheJobID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "records.jsonl")
	s, err := Open("log", config.Sink{Type: "file", Params: map[string]any{"path": path}}, noenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), "job-1", seq(records(2))); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"job_id":"job-1","collection":"results","key":"r0","doc":{"i":0,"msg":"ok"}`) {
		t.Errorf("file = %s", data)
	}
}

func TestOpenRefusesUnknownTypesAndSettings(t *testing.T) {
	for _, c := range []struct {
		cfg  config.Sink
		want string
	}{
		{config.Sink{Type: "mongodb"}, `type "mongodb"`},
		{config.Sink{Type: "sqlite"}, "path is required"},
		{config.Sink{Type: "sqlite", Params: map[string]any{"path": "/tmp/x.db", "pth": 1}}, "unknown setting(s) pth"},
	} {
		_, err := Open("x", c.cfg, noenv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestValidCollection(t *testing.T) {
	for name, ok := range map[string]bool{"runs": true, "a_1": true, "Runs": false, "1a": false, "": false, "a-b": false,
		"a; DROP TABLE runs": false, strings.Repeat("a", 63): true, strings.Repeat("a", 64): false, "tally_schema": false} {
		if got := ValidCollection(name) == nil; got != ok {
			t.Errorf("ValidCollection(%q) ok = %v, want %v", name, got, ok)
		}
	}
}

func TestARunIsWrittenStraightToTheSinkWhenTheSpoolCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	os.WriteFile(blocker, nil, 0o644)
	spool := Spool{Dir: filepath.Join(blocker, "spool")} // under a file: it cannot be made
	db := filepath.Join(dir, "runs.db")
	r := NewRun("job-1", map[string]config.Sink{"runs": sqliteConfig(db)}, spool, dir, noenv)
	r.Grant("runs")
	for _, rec := range records(5) {
		r.Append("runs", rec)
	}
	var warnings []string
	r.Commit(context.Background(), func(w string) { warnings = append(warnings, w) })
	if len(warnings) != 0 {
		t.Errorf("warnings %q", warnings)
	}
	sdb, _ := OpenSQLite(db)
	defer sdb.Close()
	if n := count(t, sdb, `SELECT count(*) FROM results`); n != 5 {
		t.Errorf("%d rows, want 5", n)
	}
}

func TestEveryConfigurationHasTheDefaultSQLiteSinkUnlessItDeclaresRuns(t *testing.T) {
	getenv := func(k string) string {
		if k == "XDG_DATA_HOME" {
			return "/data"
		}
		return ""
	}
	got := WithDefault(nil, getenv)[DefaultName]
	if got.Type != "sqlite" || got.Params["path"] != "/data/tally/runs.db" {
		t.Errorf("default sink %+v", got)
	}
	declared := map[string]config.Sink{"runs": {Type: "file", Params: map[string]any{"path": "/x"}}}
	if got := WithDefault(declared, getenv)["runs"]; got.Type != "file" {
		t.Errorf("the declared runs sink was replaced by %+v", got)
	}
}

func TestSQLSinksKeepAKeysLastRecordAndWriteARunWholeOrNotAtAll(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "runs.db")
		s, err := Open("runs", sqliteConfig(path), noenv)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		db, err := OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkLastRecordAndWholeRuns(t, s, db, sqliteDialect)
	})
	t.Run("postgres", func(t *testing.T) {
		pg := pgtest.Start(t)
		s, _, _ := pgSink(t, pg, "secret")
		checkLastRecordAndWholeRuns(t, s, pgDB(t, pg), postgresDialect)
	})
}

// checkLastRecordAndWholeRuns writes runs to s, and reads them back through db: a key put
// twice in a run (in one batch of rows, or more than a batch apart) keeps its last record; a
// run whose records end in an error, or hold an invalid collection name, leaves nothing.
func checkLastRecordAndWholeRuns(t *testing.T, s Sink, db *sql.DB, d dialect) {
	t.Helper()
	n := 3*batchRows + 10
	again := Record{Collection: "results", Key: "r1", Doc: json.RawMessage(`{"i":99}`), Created: time.Now()}
	sameBatch := Record{Collection: "results", Key: fmt.Sprintf("r%d", n-5), Doc: json.RawMessage(`{"i":98}`), Created: time.Now()}
	order := Record{Collection: "order", Key: "x", Doc: json.RawMessage(`{"a":1}`), Created: time.Now()}
	bad := Record{Collection: "Bad", Key: "x", Doc: json.RawMessage(`{}`), Created: time.Now()}
	for _, tt := range []struct {
		name    string
		job     string
		records Records
		ok      bool
		want    map[string]int // table -> rows of the job
	}{
		{"a key twice keeps its last record", "job-1", seq(append(records(n), order, sameBatch, again)), true, map[string]int{"results": n, "order": 1}},
		{"records cut short by an error", "job-2", failing(records(100)), false, map[string]int{"results": 0}},
		{"an invalid collection (a spool edited by hand)", "job-3", seq(append(records(10), bad)), false, map[string]int{"results": 0}},
	} {
		err := s.Write(context.Background(), tt.job, tt.records)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		for table, want := range tt.want {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM `+quote(table)+` WHERE job_id = `+d.arg(1), tt.job).Scan(&n); err != nil || n != want {
				t.Errorf("%s: %d rows in %s (%v), want %d", tt.name, n, table, err, want)
			}
		}
	}
	for _, last := range []Record{again, sameBatch} {
		var doc string
		if err := db.QueryRow(`SELECT doc FROM results WHERE job_id = 'job-1' AND key = `+d.arg(1), last.Key).Scan(&doc); err != nil || strings.ReplaceAll(doc, " ", "") != string(last.Doc) {
			t.Errorf("%s's doc is %s (%v), want the last record's %s", last.Key, doc, err, last.Doc)
		}
	}
}
