package testplugins

import (
	"strconv"
	"strings"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

// SinkerMeta describes Sinker.
var SinkerMeta = meta.Metadata{
	Name:    "sinker",
	Version: "1.0.0",
	Type:    meta.Aggregate,
	Options: []meta.Option{
		{Name: "sink", Type: meta.Sink, Description: "the sink it is granted"},
		{Name: "mode", Type: meta.Str, Default: "put", Description: "what to put: " + strings.Join(SinkerModes, ", ")},
		{Name: "target", Type: meta.Str, Description: "a sink name to try without a grant, for the steal mode"},
	},
}

// SinkerModes are what Sinker knows to do.
var SinkerModes = []string{"put", "badnames", "steal", "flood", "huge"}

// Sinker appends records to its sink: in the put mode one record per event (collection
// events, keyed by seq) and its stats; otherwise, on the stats event, what its mode says. It
// logs what each attempt returned, "put N: ERROR", so that a test sees what it was told.
type Sinker struct {
	c    *pluginsdk.Config
	mode string
}

// Configure reads the options.
func (s *Sinker) Configure(c *pluginsdk.Config) error {
	s.c, s.mode = c, c.String("mode")
	return nil
}

func (s *Sinker) put(sink pluginsdk.Sink, i int, collection, key string, doc map[string]any) error {
	err := sink.Put(collection, key, doc)
	if err != nil {
		s.c.Logf("put %d: %v", i, err)
	}
	return err
}

// Event appends records.
func (s *Sinker) Event(e *event.Event) error {
	sink := s.c.Sink("sink")
	if s.mode == "put" {
		s.put(sink, int(e.Seq), "events", strconv.FormatUint(e.Seq, 10), map[string]any{"event": string(e.Event), "host": e.Data.Host, "seq": int64(e.Seq)})
	}
	if e.Event != event.PlaybookOnStats {
		return nil
	}
	switch s.mode {
	case "badnames":
		for i, name := range []string{"", "Runs", "1runs", "runs; DROP TABLE runs", "tally_schema", strings.Repeat("a", 64), "a-b"} {
			s.put(sink, i, name, "k", map[string]any{"x": 1})
		}
		s.put(sink, 99, "runs", "", map[string]any{"x": 1})
	case "steal":
		s.put(s.c.Sink("target"), 0, "runs", "k", map[string]any{"stolen": true})
	case "flood":
		// 1 MiB records without end: the limits stop it; it stops at the first refusal.
		doc := map[string]any{"pad": strings.Repeat("x", 1<<20-64)}
		for i := 0; ; i++ {
			if s.put(sink, i, "flood", strconv.Itoa(i), doc) != nil {
				break
			}
		}
	case "huge":
		s.put(sink, 0, "huge", "k", map[string]any{"pad": strings.Repeat("x", 8<<20)})
		s.put(sink, 1, "huge", "small", map[string]any{"ok": true})
	}
	return nil
}
