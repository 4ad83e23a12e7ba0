package sink

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultMemory is how many bytes of records a Buffer keeps in memory before it moves them to
// a file.
const DefaultMemory = 8 << 20

// Buffer keeps the records of one run for one sink: in memory up to a bound, then in a
// temporary file, so that a run of any size costs bounded memory. It is not safe for
// concurrent use.
type Buffer struct {
	dir    string // where the temporary file goes; "" is os.TempDir
	memMax int
	mem    []Record
	size   int
	file   *os.File
	w      *bufio.Writer
	n      int
}

// NewBuffer returns a Buffer that keeps up to memMax bytes in memory and the rest in a file
// in dir.
func NewBuffer(dir string, memMax int) *Buffer { return &Buffer{dir: dir, memMax: memMax} }

// Len is the number of records appended.
func (b *Buffer) Len() int { return b.n }

// Append adds a record.
func (b *Buffer) Append(r Record) error {
	b.n++
	if size := len(r.Doc) + len(r.Key) + len(r.Collection); b.w == nil && b.size+size <= b.memMax {
		b.mem = append(b.mem, r)
		b.size += size
		return nil
	}
	if b.w == nil {
		f, err := os.CreateTemp(b.dir, "tally-sink-*")
		if err != nil {
			return fmt.Errorf("sink buffer: %w", err)
		}
		// Only this process reads it: gone from the directory at once, it leaves nothing
		// behind whatever happens to the run.
		_ = os.Remove(f.Name())
		b.file, b.w = f, bufio.NewWriterSize(f, 1<<20)
		for _, m := range b.mem {
			if err := writeLine(b.w, m); err != nil {
				return err
			}
		}
		b.mem, b.size = nil, 0
	}
	return writeLine(b.w, r)
}

// Records yields the records in the order they were appended.
func (b *Buffer) Records() Records {
	return func(yield func(Record, error) bool) {
		if b.w == nil {
			for _, r := range b.mem {
				if !yield(r, nil) {
					return
				}
			}
			return
		}
		if err := b.w.Flush(); err != nil {
			yield(Record{}, fmt.Errorf("sink buffer: %w", err))
			return
		}
		if _, err := b.file.Seek(0, io.SeekStart); err != nil {
			yield(Record{}, fmt.Errorf("sink buffer: %w", err))
			return
		}
		readLines(b.file, "sink buffer")(yield)
	}
}

// Close releases the buffer's file.
func (b *Buffer) Close() error {
	if b.file != nil {
		return b.file.Close()
	}
	return nil
}

// writeLine writes r as one line of JSON: the form of the buffer's file, the spool and the
// file sink.
func writeLine(w io.Writer, r Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// readLines yields the records of a file of JSON lines; what names it in errors.
func readLines(r io.Reader, what string) Records {
	return func(yield func(Record, error) bool) {
		dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
		for line := 1; ; line++ {
			var rec Record
			err := dec.Decode(&rec)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Record{}, fmt.Errorf("%s: record %d: %w", what, line, err))
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}
