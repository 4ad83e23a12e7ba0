// Command hello is the smallest plugin: it says hello at the end of the run.
package main

import (
	"fmt"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

type hello struct{ c *pluginsdk.Config }

func (h *hello) Configure(c *pluginsdk.Config) error { h.c = c; return nil }

func (h *hello) PlaybookOnStats(e *event.Event) error {
	fmt.Fprintf(h.c.Terminal, "hello, %s\n", e.Data.Stats.Status)
	return nil
}

func init() {
	pluginsdk.Register(meta.Metadata{Name: "hello", Version: "1.0.0", Type: meta.Stdout}, &hello{})
}

func main() {}
