package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tallyrun/tally/host/sink"
	"github.com/tallyrun/tally/host/sink/pgtest"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// sinkEnv makes a configuration with one sqlite sink, runs, at dbPath, a plugin directory with
// the db plugin, and a state directory for the spool; it returns the environment and the
// plugin directory.
func sinkEnv(t *testing.T, dbPath string) ([]string, string) {
	t.Helper()
	return sinkEnvFor(t, "type: sqlite\n    path: "+dbPath)
}

var dbPlugin struct {
	once sync.Once
	file string
	err  error
}

// sinkPluginDir returns the db plugin's .wasm file, built once for the test binary, in a
// directory of its own.
func sinkPluginDir(t *testing.T) string {
	t.Helper()
	dbPlugin.once.Do(func() {
		dir, err := os.MkdirTemp("", "tally-db-plugin-")
		if err != nil {
			dbPlugin.err = err
			return
		}
		dbPlugin.file = filepath.Join(dir, "db.wasm")
		dbPlugin.err = os.WriteFile(dbPlugin.file, plugintest.Build(t, "../../plugins/db"), 0o644)
	})
	if dbPlugin.err != nil {
		t.Fatal(dbPlugin.err)
	}
	return dbPlugin.file
}

// sinkEnvFor is sinkEnv with the sink's settings, YAML indented under it.
func sinkEnvFor(t *testing.T, settings string) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	plugins := filepath.Dir(sinkPluginDir(t))
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte("sinks:\n  runs:\n    "+settings+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "TALLY_CONFIG="+config, "XDG_STATE_HOME="+filepath.Join(dir, "state")), plugins
}

// tallyIn runs tally with env and returns its standard output, standard error and exit code.
func tallyIn(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(tallyBinary(t), args...)
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// shown is what tally runs show --json gives of a run.
type shown struct {
	Run struct {
		JobID  string                    `json:"job_id"`
		Status string                    `json:"status"`
		RC     int                       `json:"rc"`
		Hosts  map[string]map[string]int `json:"hosts"`
	} `json:"run"`
	Failures []struct{ Host, Task, Msg string }
	Tasks    []struct{ Name string }
}

func showRunJSON(t *testing.T, env []string, jobID string) shown {
	t.Helper()
	out, stderr, rc := tallyIn(t, env, "runs", "show", "--json", jobID)
	if rc != 0 {
		t.Fatalf("tally runs show: rc %d: %s", rc, stderr)
	}
	var s shown
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("tally runs show --json: %v: %s", err, out)
	}
	return s
}

