package sink

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // and the "pgx" driver of database/sql
)

// postgresDialect is PostgreSQL's: documents are JSONB, times TIMESTAMPTZ.
var postgresDialect = dialect{docType: "JSONB", timeType: "TIMESTAMPTZ",
	arg: func(i int) string { return "$" + strconv.Itoa(i) }}

// postgresSink writes a run with COPY, PostgreSQL's bulk load, rather than sqlSink's batched
// INSERTs: the records go into a temporary table, then each collection's into its own table
// with one INSERT ... SELECT ... ON CONFLICT, all in the run's one transaction. It costs
// about two thirds of the CPU time, tally's and the server's (docs/benchmarks.md).
type postgresSink struct{ sqlSink }

// openPostgres connects to the database whose DSN (a postgres:// URL or key=value pairs) is in
// the environment variable the dsn_env setting names: credentials stay with the operator, out
// of the configuration file. The connection is made when the run's records are written, so
// that a database that is down costs a spooled run, not a refused start.
func openPostgres(p *params, getenv func(string) string) (Sink, error) {
	env, err := p.str("dsn_env", true)
	if err != nil {
		return nil, err
	}
	dsn := getenv(env)
	if dsn == "" {
		return nil, fmt.Errorf("dsn_env: the environment variable %s is not set", env)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("the DSN in %s: %w", env, err) // never the DSN itself: it may hold a password
	}
	return &postgresSink{sqlSink{db: db, d: postgresDialect}}, nil
}

// Write stores the run's records in one transaction: COPY into a temporary table (dropped at
// its end), then one upsert per collection. A key appended twice keeps its last record, as
// the batched INSERTs of other SQL sinks do.
func (s *postgresSink) Write(ctx context.Context, jobID string, records Records) error {
	return s.inTransaction(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		// Collections cannot start with tally_, so the name is the host's own.
		if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE tally_load (n BIGINT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL,
			doc JSONB NOT NULL, created TIMESTAMPTZ NOT NULL) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create the load table: %w", err)
		}
		src := newCopySource(records)
		defer src.stop()
		err := conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{"tally_load"}, []string{"n", "collection", "key", "doc", "created"}, src)
			return err
		})
		if err != nil {
			return fmt.Errorf("copy the records: %w", err)
		}
		for _, c := range src.collections {
			if err := s.table(ctx, tx, c); err != nil {
				return err
			}
			// DISTINCT ON keeps a key's last record: ON CONFLICT cannot update a row twice.
			_, err := tx.ExecContext(ctx, `INSERT INTO `+quote(c)+` (job_id, key, doc, created)
				SELECT DISTINCT ON (key) $1, key, doc, created FROM pg_temp.tally_load WHERE collection = $2 ORDER BY key, n DESC
				ON CONFLICT (job_id, key) DO UPDATE SET doc = excluded.doc, created = excluded.created`, jobID, c)
			if err != nil {
				return fmt.Errorf("insert into %s: %w", c, err)
			}
		}
		return nil
	})
}

// copySource hands a run's records to CopyFrom one row at a time, noting the collections
// they are in, in the order they first come.
type copySource struct {
	next        func() (Record, error, bool)
	stop        func()
	n           int64
	row         [5]any
	err         error
	seen        map[string]bool
	collections []string
}

func newCopySource(records Records) *copySource {
	next, stop := iter.Pull2(records)
	return &copySource{next: next, stop: stop, seen: map[string]bool{}}
}

func (c *copySource) Next() bool {
	r, err, ok := c.next()
	if !ok || err != nil {
		c.err = err
		return false
	}
	if !c.seen[r.Collection] {
		c.seen[r.Collection] = true
		c.collections = append(c.collections, r.Collection)
	}
	c.n++
	c.row = [5]any{c.n, r.Collection, r.Key, []byte(r.Doc), r.Created}
	return true
}

func (c *copySource) Values() ([]any, error) { return c.row[:], nil }
func (c *copySource) Err() error             { return c.err }
