// Package artifacts writes a run's record in the layout ansible-runner users know, with no
// plugin needed: DIR/<job_id>/events.jsonl (every event, one JSON document a line, as
// docs/events.md describes), stats.json (the final stats call's payload), status (the status
// word) and rc (the exit code).
package artifacts

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// Writer is a collector callback that writes the artifacts of one run. Like every callback it
// is called from one goroutine at a time.
type Writer struct {
	dir    string
	file   *os.File
	buf    *bufio.Writer
	enc    *json.Encoder
	closed bool
}

// New creates DIR/jobID/ and events.jsonl in it.
func New(dir, jobID string) (*Writer, error) {
	d := filepath.Join(dir, jobID)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	f, err := os.Create(filepath.Join(d, "events.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	return &Writer{dir: d, file: f, buf: buf, enc: json.NewEncoder(buf)}, nil
}

// Dir is the directory the artifacts go to.
func (w *Writer) Dir() string { return w.dir }

// Name implements collector.Callback.
func (w *Writer) Name() string { return "artifacts" }

// Event appends e to events.jsonl; the stats event also writes stats.json, status and rc.
func (w *Writer) Event(e *event.Event) error {
	if err := w.enc.Encode(e); err != nil {
		return fmt.Errorf("write events.jsonl: %w", err)
	}
	if e.Event != event.PlaybookOnStats || e.Data.Stats == nil {
		return nil
	}
	// The run is over: make events.jsonl complete before the files that say so.
	if err := w.close(); err != nil {
		return err
	}
	st := struct {
		JobID string `json:"job_id"`
		*event.Stats
	}{e.JobID, e.Data.Stats}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stats.json: %w", err)
	}
	for name, content := range map[string][]byte{
		"stats.json": append(data, '\n'),
		"status":     []byte(e.Data.Stats.Status + "\n"),
		"rc":         []byte(strconv.Itoa(e.Data.Stats.RC) + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(w.dir, name), content, 0o644); err != nil {
			return fmt.Errorf("artifacts: %w", err)
		}
	}
	return nil
}

// Close flushes events.jsonl if the run ended without a stats event.
func (w *Writer) Close() error { return w.close() }

func (w *Writer) close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.buf.Flush(); err != nil {
		w.file.Close()
		return fmt.Errorf("write events.jsonl: %w", err)
	}
	return w.file.Close()
}
