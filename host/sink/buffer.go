package sink

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
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
			if err := writeRecord(b.w, m); err != nil {
				return err
			}
		}
		b.mem, b.size = nil, 0
	}
	return writeRecord(b.w, r)
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
		readRecords(b.file, "sink buffer")(yield)
	}
}

// Close releases the buffer's file.
func (b *Buffer) Close() error {
	if b.file != nil {
		return b.file.Close()
	}
	return nil
}

// writeRecord appends r to w in the form of the buffer's file and the spool: the collection,
// the key and the document, each a little-endian u32 length and its bytes, then the time as
// an i64 of Unix nanoseconds. Nothing is re-encoded, so that keeping a run costs little next
// to writing it.
func writeRecord(w io.Writer, r Record) error {
	var head [4]byte
	for _, field := range [][]byte{[]byte(r.Collection), []byte(r.Key), r.Doc} {
		binary.LittleEndian.PutUint32(head[:], uint32(len(field)))
		if _, err := w.Write(head[:]); err != nil {
			return err
		}
		if _, err := w.Write(field); err != nil {
			return err
		}
	}
	var t [8]byte
	binary.LittleEndian.PutUint64(t[:], uint64(r.Created.UnixNano()))
	_, err := w.Write(t[:])
	return err
}

// maxField bounds a field read back, against a damaged file.
const maxField = 1 << 30

// readRecords yields the records writeRecord wrote to r; what names it in errors.
func readRecords(r io.Reader, what string) Records {
	return func(yield func(Record, error) bool) {
		br := bufio.NewReaderSize(r, 1<<20)
		for n := 1; ; n++ {
			var fields [3][]byte
			var err error
			for i := range fields {
				var head [4]byte
				if _, err = io.ReadFull(br, head[:]); err != nil {
					break
				}
				size := binary.LittleEndian.Uint32(head[:])
				if size > maxField {
					err = fmt.Errorf("a field of %d bytes", size)
					break
				}
				fields[i] = make([]byte, size)
				if _, err = io.ReadFull(br, fields[i]); err != nil {
					break
				}
			}
			var t [8]byte
			if err == nil {
				_, err = io.ReadFull(br, t[:])
			}
			if errors.Is(err, io.EOF) && fields[0] == nil {
				return // the end, between records
			}
			if err != nil {
				yield(Record{}, fmt.Errorf("%s: record %d: %w", what, n, err))
				return
			}
			rec := Record{Collection: string(fields[0]), Key: string(fields[1]), Doc: fields[2],
				Created: time.Unix(0, int64(binary.LittleEndian.Uint64(t[:])))}
			if !yield(rec, nil) {
				return
			}
		}
	}
}
