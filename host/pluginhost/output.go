package pluginhost

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

// sharedLog is tally's log, which every plugin writes to: writes are whole lines, one write
// at a time.
type sharedLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *sharedLog) write(lines []byte) {
	if len(lines) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// A log that cannot be written has nowhere to report it.
	_, _ = l.w.Write(lines)
}

// outOfMemory is what a runtime says when it cannot have more memory (Go's: "fatal error:
// out of memory"; C's perror after malloc: "Out of memory"). It may come in pieces.
var outOfMemory = []byte("ut of memory")

// pluginLog is one plugin's log output: its lines, control characters escaped, each prefixed
// with its name, until limit bytes have reached the log (prefixes and escapes counted). Only
// the plugin's own goroutine writes to it.
type pluginLog struct {
	log      *sharedLog
	prefix   string
	limit    int64
	written  int64
	partial  []byte
	exceeded bool
	onLimit  func() // called when the limit is reached, during the plugin's call
	// saidOutOfMemory is set when the plugin, since its current call began, wrote that it
	// ran out of memory (past its limit too); recent is the end of what it wrote, for a
	// message split over writes.
	saidOutOfMemory bool
	recent          []byte
}

func newPluginLog(log *sharedLog, name string, limit int64) *pluginLog {
	return &pluginLog{log: log, prefix: "[callback " + name + "] ", limit: limit}
}

// Write implements io.Writer. What the plugin writes is merged into whole lines, and each
// call's lines reach the log in one write. Past the limit the output is dropped, and the
// plugin is failed when its call returns.
func (p *pluginLog) Write(b []byte) (int, error) {
	p.watch(b)
	if p.exceeded {
		return len(b), nil
	}
	p.partial = append(p.partial, b...)
	var out []byte
	for !p.exceeded {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		out = p.appendLine(out, p.partial[:i])
		p.partial = p.partial[i+1:]
	}
	// A line that can no longer fit is not kept waiting for its end.
	if !p.exceeded && int64(len(p.prefix)+len(p.partial)+1) > p.limit-p.written {
		p.exceeded = true
	}
	p.log.write(out)
	if p.exceeded {
		p.partial = nil
		if p.onLimit != nil {
			p.onLimit()
		}
		p.log.write(fmt.Appendf(nil, "%soutput limit of %s reached; the rest is dropped\n", p.prefix, formatSize(p.limit)))
	}
	return len(b), nil
}

// appendLine appends text as a log line to out, unless the line would take the plugin past
// its limit.
func (p *pluginLog) appendLine(out, text []byte) []byte {
	start := len(out)
	out = appendEscaped(append(out, p.prefix...), text)
	out = append(out, '\n')
	if p.written+int64(len(out)-start) > p.limit {
		p.exceeded = true
		return out[:start]
	}
	p.written += int64(len(out) - start)
	return out
}

// flush writes out a last line that has no newline.
func (p *pluginLog) flush() {
	if len(p.partial) > 0 && !p.exceeded {
		p.log.write(p.appendLine(nil, p.partial))
	}
	p.partial = p.partial[:0]
}

// watch looks for outOfMemory in what the plugin writes.
func (p *pluginLog) watch(b []byte) {
	if p.saidOutOfMemory {
		return
	}
	p.recent = append(p.recent, b[:min(len(b), len(outOfMemory))]...)
	p.saidOutOfMemory = bytes.Contains(p.recent, outOfMemory) || bytes.Contains(b, outOfMemory)
	tail := b[max(0, len(b)-len(outOfMemory)):]
	if len(b) < len(outOfMemory) {
		tail = p.recent[max(0, len(p.recent)-len(outOfMemory)):]
	}
	p.recent = append(p.recent[:0], tail...)
}

// newCall forgets what the plugin's earlier calls wrote.
func (p *pluginLog) newCall() { p.saidOutOfMemory, p.recent = false, p.recent[:0] }

// appendEscaped appends text to out with what a terminal would act on written out as escapes:
// control characters other than tab (\n, \r, \x1b, ...), C1 controls (\u009b), and bytes
// that are not UTF-8. What a plugin writes to the log, or says in a message tally quotes,
// can then neither start a line of its own nor move the cursor, clear the screen or colour.
func appendEscaped(out, text []byte) []byte {
	for len(text) > 0 {
		r, n := utf8.DecodeRune(text)
		switch {
		case r == utf8.RuneError && n == 1:
			out = fmt.Appendf(out, `\x%02x`, text[0])
		case r == '\n':
			out = append(out, `\n`...)
		case r == '\r':
			out = append(out, `\r`...)
		case r < 0x20 && r != '\t' || r == 0x7f:
			out = fmt.Appendf(out, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, r == '\u2028', r == '\u2029':
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, text[:n]...)
		}
		text = text[n:]
	}
	return out
}

// oneLine is s with its control characters escaped, for a warning that quotes a plugin.
func oneLine(s string) string { return string(appendEscaped(nil, []byte(s))) }

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
