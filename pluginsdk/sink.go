package pluginsdk

import (
	"errors"
	"fmt"

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

var sinkErrors = []error{nil, ErrSinkNotGranted, ErrSinkCollection, ErrSinkKey, ErrSinkDocument, ErrSinkTooLarge, ErrSinkLimit, ErrSinkHost}

// Put appends a record to the sink: doc under key in collection. The host writes a run's
// records when the run ends, in one transaction per sink; a record put again under the same
// collection and key in the same run replaces the earlier one.
func (s Sink) Put(collection, key string, doc map[string]any) error {
	if s.name == "" {
		return ErrSinkNotGranted
	}
	st := putRecord(s.name, collection, key, wire.AppendValue(nil, doc))
	if st == 0 {
		return nil
	}
	if int(st) < len(sinkErrors) {
		return sinkErrors[st]
	}
	return fmt.Errorf("sink: status %d", st)
}
