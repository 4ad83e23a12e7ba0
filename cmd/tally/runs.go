package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink"
)

const runsUsage = `Usage:
  tally runs list [flags]          the runs the db plugin recorded in a sink, newest first
  tally runs show [flags] JOB_ID   one run: its recap, its failures with their messages, and
                                   how long each task took

Flags:
%s`

// runsCommand runs tally runs and returns the exit code: 0, or 1 when the sink cannot be read,
// the run is not there, or the command line is wrong.
func runsCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("tally runs", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	name := fs.String("sink", "runs", "the sink the db plugin writes to (a sqlite sink of the configuration)")
	status := fs.String("status", "", "list only the runs of this status (successful, failed, unreachable, ...)")
	limit := fs.Int("limit", 20, "list at most this many runs")
	asJSON := fs.Bool("json", false, "print the records as JSON, for scripts")
	fs.Usage = func() { fmt.Fprintf(stderr, runsUsage, fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 1
	}
	sub, rest := fs.Arg(0), fs.Args()[min(1, fs.NArg()):]
	if n, ok := map[string]int{"list": 0, "show": 1}[sub]; !ok || len(rest) != n {
		fs.Usage()
		return 1
	}
	warn := func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
	cfg, err := config.Read(os.Getenv, warn)
	if err == nil {
		var db *runsDB
		if db, err = openRuns(cfg, *name, os.Getenv); err == nil {
			defer db.Close()
			if sub == "list" {
				err = listRuns(stdout, db, *status, *limit, *asJSON)
			} else {
				err = showRun(stdout, db, rest[0], *asJSON)
			}
		}
	}
	if err != nil {
		errorf(stderr, err)
		return 1
	}
	return 0
}

// runsDB is the database of a SQL sink, read with queries written for both SQLite and
// PostgreSQL: placeholders $N, and a document's field as field("name").
type runsDB struct {
	*sql.DB
	postgres bool
}

// openRuns opens the database of the sink called name for reading.
func openRuns(cfg *config.Config, name string, getenv func(string) string) (*runsDB, error) {
	c, ok := sink.WithDefault(cfg.Sinks, getenv)[name]
	if !ok {
		return nil, fmt.Errorf("no sink named %q in the configuration", name)
	}
	switch c.Type {
	case "sqlite":
		path, _ := c.Params["path"].(string)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("sink %s: %w (no run recorded yet?)", name, err)
		}
		db, err := sink.OpenSQLite(path)
		return &runsDB{DB: db}, err
	case "postgres":
		env, _ := c.Params["dsn_env"].(string)
		if getenv(env) == "" {
			return nil, fmt.Errorf("sink %s: the environment variable %q (its dsn_env) is not set", name, env)
		}
		db, err := sql.Open("pgx", getenv(env))
		return &runsDB{DB: db, postgres: true}, err
	}
	return nil, fmt.Errorf("sink %s is of type %s: tally runs reads sqlite and postgres sinks", name, c.Type)
}

// query rewrites a query for the database: field(NAME) becomes the document's field as text.
func (db *runsDB) query(q string) string {
	if !db.postgres {
		q = placeholder.ReplaceAllString(q, "?$1")
	}
	for {
		i := strings.Index(q, "field(")
		if i < 0 {
			break
		}
		j := i + strings.Index(q[i:], ")")
		name := q[i+len("field(") : j]
		expr := "json_extract(doc, '$." + name + "')"
		if db.postgres {
			expr = "(doc->>'" + name + "')"
		}
		q = q[:i] + expr + q[j+1:]
	}
	return q
}

// placeholder is a query's $N, which SQLite writes ?N.
var placeholder = regexp.MustCompile(`\$(\d+)`)

// runDoc is the part of a runs record that the table shows.
type runDoc struct {
	JobID     string                    `json:"job_id"`
	Playbooks []string                  `json:"playbooks"`
	Status    string                    `json:"status"`
	RC        int                       `json:"rc"`
	Start     string                    `json:"start"`
	Duration  float64                   `json:"duration"`
	Hosts     map[string]map[string]int `json:"hosts"`
}

