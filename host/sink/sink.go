// Package sink writes the records that callback plugins append during a run to the outputs
// the operator configures (docs/sinks.md): a SQLite file, a PostgreSQL database, an HTTP
// endpoint, a file of JSON lines. Records of a run are buffered (on disk past a bound) and
// written when the run ends, all of a run's records in one go per sink; a sink that cannot
// take them leaves them in a spool that a later run or `tally sinks flush` replays.
//
// A new type of sink is a Sink implementation and a case in Open; plugins do not change.
package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/config"
)

// Record is one record a plugin appended: a document under a key in a collection.
type Record struct {
	Collection string          `json:"collection"`
	Key        string          `json:"key"`
	Doc        json.RawMessage `json:"doc"`
	Created    time.Time       `json:"created"`
}

// Records yields a run's records in the order they were appended, or an error reading them.
type Records = iter.Seq2[Record, error]

// Sink is one configured output. Write stores every record of one run, all or none: a SQL
// sink in one transaction, upserting on (job_id, collection, key) so that writing a run again
// (a replayed spool) does not duplicate it. Write may be called several times, for several
// runs; Close releases the sink's connections.
type Sink interface {
	Write(ctx context.Context, jobID string, records Records) error
	Close() error
}

// collectionName is what a collection may be called: it names a SQL table, so it is checked
// here, in the host, and no SQL text ever comes from a plugin.
var collectionName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// MaxCollection is the longest collection name (PostgreSQL's identifier limit).
const MaxCollection = 63

// ValidCollection says what is wrong with a collection name, or nil.
func ValidCollection(name string) error {
	if len(name) > MaxCollection || !collectionName.MatchString(name) || strings.HasPrefix(name, "tally_") {
		return fmt.Errorf("collection %q: want a lower-case letter, then lower-case letters, digits and _, at most %d characters, not starting with tally_", truncate(name, 80), MaxCollection)
	}
	return nil
}

// Open makes the sink called name from its configuration. getenv reads the environment
// variables the configuration names (dsn_env, headers_env).
func Open(name string, c config.Sink, getenv func(string) string) (Sink, error) {
	p := params{name: name, c: c}
	var s Sink
	var err error
	switch c.Type {
	case "sqlite":
		s, err = openSQLite(&p)
	case "postgres":
		s, err = openPostgres(&p, getenv)
	case "http":
		s, err = openHTTP(&p, getenv)
	case "file":
		s, err = openFile(&p)
	default:
		return nil, fmt.Errorf("sink %s (%s): type %q: want %s", name, c.Source, c.Type, strings.Join(Types, ", "))
	}
	if err == nil {
		err = p.unused()
	}
	if err != nil {
		if s != nil {
			s.Close()
		}
		return nil, fmt.Errorf("sink %s (%s): %w", name, c.Source, err)
	}
	return s, nil
}

// Types are the types of sink Open knows.
var Types = []string{"sqlite", "postgres", "http", "file"}

// params reads a sink's settings, remembering which were read so that a misspelt one is an
// error rather than silently ignored.
type params struct {
	name string
	c    config.Sink
	used []string
}

func (p *params) str(key string, required bool) (string, error) {
	p.used = append(p.used, key)
	v, ok := p.c.Params[key]
	if !ok {
		if required {
			return "", fmt.Errorf("%s is required", key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("%s: want a non-empty string", key)
	}
	return s, nil
}

func (p *params) unused() error {
	var bad []string
	for k := range p.c.Params {
		if !slices.Contains(p.used, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("unknown setting(s) %s for a %s sink", strings.Join(bad, ", "), p.c.Type)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// DefaultName is the sink every configuration has: unless it declares one of that name, a
// SQLite file at $XDG_DATA_HOME/tally/runs.db (~/.local/share by default), nothing to install.
const DefaultName = "runs"

// WithDefault returns configs with the default sink added when they do not declare it.
func WithDefault(configs map[string]config.Sink, getenv func(string) string) map[string]config.Sink {
	if _, ok := configs[DefaultName]; ok {
		return configs
	}
	dir := getenv("XDG_DATA_HOME")
	if home, err := os.UserHomeDir(); dir == "" && err == nil {
		dir = filepath.Join(home, ".local", "share")
	}
	out := maps.Clone(configs)
	if out == nil {
		out = map[string]config.Sink{}
	}
	out[DefaultName] = config.Sink{Type: "sqlite", Params: map[string]any{"path": filepath.Join(dir, "tally", "runs.db")}, Source: "the default sink"}
	return out
}
