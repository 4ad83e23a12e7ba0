package sink

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the "sqlite" driver: pure Go (docs/sinks.md says why this one)
)

// sqliteDialect is SQLite's: documents are JSON text, times RFC 3339 text.
var sqliteDialect = dialect{docType: "TEXT", timeType: "TEXT",
	arg: func(int) string { return "?" }} // numbered ones cost a lookup each, per row

// openSQLite opens (creating) the SQLite file of the path setting. WAL lets readers (tally
// runs list) read while a run writes; the busy timeout makes a second run that writes the
// same file wait for the first's transaction rather than fail with "database is locked";
// transactions take the write lock at once (BEGIN IMMEDIATE), so that two runs never both
// hold a read lock each waiting to write.
func openSQLite(p *params) (Sink, error) {
	path, err := p.str("path", true)
	if err != nil {
		return nil, err
	}
	db, err := OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	return &sqlSink{db: db, d: sqliteDialect}, nil
}

// OpenSQLite opens the SQLite database at path, making it and its directory if missing.
func OpenSQLite(path string) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(60000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}
