package collector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// ResultsWanter is implemented by a callback that wants the consolidated results (host ->
// status -> results) in the final stats call.
type ResultsWanter interface {
	WantsResults() bool
}

// spill keeps every result event of a run in a temporary file, so that the consolidated
// results cost disk, not heap: in memory it holds only each result's offset and length,
// grouped by host (16 bytes a result). It runs as an internal subscriber, with a queue and a
// goroutine of its own, so encoding stays off the collecting goroutine.
type spill struct {
	file  *os.File
	w     *bufio.Writer
	off   int64
	index map[string][]span
	err   error
}

type span struct{ off, n int64 }

func newSpill() (*spill, error) {
	f, err := os.CreateTemp("", "tally-results-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("keep results: %w", err)
	}
	// Unlinked at once: the file goes away with the process, however it ends.
	os.Remove(f.Name())
	return &spill{file: f, w: bufio.NewWriterSize(f, 256<<10), index: map[string][]span{}}, nil
}

func (s *spill) Name() string { return "results" }

func (s *spill) Event(e *event.Event) error {
	if s.err != nil || event.ResultStatus(e) == "" {
		return nil
	}
	data, err := json.Marshal(e)
	if err != nil {
		s.err = fmt.Errorf("keep result %d: %w", e.Seq, err)
		return nil
	}
	data = append(data, '\n')
	if _, err := s.w.Write(data); err != nil {
		s.err = fmt.Errorf("keep results: %w", err)
		return nil
	}
	s.index[e.Data.Host] = append(s.index[e.Data.Host], span{s.off, int64(len(data))})
	s.off += int64(len(data))
	return nil
}

func (s *spill) Close() error {
	if s.err == nil {
		if err := s.w.Flush(); err != nil {
			s.err = fmt.Errorf("keep results: %w", err)
		}
	}
	return s.err
}

// Hosts implements event.Results.
func (s *spill) Hosts() []string {
	hosts := make([]string, 0, len(s.index))
	for h := range s.index {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	return hosts
}

// Each implements event.Results, reading the host's results back from the file.
func (s *spill) Each(host string, fn func(status string, e *event.Event) error) error {
	if s.err != nil {
		return s.err
	}
	var buf []byte
	for _, sp := range s.index[host] {
		buf = slices.Grow(buf[:0], int(sp.n))[:sp.n]
		if _, err := s.file.ReadAt(buf, sp.off); err != nil && err != io.EOF {
			return fmt.Errorf("read results: %w", err)
		}
		// Numbers stay as written (json.Number), so that an int read back is still an int.
		dec := json.NewDecoder(bytes.NewReader(buf))
		dec.UseNumber()
		var e event.Event
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("read results: %w", err)
		}
		if err := fn(event.ResultStatus(&e), &e); err != nil {
			return err
		}
	}
	return nil
}

func (s *spill) remove() { s.file.Close() }
