package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// fileSink appends each record to a file as one line of JSON with the run's job ID. A run's
// lines are written in one write (at most a few MiB at a time, under a lock held for the run),
// so two runs appending to the same file do not interleave.
type fileSink struct {
	path string
	mu   sync.Mutex
}

func openFile(p *params) (Sink, error) {
	path, err := p.str("path", true)
	if err != nil {
		return nil, err
	}
	return &fileSink{path: path}, nil
}

func (s *fileSink) Close() error { return nil }

// line is a record of the file: the record's fields and the run's job ID.
type line struct {
	JobID string `json:"job_id"`
	Record
}

func (s *fileSink) Write(ctx context.Context, jobID string, records Records) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 4<<20)
	err = func() error {
		for r, err := range records {
			if err != nil {
				return err
			}
			data, err := json.Marshal(line{jobID, r})
			if err != nil {
				return fmt.Errorf("encode record: %w", err)
			}
			if _, err := w.Write(append(data, '\n')); err != nil {
				return err
			}
		}
		return w.Flush()
	}()
	return errors.Join(err, f.Close())
}
