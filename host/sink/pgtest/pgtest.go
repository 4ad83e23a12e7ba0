// Package pgtest starts PostgreSQL 15 servers for tests: each in a temporary directory of its
// own, on a loopback port, with password authentication (user postgres, password "secret").
// A test is skipped, saying why, when PostgreSQL is not installed (make test installs it).
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// Server is a PostgreSQL server of a test's own, in a temporary directory, on a loopback port,
// with password authentication (user postgres, password secret).
type Server struct {
	t         testing.TB
	dir, port string
}

// Start starts a server for the test, stopped when it ends. initdb refuses root, so a
// test run as root runs the server as the postgres user.
func Start(t testing.TB) *Server {
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
	s := &Server{t: t, dir: dir, port: port}
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
	s.Restart()
	t.Cleanup(func() { s.pgctl("stop", "-m", "immediate") })
	return s
}

// run runs a PostgreSQL program, as the postgres user when the test is root.
func (s *Server) run(prog string, args ...string) error {
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

func (s *Server) pgctl(args ...string) error {
	return s.run("pg_ctl", append([]string{"-D", filepath.Join(s.dir, "data"), "-w", "-l", filepath.Join(s.dir, "log")}, args...)...)
}

// Restart starts the server again after Stop.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.pgctl("-o", "-p "+s.port+" -k "+s.dir+" -c listen_addresses=127.0.0.1 -c fsync=off", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.t.Fatalf("%v\n%s", err, log)
	}
}

// Stop stops the server, as a database going down.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.pgctl("stop", "-m", "fast"); err != nil {
		s.t.Fatal(err)
	}
}

// DSN is the server's URL with the user postgres and password.
func (s *Server) DSN(password string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%s/postgres?sslmode=disable", password, s.port)
}

// CPU is the CPU time, user and system, that the server's processes have used so far: the
// postmaster's, its live children's (the backends serving connections still open, the
// background workers) and its ended children's. Benchmarks report it beside their own on a
// machine shared with other load, where the wall time says little. It reads /proc (Linux),
// at 100 clock ticks a second.
func (s *Server) CPU() time.Duration {
	s.t.Helper()
	pidFile, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		s.t.Fatal(err)
	}
	postmaster, _, _ := strings.Cut(string(pidFile), "\n")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		s.t.Fatal(err)
	}
	var ticks int64
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // not a process, or one that has just ended
		}
		// pid (comm) state ppid ... utime stime cutime cstime: fields 14 to 17; comm may hold
		// spaces, so count from its closing parenthesis.
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 15 || (e.Name() != postmaster && f[1] != postmaster) {
			continue
		}
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * (time.Second / 100)
}
