package testplugins

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

// HostileMeta describes Hostile.
var HostileMeta = meta.Metadata{
	Name:    "hostile",
	Version: "1.0.0",
	Type:    meta.Aggregate,
	Options: []meta.Option{
		{Name: "mode", Type: meta.Str, Required: true, Description: "what to do: " + strings.Join(HostileModes, ", ")},
		{Name: "on", Type: meta.Str, Default: string(event.RunnerOnOK), Description: "the event type that sets it off"},
		{Name: "dir", Type: meta.Dir, Description: "its granted directory, for the escape mode"},
	},
}

// HostileModes are the misdeeds Hostile knows.
var HostileModes = []string{"loop", "membomb", "panic", "error", "readfile", "escape", "env", "spam"}

// Hostile misbehaves, in the way its mode option says, on the first event of the type its on
// option names. When it tries to reach outside its sandbox, it returns an error saying what
// it got, so that a test can check it got nothing.
type Hostile struct {
	mode, on, dir string
	out           io.Writer
	done          bool
}

// Configure reads the options.
func (h *Hostile) Configure(c *pluginsdk.Config) error {
	h.mode, h.on, h.dir, h.out = c.String("mode"), c.String("on"), c.String("dir"), c.Terminal
	return nil
}

// Event misbehaves once.
func (h *Hostile) Event(e *event.Event) error {
	if string(e.Event) != h.on || h.done {
		return nil
	}
	h.done = true
	switch h.mode {
	case "loop":
		for {
		}
	case "membomb":
		var hoard [][]byte
		for {
			hoard = append(hoard, make([]byte, 1<<20))
		}
	case "panic":
		panic("hostile plugin panics")
	case "error":
		return errors.New("hostile plugin fails")
	case "readfile":
		data, err := os.ReadFile("/etc/passwd")
		return fmt.Errorf("read /etc/passwd: %q, %v", data, err)
	case "escape":
		return h.escape()
	case "env":
		return fmt.Errorf("environment: %q", os.Environ())
	case "spam":
		line := strings.Repeat("spam ", 20) + "\n"
		for range 100000 {
			fmt.Print(line)
		}
		return nil
	}
	return fmt.Errorf("unknown mode %q", h.mode)
}

// escape tries to write outside its directory, and returns what each attempt gave.
func (h *Hostile) escape() error {
	var got []string
	try := func(what string, err error) { got = append(got, fmt.Sprintf("%s: %v", what, err)) }
	try("write inside", os.WriteFile(filepath.Join(h.dir, "inside.txt"), []byte("ok"), 0o644))
	try("write ..", os.WriteFile(h.dir+"/../escaped-dotdot.txt", []byte("escaped"), 0o644))
	try("write absolute", os.WriteFile(filepath.Join(filepath.Dir(h.dir), "escaped-abs.txt"), []byte("escaped"), 0o644))
	try("symlink", os.Symlink("..", filepath.Join(h.dir, "up")))
	try("write through symlink", os.WriteFile(filepath.Join(h.dir, "up", "escaped-link.txt"), []byte("escaped"), 0o644))
	return errors.New(strings.Join(got, "; "))
}
