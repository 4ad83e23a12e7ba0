package sink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// Spool keeps the runs a sink could not take, one file per sink and job ID
// ($XDG_STATE_HOME/tally/spool/SINK/JOB_ID, mode 0600, records as writeRecord writes them), until a later run or
// `tally sinks flush` replays them.
type Spool struct {
	Dir string
}

// DefaultSpool is the spool under $XDG_STATE_HOME/tally (~/.local/state by default).
func DefaultSpool(getenv func(string) string) Spool {
	dir := getenv("XDG_STATE_HOME")
	if home, err := os.UserHomeDir(); dir == "" && err == nil {
		dir = filepath.Join(home, ".local", "state")
	}
	return Spool{Dir: filepath.Join(dir, "tally", "spool")}
}

// jobFile is what a job ID may be to name a spool file (tally's job IDs, and the operator's
// --job-id values, are of this form).
var jobFile = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func (s Spool) path(sink, jobID string) (string, error) {
	if !jobFile.MatchString(jobID) {
		return "", fmt.Errorf("job ID %q cannot name a spool file", jobID)
	}
	return filepath.Join(s.Dir, sink, jobID), nil
}

// Put writes a run's records to the spool, replacing what it held for that run. The file
// appears whole or not at all.
func (s Spool) Put(sink, jobID string, records Records) (string, error) {
	path, err := s.path(sink, jobID)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+jobID+".*")
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = func() error {
		for r, err := range records {
			if err != nil {
				return err
			}
			if err := writeRecord(w, r); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return f.Sync()
	}()
	err = errors.Join(err, f.Close()) // CreateTemp's mode is 0600
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("spool %s: %w", path, err)
	}
	return path, nil
}

// Jobs lists the job IDs spooled for sink, oldest first.
func (s Spool) Jobs(sink string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.Dir, sink))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	type job struct {
		id  string
		mod int64
	}
	var jobs []job
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !e.Type().IsRegular() || !jobFile.MatchString(e.Name()) {
			continue // a temporary file of a Put that did not finish, or something not ours
		}
		jobs = append(jobs, job{e.Name(), info.ModTime().UnixNano()})
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].mod < jobs[j].mod })
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.id
	}
	return ids, nil
}

// Replay writes every spooled run of the sink called name to s, removing each file once its
// run is stored. Writing is idempotent (an upsert), so a replay interrupted and done again
// stores each run once. It returns the job IDs delivered.
func (s Spool) Replay(ctx context.Context, name string, sk Sink) ([]string, error) {
	jobs, err := s.Jobs(name)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, id := range jobs {
		path, _ := s.path(name, id)
		f, err := os.Open(path)
		if err != nil {
			return done, fmt.Errorf("spool: %w", err)
		}
		err = sk.Write(ctx, id, readRecords(f, path))
		f.Close()
		if err != nil {
			return done, fmt.Errorf("replay %s: %w", path, err)
		}
		if err := os.Remove(path); err != nil {
			return done, fmt.Errorf("spool: %w", err)
		}
		done = append(done, id)
	}
	return done, nil
}
