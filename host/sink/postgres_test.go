package sink

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/config"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// pgServer is a PostgreSQL server of a test's own, in a temporary directory, on a loopback port,
// with password authentication (user postgres, password secret).
type pgServer struct {
	t         testing.TB
	dir, port string
}

// startPostgres starts a server for the test, stopped when it ends. initdb refuses root, so a
// test run as root runs the server as the postgres user.
func startPostgres(t testing.TB) *pgServer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Skipf("PostgreSQL 15 is not installed (make test installs the postgresql package): %v", err)
	}
	dir, err := os.MkdirTemp("", "tally-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	s := &pgServer{t: t, dir: dir, port: port}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root and no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, filepath.Join(dir, "pw")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+filepath.Join(dir, "pw"), "-N")
	s.start()
	t.Cleanup(func() { s.pgctl("stop", "-m", "immediate") })
	return s
}

// run runs a PostgreSQL program, as the postgres user when the test is root.
func (s *pgServer) run(prog string, args ...string) error {
	s.t.Helper()
	name, argv := filepath.Join(pgBin, prog), args
	if os.Geteuid() == 0 {
		name, argv = "runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, prog)}, args...)
	}
	out, err := exec.Command(name, argv...).CombinedOutput()
	if err != nil && prog == "initdb" {
		s.t.Fatalf("%s: %v\n%s", prog, err, out)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", prog, args[0], err, out)
	}
	return nil
}

func (s *pgServer) pgctl(args ...string) error {
	return s.run("pg_ctl", append([]string{"-D", filepath.Join(s.dir, "data"), "-w", "-l", filepath.Join(s.dir, "log")}, args...)...)
}

func (s *pgServer) start() {
	s.t.Helper()
	if err := s.pgctl("-o", "-p "+s.port+" -k "+s.dir+" -c listen_addresses=127.0.0.1 -c fsync=off", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.t.Fatalf("%v\n%s", err, log)
	}
}

func (s *pgServer) stop() {
	s.t.Helper()
	if err := s.pgctl("stop", "-m", "fast"); err != nil {
		s.t.Fatal(err)
	}
}

func (s *pgServer) dsn(password string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%s/postgres?sslmode=disable", password, s.port)
}

// sink opens a postgres sink whose DSN has password.
func (s *pgServer) sink(password string) (Sink, config.Sink, func(string) string) {
	s.t.Helper()
	c := config.Sink{Type: "postgres", Params: map[string]any{"dsn_env": "TALLY_PG_DSN"}, Source: "test"}
	getenv := func(k string) string {
		if k == "TALLY_PG_DSN" {
			return s.dsn(password)
		}
		return ""
	}
	sk, err := Open("warehouse", c, getenv)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { sk.Close() })
	return sk, c, getenv
}

func (s *pgServer) db() *sql.DB {
	s.t.Helper()
	db, err := sql.Open("pgx", s.dsn("secret"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresSinkWritesARunInOneTransactionAndUpsertsOnReplay(t *testing.T) {
	pg := startPostgres(t)
	sk, _, _ := pg.sink("secret")
	reader := pg.db()
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
	pg := startPostgres(t)
	_, c, getenv := pg.sink("wrong")
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
	pg := startPostgres(t)
	_, c, getenv := pg.sink("secret")
	spool := Spool{Dir: filepath.Join(t.TempDir(), "spool")}
	pg.stop()
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
	pg.start()
	done, err := Flush(context.Background(), "warehouse", c, spool, getenv)
	if err != nil || len(done) != 2 {
		t.Fatalf("flush: %v, %v", done, err)
	}
	var n int
	if err := pg.db().QueryRow(`SELECT count(*) FROM results`).Scan(&n); err != nil || n != 600 {
		t.Errorf("%d rows after the flush (%v), want 600", n, err)
	}
}
