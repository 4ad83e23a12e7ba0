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

// Write stores the run's records in one transaction, creating the tables it needs.
func (s *sqlSink) Write(ctx context.Context, jobID string, records Records) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
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
	stmts := map[string]*sql.Stmt{}
	for r, err := range records {
		if err != nil {
			return err
		}
		st := stmts[r.Collection]
		if st == nil {
			if st, err = s.table(ctx, tx, r.Collection); err != nil {
				return err
			}
			defer st.Close()
			stmts[r.Collection] = st
		}
		if _, err := st.ExecContext(ctx, jobID, r.Key, string(r.Doc), r.Created.UTC().Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("insert into %s: %w", r.Collection, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
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

// table makes the collection's table if missing and prepares its upsert.
func (s *sqlSink) table(ctx context.Context, tx *sql.Tx, collection string) (*sql.Stmt, error) {
	if err := ValidCollection(collection); err != nil {
		return nil, err // a spool file edited by hand; plugins' records were checked
	}
	t := quote(collection)
	create := `CREATE TABLE IF NOT EXISTS ` + t + ` (job_id TEXT NOT NULL, key TEXT NOT NULL, doc ` + s.d.docType +
		` NOT NULL, created ` + s.d.timeType + ` NOT NULL, PRIMARY KEY (job_id, key))`
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return nil, fmt.Errorf("create table %s: %w", collection, err)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO `+t+` (job_id, key, doc, created) VALUES (`+
		s.d.arg(1)+`, `+s.d.arg(2)+`, `+s.d.arg(3)+`, `+s.d.arg(4)+`) ON CONFLICT (job_id, key) DO UPDATE SET doc = excluded.doc, created = excluded.created`)
	if err != nil {
		return nil, fmt.Errorf("prepare the insert into %s: %w", collection, err)
	}
	return st, nil
}