func TestDBPluginRecordsARunThatRunsShowGivesBackWithThePlayRecap(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "runs.db")
		env, plugins := sinkEnv(t, path)
		checkDBPluginRun(t, env, plugins)
		db, err := sink.OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkDocumentedQueries(t, db, sqliteQueries)
	})
	t.Run("postgres", func(t *testing.T) {
		pg := pgtest.Start(t)
		env, plugins := sinkEnvFor(t, "type: postgres\n    dsn_env: TALLY_PG_DSN")
		env = append(env, "TALLY_PG_DSN="+pg.DSN("secret"))
		checkDBPluginRun(t, env, plugins)
		db, err := sql.Open("pgx", pg.DSN("secret"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkDocumentedQueries(t, db, postgresQueries)
	})
}

// The queries of docs/sinks.md, and what each gives for the run of testdata/sinks.yml: the
// last runs of a playbook, every failure of a host this week, the slowest tasks.
var (
	sqliteQueries = []string{`SELECT job_id, json_extract(doc, '$.status'), json_extract(doc, '$.start')
FROM runs WHERE EXISTS (SELECT 1 FROM json_each(doc, '$.playbooks') WHERE value LIKE '%sinks.yml')
ORDER BY json_extract(doc, '$.start') DESC LIMIT 20`, `SELECT job_id, json_extract(doc, '$.task'), json_extract(doc, '$.msg')
FROM results WHERE json_extract(doc, '$.host') = 'h2'
  AND json_extract(doc, '$.status') IN ('failed', 'unreachable')
  AND created >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')`, `SELECT json_extract(doc, '$.name'), json_extract(doc, '$.path'), json_extract(doc, '$.duration') AS d
FROM tasks ORDER BY d DESC LIMIT 10`}
	postgresQueries = []string{`SELECT job_id, doc->>'status', doc->>'start'
FROM runs WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text(doc->'playbooks') AS p WHERE p LIKE '%sinks.yml')
ORDER BY doc->>'start' DESC LIMIT 20`, `SELECT job_id, doc->>'task', doc->>'msg'
FROM results WHERE doc->>'host' = 'h2'
  AND doc->>'status' IN ('failed', 'unreachable')
  AND created >= now() - interval '7 days'`, `SELECT doc->>'name', doc->>'path', (doc->>'duration')::float AS d
FROM tasks ORDER BY d DESC LIMIT 10`}
)

func checkDocumentedQueries(t *testing.T, db *sql.DB, queries []string) {
	t.Helper()
	wantFirst := [][]string{{"job-one", "failed"}, {"job-one", "fail on h2", "h2 fails on purpose"}, nil}
	wantRows := []int{1, 1, 4}
	for i, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		n := 0
		for rows.Next() {
			cols := make([]sql.NullString, 3)
			if err := rows.Scan(&cols[0], &cols[1], &cols[2]); err != nil {
				t.Fatal(err)
			}
			for j, want := range wantFirst[i] {
				if n == 0 && cols[j].String != want {
					t.Errorf("query %d, column %d = %q, want %q", i, j, cols[j].String, want)
				}
			}
			n++
		}
		rows.Close()
		if n != wantRows[i] {
			t.Errorf("query %d gave %d rows, want %d:\n%s", i, n, wantRows[i], q)
		}
	}
}

// checkDBPluginRun runs testdata/sinks.yml with the db plugin granted the sink runs, and checks
// what tally runs show and list give back.
func checkDBPluginRun(t *testing.T, env []string, plugins string) {
	t.Helper()
	out, stderr, rc := tallyIn(t, env, "run", "-i", "h1,h2,", "-c", "local", "--job-id", "job-one", "--callback-path", plugins,
		"--callbacks", "db", "--callback-opt", "db.sink=runs", "testdata/sinks.yml")
	if rc != 2 || strings.Contains(stderr, "WARNING") {
		t.Fatalf("rc %d, stderr %s", rc, stderr)
	}
	s := showRunJSON(t, env, "job-one")
	want, err := parseRecap(out)
	if err != nil || len(want) != 2 || s.Run.RC != 2 || s.Run.Status != "failed" {
		t.Fatalf("recap %v (%v); run %+v", want, err, s.Run)
	}
	for host, w := range want {
		h := s.Run.Hosts[host]
		got := hostStats{h["ok"], h["changed"], h["unreachable"], h["failures"], h["skipped"], h["rescued"], h["ignored"]}
		if got != w {
			t.Errorf("%s: the record says %v, the PLAY RECAP %v", host, got, w)
		}
	}
	if len(s.Failures) != 1 || s.Failures[0].Host != "h2" || s.Failures[0].Msg != "h2 fails on purpose" {
		t.Errorf("failures %+v", s.Failures)
	}
	if len(s.Tasks) != 4 || s.Tasks[2].Name != "fail on h2" {
		t.Errorf("tasks %+v", s.Tasks)
	}
	table, _, _ := tallyIn(t, env, "runs", "list", "--status", "failed")
	if !strings.Contains(table, "job-one") || !strings.Contains(table, "STATUS") {
		t.Errorf("tally runs list:\n%s", table)
	}
}

