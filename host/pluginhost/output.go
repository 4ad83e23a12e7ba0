package pluginhost

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// sharedLog is tally's log, which every plugin writes to: writes are whole lines, one at a
// time.
type sharedLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *sharedLog) line(prefix string, text []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// A log that cannot be written has nowhere to report it.
	_, _ = fmt.Fprintf(l.w, "%s%s\n", prefix, text)
}

// pluginLog is one plugin's log output: its lines, prefixed with its name, until it has
// written limit bytes. Only the plugin's own goroutine writes to it.
type pluginLog struct {
	log      *sharedLog
	prefix   string
	limit    int64
	written  int64
	partial  []byte
	exceeded bool
	onLimit  func() // called when the limit is reached, during the plugin's call
}

func newPluginLog(log *sharedLog, name string, limit int64) *pluginLog {
	return &pluginLog{log: log, prefix: "[callback " + name + "] ", limit: limit}
}

// Write implements io.Writer. Past the limit it drops the output, and the plugin is failed
// when its call returns.
func (p *pluginLog) Write(b []byte) (int, error) {
	n := len(b)
	if p.exceeded {
		return n, nil
	}
	if left := p.limit - p.written; int64(len(b)) > left {
		b = b[:left]
		p.exceeded = true
	}
	p.written += int64(len(b))
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		p.log.line(p.prefix, p.partial[:i])
		p.partial = p.partial[i+1:]
	}
	if p.exceeded {
		if p.onLimit != nil {
			p.onLimit()
		}
		p.flush()
		p.log.line(p.prefix, fmt.Appendf(nil, "output limit of %s reached; the rest is dropped", formatSize(p.limit)))
	}
	return n, nil
}

// flush writes out a last line that has no newline.
func (p *pluginLog) flush() {
	if len(p.partial) > 0 {
		p.log.line(p.prefix, p.partial)
		p.partial = p.partial[:0]
	}
}

// formatSize writes a byte count as the largest binary unit it is a whole number of.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