// docs runs query, whose one column is a JSON document, and returns the documents.
func docs(db *runsDB, query string, args ...any) ([]json.RawMessage, error) {
	rows, err := db.Query(db.query(query), args...)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") || strings.Contains(err.Error(), "does not exist") {
			return nil, nil // nothing recorded in that collection yet
		}
		return nil, err
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(doc))
	}
	return out, rows.Err()
}

func listRuns(w io.Writer, db *runsDB, status string, limit int, asJSON bool) error {
	runs, err := docs(db, `SELECT doc FROM runs WHERE $1 = '' OR field(status) = $1
		ORDER BY field(start) DESC LIMIT $2`, status, limit)
	if err != nil {
		return fmt.Errorf("read the runs: %w", err)
	}
	if asJSON {
		return printJSON(w, runs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB ID\tSTART\tDURATION\tSTATUS\tRC\tHOSTS\tPLAYBOOKS")
	for _, raw := range runs {
		var r runDoc
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("a runs record: %w", err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1fs\t%s\t%d\t%d\t%s\n", r.JobID, r.Start, r.Duration, r.Status, r.RC, len(r.Hosts), strings.Join(r.Playbooks, ","))
	}
	return tw.Flush()
}

func showRun(w io.Writer, db *runsDB, jobID string, asJSON bool) error {
	run, err := docs(db, `SELECT doc FROM runs WHERE job_id = $1`, jobID)
	if err == nil && len(run) == 0 {
		err = errors.New("no such run")
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", jobID, err)
	}
	failures, err := docs(db, `SELECT doc FROM results WHERE job_id = $1 AND field(status) IN ('failed', 'unreachable')
		ORDER BY field(start)`, jobID)
	if err != nil {
		return fmt.Errorf("run %s: %w", jobID, err)
	}
	tasks, err := docs(db, `SELECT doc FROM tasks WHERE job_id = $1 ORDER BY field(start)`, jobID)
	if err != nil {
		return fmt.Errorf("run %s: %w", jobID, err)
	}
	if asJSON {
		return printJSON(w, map[string]any{"run": run[0], "failures": failures, "tasks": tasks})
	}
	var r runDoc
	if err := json.Unmarshal(run[0], &r); err != nil {
		return fmt.Errorf("run %s: %w", jobID, err)
	}
	fmt.Fprintf(w, "job %s: %s (rc %d), %s, %.1fs, %s\n\nRECAP\n", r.JobID, r.Status, r.RC, r.Start, r.Duration, strings.Join(r.Playbooks, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	counters := []string{"ok", "changed", "unreachable", "failures", "skipped", "rescued", "ignored"}
	fmt.Fprintln(tw, "HOST\t"+strings.ToUpper(strings.Join(counters, "\t")))
	for _, h := range slices.Sorted(maps.Keys(r.Hosts)) {
		fmt.Fprint(tw, h)
		for _, c := range counters {
			fmt.Fprintf(tw, "\t%d", r.Hosts[h][c])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if len(failures) > 0 {
		fmt.Fprintln(w, "\nFAILURES")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tTASK\tPATH\tSTATUS\tMESSAGE")
		for _, raw := range failures {
			var f struct{ Host, Task, Path, Status, Msg string }
			json.Unmarshal(raw, &f)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Host, f.Task, f.Path, f.Status, oneLineText(f.Msg))
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nTASKS")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DURATION\tHOSTS\tTASK\tACTION\tPATH")
	for _, raw := range tasks {
		var t struct {
			Name, Action, Path string
			Duration           float64
			Hosts              int
		}
		json.Unmarshal(raw, &t)
		fmt.Fprintf(tw, "%.2fs\t%d\t%s\t%s\t%s\n", t.Duration, t.Hosts, t.Name, t.Action, t.Path)
	}
	return tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// oneLineText keeps a message on its line of the table.
func oneLineText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