// The queries of docs/sinks.md on the command line and the facts, and a run of
// testdata/sinks-facts.yml limited to h1 and tagged for them: the runs given a limit, and the
// facts of each host.
var (
	sqliteFactQueries = []string{`SELECT job_id, json_extract(doc, '$.limit'), json_extract(doc, '$.tags')
FROM runs WHERE json_extract(doc, '$.limit') IS NOT NULL`, `SELECT key, json_extract(doc, '$.facts.ansible_distribution'), json_extract(doc, '$.facts.ansible_default_ipv4.address')
FROM hosts WHERE json_extract(doc, '$.facts') IS NOT NULL`}
	postgresFactQueries = []string{`SELECT job_id, doc->>'limit', doc->>'tags'
FROM runs WHERE doc->>'limit' IS NOT NULL`, `SELECT key, doc->'facts'->>'ansible_distribution', doc->'facts'->'ansible_default_ipv4'->>'address'
FROM hosts WHERE doc->'facts' IS NOT NULL`}
)

func TestDBPluginRecordsTheCommandLineAndTheGatheredFacts(t *testing.T) {
	for _, tt := range []struct {
		name    string
		queries []string
		start   func(t *testing.T) ([]string, string, *sql.DB)
	}{
		{"sqlite", sqliteFactQueries, func(t *testing.T) ([]string, string, *sql.DB) {
			path := filepath.Join(t.TempDir(), "runs.db")
			env, plugins := sinkEnv(t, path)
			db, err := sink.OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			return env, plugins, db
		}},
		{"postgres", postgresFactQueries, func(t *testing.T) ([]string, string, *sql.DB) {
			pg := pgtest.Start(t)
			env, plugins := sinkEnvFor(t, "type: postgres\n    dsn_env: TALLY_PG_DSN")
			db, err := sql.Open("pgx", pg.DSN("secret"))
			if err != nil {
				t.Fatal(err)
			}
			return append(env, "TALLY_PG_DSN="+pg.DSN("secret")), plugins, db
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env, plugins, db := tt.start(t)
			defer db.Close()
			_, stderr, rc := tallyIn(t, env, "run", "-i", "h1,h2,", "-c", "local", "--job-id", "job-facts", "--callback-path", plugins,
				"--callbacks", "db", "--callback-opt", "db.sink=runs", "--limit", "h1", "--tags", "greet", "--skip-tags", "slow",
				"testdata/sinks-facts.yml")
			if rc != 0 || strings.Contains(stderr, "WARNING") {
				t.Fatalf("rc %d, stderr %s", rc, stderr)
			}
			var job, limit, tags string
			if err := db.QueryRow(tt.queries[0]).Scan(&job, &limit, &tags); err != nil {
				t.Fatalf("%s: %v", tt.queries[0], err)
			}
			var got []string
			if err := json.Unmarshal([]byte(tags), &got); job != "job-facts" || limit != "h1" || err != nil || len(got) != 1 || got[0] != "greet" {
				t.Errorf("the run's limit and tags: %q %q %q (%v), want job-facts h1 [\"greet\"]", job, limit, tags, err)
			}
			rows, err := db.Query(tt.queries[1])
			if err != nil {
				t.Fatalf("%s: %v", tt.queries[1], err)
			}
			defer rows.Close()
			var hosts []string
			for rows.Next() {
				var host string
				var distribution, address sql.NullString
				if err := rows.Scan(&host, &distribution, &address); err != nil {
					t.Fatal(err)
				}
				if distribution.String == "" {
					t.Errorf("%s has no distribution among its facts", host)
				}
				hosts = append(hosts, host)
			}
			if len(hosts) != 1 || hosts[0] != "h1" {
				t.Errorf("hosts with facts %v, want [h1] (h2 is outside the limit)", hosts)
			}
		})
	}
}

