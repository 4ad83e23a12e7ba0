package sink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/tallyrun/tally/host/config"
)

// Run is the sinks of one run: a Buffer for each sink granted to a plugin, written when the
// run ends (Commit). It is safe for concurrent use.
type Run struct {
	jobID   string
	configs map[string]config.Sink
	spool   Spool
	tmpDir  string
	getenv  func(string) string

	mu      sync.Mutex
	buffers map[string]*Buffer
}

// NewRun returns the sinks of the run jobID, configured by configs; runs that a sink cannot
// take go to spool; buffers past their memory bound go to files in tmpDir ("" is the system's).
func NewRun(jobID string, configs map[string]config.Sink, spool Spool, tmpDir string, getenv func(string) string) *Run {
	return &Run{jobID: jobID, configs: configs, spool: spool, tmpDir: tmpDir, getenv: getenv, buffers: map[string]*Buffer{}}
}

// Grant checks that a sink called name is configured, and readies its buffer.
func (r *Run) Grant(name string) error {
	if _, ok := r.configs[name]; !ok {
		known := slices.Sorted(maps.Keys(r.configs))
		if len(known) == 0 {
			return fmt.Errorf("no sink named %q: the configuration declares no sinks", name)
		}
		return fmt.Errorf("no sink named %q (the configuration declares %v)", name, known)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buffers[name] == nil {
		r.buffers[name] = NewBuffer(r.tmpDir, DefaultMemory)
	}
	return nil
}

// Append adds a record for the granted sink name.
func (r *Run) Append(name string, rec Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buffers[name]
	if b == nil {
		return fmt.Errorf("sink %q is not granted", name)
	}
	return b.Append(rec)
}

// Commit writes the run's records to each granted sink: first to the spool, so that a tally
// killed during the write still has them, then to the sink with every run spooled for it
// (the oldest first), each in a transaction of its own. A sink that fails leaves its runs in
// the spool, with one warning; the run is otherwise unaffected.
func (r *Run) Commit(ctx context.Context, warn func(string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(r.buffers)) {
		b := r.buffers[name]
		if b.Len() > 0 {
			if _, err := r.spool.Put(name, r.jobID, b.Records()); err != nil {
				// No spool (and so nothing spooled to replay): the sink is the only place
				// left for the run.
				if werr := r.writeDirect(ctx, name, b); werr != nil {
					warn(fmt.Sprintf("sink %s: this run's %d records are lost: %v; %v", name, b.Len(), err, werr))
				}
				b.Close()
				continue
			}
		}
		b.Close()
		if _, err := Flush(ctx, name, r.configs[name], r.spool, r.getenv); err != nil {
			warn(fmt.Sprintf("sink %s: %v; the records are kept in %s, and 'tally sinks flush' (or the next run to this sink) writes them", name, err, r.spool.Dir+"/"+name))
		}
	}
	r.buffers = map[string]*Buffer{}
}

// writeDirect writes the buffer b to the sink called name, without the spool.
func (r *Run) writeDirect(ctx context.Context, name string, b *Buffer) error {
	s, err := Open(name, r.configs[name], r.getenv)
	if err != nil {
		return err
	}
	return errors.Join(s.Write(ctx, r.jobID, b.Records()), s.Close())
}

// Flush opens the sink called name and writes every run spooled for it, returning the job IDs
// written.
func Flush(ctx context.Context, name string, c config.Sink, spool Spool, getenv func(string) string) ([]string, error) {
	jobs, err := spool.Jobs(name)
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	s, err := Open(name, c, getenv)
	if err != nil {
		return nil, err
	}
	done, err := spool.Replay(ctx, name, s)
	return done, errors.Join(err, s.Close())
}
