package sink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SchemaVersion is the version of the tables a SQL sink makes, kept in tally_schema so that a
// later tally can migrate them.
const SchemaVersion = 1

// dialect is what differs between the SQL databases tally writes.
type dialect struct {
	// docType and timeType are the column types of a record's document and time.
	docType, timeType string
	// arg is the placeholder of the i-th argument (from 1).
	arg func(i int) string
}

// sqlSink stores each collection in a table of its own, named after it:
// (job_id, key, doc, created), primary key (job_id, key), which is also the index on job_id
// the queries of a run use.
type sqlSink struct {
	db *sql.DB
	d  dialect
}

func (s *sqlSink) Close() error { return s.db.Close() }

// quote quotes an identifier; collection names are checked (ValidCollection) before they get
// here, the quotes keep words such as "order" usable.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// batchRows is how many rows one INSERT carries: 4 arguments each, far below SQLite's and
// PostgreSQL's limits on arguments, and enough that a statement's cost is spread thin.
const batchRows = 256

// batch is the rows of one collection waiting for their INSERT. A key twice in one INSERT is
// upserted in order in SQLite: the later row replaces the earlier.
type batch struct {
	args []any
	full *sql.Stmt // the prepared INSERT of batchRows rows
}

// Write stores the run's records in one transaction, creating the tables it needs, batchRows
// rows to a statement.
func (s *sqlSink) Write(ctx context.Context, jobID string, records Records) error {
	return s.inTransaction(ctx, func(_ *sql.Conn, tx *sql.Tx) error { return s.batched(ctx, tx, jobID, records) })
}

// inTransaction runs load, which writes a run's records, in a transaction of its own on one
// connection, after making the version table; it commits if load succeeds.
func (s *sqlSink) inTransaction(ctx context.Context, load func(*sql.Conn, *sql.Tx) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if err := s.schema(ctx, tx); err != nil {
		return err
	}
	if err := load(conn, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// batched upserts the records, batchRows rows to an INSERT.
func (s *sqlSink) batched(ctx context.Context, tx *sql.Tx, jobID string, records Records) error {
	batches := map[string]*batch{}
	var order []string
	for r, err := range records {
		if err != nil {
			return err
		}
		b := batches[r.Collection]
		if b == nil {
			if err := s.table(ctx, tx, r.Collection); err != nil {
				return err
			}
			b = &batch{}
			batches[r.Collection] = b
			order = append(order, r.Collection)
		}
		b.args = append(b.args, jobID, r.Key, string(r.Doc), r.Created.UTC().Format(time.RFC3339Nano))
		if len(b.args) == 4*batchRows {
			if err := s.insert(ctx, tx, r.Collection, b); err != nil {
				return err
			}
		}
	}
	for _, c := range order {
		b := batches[c]
		err := s.insert(ctx, tx, c, b)
		if b.full != nil {
			b.full.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// insert upserts the rows of b into the collection's table and empties b.
func (s *sqlSink) insert(ctx context.Context, tx *sql.Tx, collection string, b *batch) error {
	n := len(b.args) / 4
	if n == 0 {
		return nil
	}
	var err error
	if n == batchRows {
		if b.full == nil {
			if b.full, err = tx.PrepareContext(ctx, s.upsert(collection, n)); err != nil {
				return fmt.Errorf("prepare the insert into %s: %w", collection, err)
			}
		}
		_, err = b.full.ExecContext(ctx, b.args...)
	} else {
		_, err = tx.ExecContext(ctx, s.upsert(collection, n), b.args...)
	}
	if err != nil {
		return fmt.Errorf("insert into %s: %w", collection, err)
	}
	b.args = b.args[:0]
	return nil
}

// upsert is the statement that inserts n rows into the collection's table, replacing a row of
// the same job and key.
func (s *sqlSink) upsert(collection string, n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO ` + quote(collection) + ` (job_id, key, doc, created) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(" + s.d.arg(4*i+1) + ", " + s.d.arg(4*i+2) + ", " + s.d.arg(4*i+3) + ", " + s.d.arg(4*i+4) + ")")
	}
	q.WriteString(` ON CONFLICT (job_id, key) DO UPDATE SET doc = excluded.doc, created = excluded.created`)
	return q.String()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// schema makes the version table and records the version, if missing.
func (s *sqlSink) schema(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tally_schema (version INTEGER PRIMARY KEY, applied `+s.d.timeType+` NOT NULL)`); err != nil {
		return fmt.Errorf("create tally_schema: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO tally_schema (version, applied) VALUES (`+s.d.arg(1)+`, `+s.d.arg(2)+`) ON CONFLICT (version) DO NOTHING`,
		SchemaVersion, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("record the schema version: %w", err)
	}
	return nil
}

// table makes the collection's table if missing.
func (s *sqlSink) table(ctx context.Context, tx *sql.Tx, collection string) error {
	if err := ValidCollection(collection); err != nil {
		return err // a spool file edited by hand; plugins' records were checked
	}
	create := `CREATE TABLE IF NOT EXISTS ` + quote(collection) + ` (job_id TEXT NOT NULL, key TEXT NOT NULL, doc ` + s.d.docType +
		` NOT NULL, created ` + s.d.timeType + ` NOT NULL, PRIMARY KEY (job_id, key))`
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create table %s: %w", collection, err)
	}
	return nil
}
