package module

import (
	"fmt"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/internal/pytext"
)

// shlexSplit is Python's shlex.split(s) as Ansible's command module calls it, failing with
// Python's message.
func shlexSplit(s string) ([]string, error) {
	words, err := pytext.ShlexSplit(s, false)
	if err != nil {
		// Ansible shows Python's ValueError, whose message starts with a capital.
		msg := err.Error()
		return nil, ansibleErr("%s%s", strings.ToUpper(msg[:1]), msg[1:])
	}
	return words, nil
}

// pyDatetime formats t as Python's str(datetime) does: microseconds only when non-zero.
func pyDatetime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// pyTimedelta formats d as Python's str(timedelta) does ("0:00:01.502000").
func pyTimedelta(d time.Duration) string {
	d = d.Truncate(time.Microsecond)
	var days string
	if n := d / (24 * time.Hour); n > 0 {
		days = fmt.Sprintf("%d day, ", n)
		if n > 1 {
			days = fmt.Sprintf("%d days, ", n)
		}
		d -= n * 24 * time.Hour
	}
	s := fmt.Sprintf("%s%d:%02d:%02d", days, d/time.Hour, d/time.Minute%60, d/time.Second%60)
	if us := d % time.Second / time.Microsecond; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s
}

// shGlob returns a glob pattern as a shell word list: the pattern characters * ? [ ] stay
// unquoted, everything else is quoted, and a leading ~/ becomes the home directory.
func shGlob(pattern string) string {
	var b strings.Builder
	if rest, ok := strings.CutPrefix(pattern, "~/"); ok {
		b.WriteString(`"$HOME"/`)
		pattern = rest
	}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			b.WriteString(connection.Quote(lit.String()))
			lit.Reset()
		}
	}
	prev := rune(0)
	for _, r := range pattern {
		if strings.ContainsRune("*?[]", r) || r == '!' && prev == '[' {
			flush()
			b.WriteRune(r)
		} else {
			lit.WriteRune(r)
		}
		prev = r
	}
	flush()
	return b.String()
}
