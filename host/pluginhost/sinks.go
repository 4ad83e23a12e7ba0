package pluginhost

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// importSinkPut is the import that appends a record to a granted sink (docs/abi.md).
const importSinkPut = "sink_put"

// The statuses of sink_put (docs/abi.md; pluginsdk and tally.h name them too).
const (
	sinkOK          = 0
	sinkNotGranted  = 1
	sinkBadName     = 2
	sinkBadKey      = 3
	sinkBadDoc      = 4
	sinkTooLarge    = 5
	sinkLimit       = 6
	sinkHostFailure = 7
)

// maxKey is the longest record key, in bytes.
const maxKey = 1024

// DefaultSinkLimits bound what one plugin appends to sinks in a run when the configuration
// (sink_limits) sets nothing: enough for the db plugin's record of a run of 1,000 hosts and
// 200 tasks, and a bound on the disk a plugin can fill.
var DefaultSinkLimits = config.SinkLimits{RecordSize: 1 << 20, Records: 1 << 20, Bytes: 1 << 30}

// sinkGrant is what a plugin may append to sinks in one run, and what it has.
type sinkGrant struct {
	names   map[string]bool // the sinks its sink options name
	run     *sink.Run       // where its records go
	limits  config.SinkLimits
	warn    func(string)
	records int64
	bytes   int64
	warned  bool
}

// sinkPut is the host function tally.sink_put(sink, collection, key, doc as eight i32) -> i32.
func (p *Plugin) sinkPut() api.GoModuleFunc {
	return func(_ context.Context, m api.Module, stack []uint64) {
		read := func(i int) []byte {
			ptr, n := api.DecodeU32(stack[i]), api.DecodeU32(stack[i+1])
			data, ok := m.Memory().Read(ptr, n)
			if !ok {
				panic(fmt.Errorf("%s.%s: %d bytes at %d are outside the plugin's memory", hostModule, importSinkPut, n, ptr))
			}
			return data
		}
		stack[0] = api.EncodeI32(p.put(string(read(0)), string(read(2)), string(read(4)), read(6)))
	}
}

// put checks a record against the plugin's grant and limits and appends it.
func (p *Plugin) put(name, collection, key string, doc []byte) int32 {
	g := &p.sinks
	switch {
	case !g.names[name]:
		return sinkNotGranted
	case sink.ValidCollection(collection) != nil:
		return sinkBadName
	case key == "" || len(key) > maxKey || !utf8.ValidString(key):
		return sinkBadKey
	}
	limits := g.limits
	if int64(len(doc)) > limits.RecordSize {
		p.sinkWarn(fmt.Sprintf("a record of %s, over its limit of %s per record", formatSize(int64(len(doc))), formatSize(limits.RecordSize)))
		return sinkTooLarge
	}
	if g.records >= limits.Records || g.bytes+int64(len(doc)) > limits.Bytes {
		p.sinkWarn(fmt.Sprintf("more than its limit of %d records or %s in a run", limits.Records, formatSize(limits.Bytes)))
		return sinkLimit
	}
	if wire.Value(doc).Kind() != wire.Map {
		return sinkBadDoc
	}
	// Straight from the encoding to JSON, as encoding/json writes the decoded map: no Go
	// values in between, which cost several times as much. A NaN or an infinity, which JSON
	// cannot hold, or a malformed value, is refused.
	data, err := wire.AppendJSON(make([]byte, 0, len(doc)), doc)
	if err != nil {
		return sinkBadDoc
	}
	if int64(len(data)) > limits.RecordSize {
		p.sinkWarn(fmt.Sprintf("a record of %s as JSON, over its limit of %s per record", formatSize(int64(len(data))), formatSize(limits.RecordSize)))
		return sinkTooLarge
	}
	if err := g.run.Append(name, sink.Record{Collection: collection, Key: key, Doc: data, Created: time.Now()}); err != nil {
		p.sinkWarn(err.Error())
		return sinkHostFailure
	}
	g.records++
	g.bytes += int64(len(data))
	return sinkOK
}

// sinkWarn tells the operator, once per plugin and run, that its records were refused.
func (p *Plugin) sinkWarn(why string) {
	if p.sinks.warned || p.sinks.warn == nil {
		return
	}
	p.sinks.warned = true
	p.sinks.warn(oneLine(fmt.Sprintf("callback plugin %s: sink records refused: %s (sink_limits in the configuration); later ones past the limit are refused without a warning", p.Name, why)))
}

// grantSink lets p append to the sink called name.
func (h *Host) grantSink(p *Plugin, name string) error {
	if h.sinks == nil {
		return fmt.Errorf("sink %q: sinks are granted only in a run", name)
	}
	if err := h.sinks.Grant(name); err != nil {
		return err
	}
	if p.sinks.names == nil {
		p.sinks.names = map[string]bool{}
	}
	p.sinks.names[name] = true
	p.sinks.run, p.sinks.limits, p.sinks.warn = h.sinks, h.settings.SinkLimits, h.warn
	return nil
}

// mergeSinkLimits fills the unset fields of l from d.
func mergeSinkLimits(l, d config.SinkLimits) config.SinkLimits {
	if l.RecordSize == 0 {
		l.RecordSize = d.RecordSize
	}
	if l.Records == 0 {
		l.Records = d.Records
	}
	if l.Bytes == 0 {
		l.Bytes = d.Bytes
	}
	return l
}
