package module

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tallyrun/tally/host/connection"
)

// shlexSplit splits s into words as Python's shlex.split (POSIX mode, no comments) does, as
// Ansible's command module splits its free-form argument.
func shlexSplit(s string) ([]string, error) { return splitWords(s, false) }

// shellWords splits s into words as /bin/sh reads them, for text the shell quoted itself
// (export -p of dash, BusyBox and bash, whose $'...' quoting included).
func shellWords(s string) ([]string, error) { return splitWords(s, true) }

// splitWords splits s into words at unquoted white space, removing quotes and backslashes.
// In double quotes a backslash escapes only " and \ (shlex), or also $, ` and a newline (sh,
// which also reads $'...').
func splitWords(s string, sh bool) ([]string, error) {
	dqEscapes := `"\`
	if sh {
		dqEscapes += "$`\n"
	}
	var (
		words []string
		w     []byte
		in    bool // in a word
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if in {
				words = append(words, string(w))
				w, in = w[:0], false
			}
			continue
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, ansibleErr("No closing quotation")
			}
			w = append(w, s[i+1:i+1+j]...)
			i += j + 1
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(dqEscapes, s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue // a line continuation
					}
				}
				w = append(w, s[i])
			}
			if i >= len(s) {
				return nil, ansibleErr("No closing quotation")
			}
		case c == '\\':
			if i+1 == len(s) {
				return nil, ansibleErr("No escaped character")
			}
			i++
			if !sh || s[i] != '\n' {
				w = append(w, s[i])
			}
		case sh && c == '$' && i+1 < len(s) && s[i+1] == '\'':
			var err error
			if w, i, err = ansiC(s, i+2, w); err != nil {
				return nil, err
			}
		default:
			w = append(w, c)
		}
		in = true
	}
	if in {
		words = append(words, string(w))
	}
	return words, nil
}

// ansiC reads the body of bash's $'...' quoting from s[i:] onto w, returning the index of the
// closing quote.
func ansiC(s string, i int, w []byte) ([]byte, int, error) {
	simple := map[byte]byte{'a': 7, 'b': 8, 'e': 27, 'E': 27, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11,
		'\\': '\\', '\'': '\'', '"': '"', '?': '?'}
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			return w, i, nil
		}
		if c != '\\' || i+1 == len(s) {
			w = append(w, c)
			continue
		}
		i++
		c = s[i]
		if b, ok := simple[c]; ok {
			w = append(w, b)
			continue
		}
		esc := i
		digits, base, max := "01234567", 8, 3
		switch c {
		case 'x':
			digits, base, max = "0123456789abcdefABCDEF", 16, 2
			i++
		case 'u', 'U':
			digits, base, max = "0123456789abcdefABCDEF", 16, 4
			if c == 'U' {
				max = 8
			}
			i++
		}
		j := i
		for j < len(s) && j-i < max && strings.IndexByte(digits, s[j]) >= 0 {
			j++
		}
		n, err := strconv.ParseUint(s[i:j], base, 32)
		if err != nil {
			// Not an escape bash knows: kept as written.
			w = append(w, '\\', c)
			i = esc
			continue
		}
		if c == 'u' || c == 'U' {
			w = utf8.AppendRune(w, rune(n))
		} else {
			w = append(w, byte(n))
		}
		i = j - 1
	}
	return nil, i, ansibleErr("No closing quotation")
}

// splitLines splits s into lines as Python's str.splitlines does, which is how Ansible makes
// stdout_lines and stderr_lines.
func splitLines(s string) []string {
	lines := []string{}
	start := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e', '\u0085', '\u2028', '\u2029':
		case '\r':
			lines = append(lines, string(rs[start:i]))
			if i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
			start = i + 1
			continue
		default:
			continue
		}
		lines = append(lines, string(rs[start:i]))
		start = i + 1
	}
	if start < len(rs) {
		lines = append(lines, string(rs[start:]))
	}
	return lines
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

// pyJSON encodes v as Python's json.dumps does with its defaults (", " and ": " separators,
// non-ASCII escaped), keys sorted.
func pyJSON(v any) string {
	var b strings.Builder
	writePyJSON(&b, v)
	return b.String()
}

func writePyJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		b.WriteByte('"')
		for _, r := range x {
			switch {
			case r == '"' || r == '\\':
				b.WriteString(`\` + string(r))
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r < 0x20 || r > 0x7e:
				for _, u := range utf16.Encode([]rune{r}) {
					fmt.Fprintf(b, `\u%04x`, u)
				}
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, it)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, k)
			b.WriteString(": ")
			writePyJSON(b, x[k])
		}
		b.WriteByte('}')
	default:
		b.WriteString(pyRepr(v))
	}
}