func TestARunWhoseSinkIsDownIsSpooledAndFlushedLater(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker") // a file: the database under it cannot be made
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env, plugins := sinkEnv(t, filepath.Join(blocker, "runs.db"))
	_, stderr, rc := tallyIn(t, env, "run", "-i", "h1,h2,", "-c", "local", "--job-id", "job-down", "--callback-path", plugins,
		"--callbacks", "db", "--callback-opt", "db.sink=runs", "testdata/sinks.yml")
	if rc != 2 {
		t.Errorf("rc %d with the sink down, want the run's own 2", rc)
	}
	if n := strings.Count(stderr, "[WARNING]: sink runs:"); n != 1 || !strings.Contains(stderr, "tally sinks flush") {
		t.Errorf("stderr has %d sink warnings, want one naming tally sinks flush:\n%s", n, stderr)
	}
	var state string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "XDG_STATE_HOME="); ok {
			state = v
		}
	}
	spooled := filepath.Join(state, "tally", "spool", "runs", "job-down")
	if st, err := os.Stat(spooled); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("spool file %s: %v %v", spooled, st, err)
	}
	// The database comes back: flush delivers the run, and a second flush finds nothing.
	os.Remove(blocker)
	os.Mkdir(blocker, 0o755)
	for _, want := range []string{"sink runs: 1 spooled run(s) written", "sink runs: 0 spooled run(s) written"} {
		out, stderr, rc := tallyIn(t, env, "sinks", "flush")
		if rc != 0 || !strings.Contains(out, want) {
			t.Fatalf("tally sinks flush: rc %d, %q, %s; want %q", rc, out, stderr, want)
		}
	}
	if s := showRunJSON(t, env, "job-down"); s.Run.RC != 2 || len(s.Run.Hosts) != 2 {
		t.Errorf("flushed run %+v", s.Run)
	}
}

// TestCompatDBPluginRecordsThePlayRecap runs every compat playbook under tally with the db
// plugin writing to a SQLite sink, and requires tally runs show to give each host the PLAY
// RECAP's counters.
func TestCompatDBPluginRecordsThePlayRecap(t *testing.T) {
	tally := tallyBinary(t)
	plugins := filepath.Dir(sinkPluginDir(t))
	eachCompatPlaybook(t, nil, func(t *testing.T, p compatPlaybook) {
		env, _ := sinkEnv(t, filepath.Join(t.TempDir(), "runs.db"))
		// Only the configuration and the state directory, over the compat suite's environment.
		got := runPlaybook(t, compatSetup{inventory: "inventory.ini", env: env[len(env)-2:]},
			[]string{tally, "run", "--callback-path", plugins, "--callbacks", "db", "--callback-opt", "db.sink=runs"}, p.args, p.name)
		if strings.Contains(got.stderr, "[WARNING]: sink") || strings.Contains(got.stderr, "callback plugin db") {
			t.Fatalf("the db plugin or its sink failed:\n%s", got.output())
		}
		if len(got.recap) == 0 && got.rc == 4 {
			return // a playbook that does not parse: no run, no plugins, no record
		}
		list, stderr, rc := tallyIn(t, env, "runs", "list", "--json")
		var runs []struct {
			JobID string `json:"job_id"`
		}
		if err := json.Unmarshal([]byte(list), &runs); err != nil || rc != 0 || len(runs) != 1 {
			t.Fatalf("tally runs list: rc %d, %v: %s%s", rc, err, list, stderr)
		}
		s := showRunJSON(t, env, runs[0].JobID)
		if s.Run.RC != got.rc {
			t.Errorf("rc %d in the record, %d from the run", s.Run.RC, got.rc)
		}
		for host, w := range got.recap {
			h := s.Run.Hosts[host]
			if g := (hostStats{h["ok"], h["changed"], h["unreachable"], h["failures"], h["skipped"], h["rescued"], h["ignored"]}); g != w {
				t.Errorf("%s: the record says %v, the PLAY RECAP %v", host, g, w)
			}
		}
	})
}
