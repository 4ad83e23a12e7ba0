package sink

import (
	"database/sql"
	"fmt"
	"strconv"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// postgresDialect is PostgreSQL's: documents are JSONB, times TIMESTAMPTZ.
var postgresDialect = dialect{docType: "JSONB", timeType: "TIMESTAMPTZ",
	arg: func(i int) string { return "$" + strconv.Itoa(i) },
	doc: func(arg string) string { return arg + "::jsonb" }}

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
	return &sqlSink{db: db, d: postgresDialect}, nil
}
