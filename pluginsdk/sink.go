package pluginsdk

import (
	"errors"
	"fmt"
	"sync"

	"github.com/tallyrun/tally/pluginsdk/wire"
)

// Sink is a sink the operator granted through one of the plugin's sink options
// (meta.Sink; docs/sinks.md): a place to append records to, whose destination (a database, a
// service) the plugin never learns. Get one with Config.Sink.
type Sink struct {
	name string
}

// Sink returns the sink the option called name grants; its Put fails with ErrSinkNotGranted
// when the operator granted none.
func (c *Config) Sink(name string) Sink { return Sink{name: c.String(name)} }

// Granted reports whether the operator granted a sink through the option.
func (s Sink) Granted() bool { return s.name != "" }

// The errors of Put, one for each status of the host's sink_put (docs/abi.md).
var (
	ErrSinkNotGranted = errors.New("sink: not granted to this plugin")
	ErrSinkCollection = errors.New("sink: invalid collection name (want [a-z][a-z0-9_]*, at most 63 characters)")
	ErrSinkKey        = errors.New("sink: invalid key (want 1 to 1024 bytes of UTF-8)")
	ErrSinkDocument   = errors.New("sink: invalid document")
	ErrSinkTooLarge   = errors.New("sink: record over its size limit")
	ErrSinkLimit      = errors.New("sink: over the limit of records in a run")
	ErrSinkHost       = errors.New("sink: the host could not keep the record")
)

// docBuffers are the buffers documents are encoded in: the host copies a record during
// sink_put, so one buffer serves every record, and a plugin's records cost no allocation
// each.
var docBuffers = sync.Pool{New: func() any { return new([]byte) }}

var sinkErrors = []error{nil, ErrSinkNotGranted, ErrSinkCollection, ErrSinkKey, ErrSinkDocument, ErrSinkTooLarge, ErrSinkLimit, ErrSinkHost}

// Put appends a record to the sink: doc under key in collection. The host writes a run's
// records when the run ends, in one transaction per sink; a record put again under the same
// collection and key in the same run replaces the earlier one.
func (s Sink) Put(collection, key string, doc map[string]any) error {
	buf := docBuffers.Get().(*[]byte)
	defer docBuffers.Put(buf)
	*buf = wire.AppendValue((*buf)[:0], doc)
	return s.put(collection, key, *buf)
}

// PutDoc is Put with the document written by a wire.Doc: cheaper than a map for a plugin
// that appends a record for every result.
func (s Sink) PutDoc(collection, key string, doc *wire.Doc) error {
	return s.put(collection, key, doc.Bytes())
}

func (s Sink) put(collection, key string, doc []byte) error {
	if s.name == "" {
		return ErrSinkNotGranted
	}
	st := putRecord(s.name, collection, key, doc)
	if st == 0 {
		return nil
	}
	if int(st) < len(sinkErrors) {
		return sinkErrors[st]
	}
	return fmt.Errorf("sink: status %d", st)
}
