package testplugins

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

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
		{Name: "dir", Type: meta.Dir, Description: "its granted directory, for the escape and links modes"},
		{Name: "sleep", Type: meta.Str, Default: "1s", Description: "how long the sleep mode sleeps"},
	},
}

// HostileModes are the misdeeds Hostile knows.
var HostileModes = []string{"loop", "membomb", "bigalloc", "panic", "error", "readfile", "escape", "links", "env", "spam", "flood", "forge", "sleep"}

// Hostile misbehaves, in the way its mode option says, on the first event of the type its on
// option names. When it tries to reach outside its sandbox, it returns an error saying what
// it got, so that a test can check it got nothing.
type Hostile struct {
	mode, on, dir string
	sleep         time.Duration
	out           io.Writer
	done          bool
}

// Configure reads the options.
func (h *Hostile) Configure(c *pluginsdk.Config) error {
	h.mode, h.on, h.dir, h.out = c.String("mode"), c.String("on"), c.String("dir"), c.Terminal
	var err error
	h.sleep, err = time.ParseDuration(c.String("sleep"))
	return err
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
	case "bigalloc":
		// More than the memory limit in one allocation: the Go runtime gives up at once,
		// its memory far from the limit.
		hoard := make([]byte, 1<<30)
		return fmt.Errorf("allocated %d bytes", len(hoard))
	case "panic":
		panic("hostile plugin panics")
	case "error":
		return errors.New("hostile plugin fails")
	case "readfile":
		data, err := os.ReadFile("/etc/passwd")
		return fmt.Errorf("read /etc/passwd: %q, %v", data, err)
	case "escape":
		return h.escape()
	case "links":
		return h.links()
	case "sleep":
		time.Sleep(h.sleep)
		return nil
	case "flood":
		// Bare newlines, each a line of the log, and a line in many writes.
		newlines := []byte(strings.Repeat("\n", 1024))
		for range 1024 {
			os.Stdout.Write(newlines)
		}
		return nil
	case "forge":
		fmt.Print("\x1b[2J\x1b[Hcleared\rover\u009b31m\x9b\n")
		for _, piece := range []string{"in ", "pieces", "\n"} {
			os.Stderr.WriteString(piece)
		}
		return errors.New("boom\n[WARNING]: forged\nPLAY RECAP *****\x1b[2J\xff")
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

// links reads and writes through the symbolic links the test planted in its directory, and
// returns what each attempt gave: "ok" and what it read, or the error.
func (h *Hostile) links() error {
	var got []string
	try := func(what string, data []byte, err error) {
		if err != nil {
			got = append(got, fmt.Sprintf("%s: error %v", what, err))
		} else {
			got = append(got, fmt.Sprintf("%s: ok %q", what, data))
		}
	}
	at := func(p string) string { return filepath.Join(h.dir, p) }
	read := func(p string) {
		data, err := os.ReadFile(at(p))
		try("read "+p, data, err)
	}
	write := func(p string) { try("write "+p, nil, os.WriteFile(at(p), []byte("escaped"), 0o644)) }
	for _, p := range []string{"passwd", "out/secret.txt", "abs/secret.txt", "sub/up/secret.txt", "secretlink", "sub/../out/secret.txt"} {
		read(p)
	}
	for _, p := range []string{"out/new.txt", "sub/up/new.txt", "secretlink", "abs/new.txt"} {
		write(p)
	}
	_, err := os.ReadDir(at("out"))
	try("list out", nil, err)
	write("inner/ok.txt")
	read("sub/back/ok.txt")
	try("rename out", nil, os.Rename(at("inner/ok.txt"), at("out/moved.txt")))
	read("loop")
	return errors.New(strings.Join(got, "; "))
}
