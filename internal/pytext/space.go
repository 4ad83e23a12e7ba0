package pytext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsSpace is Python's str.isspace for one character: Go's unicode.IsSpace plus the
// information separators U+001C..U+001F.
func IsSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// Strip is Python's str.strip() without arguments.
func Strip(s string) string {
	return strings.TrimFunc(s, IsSpace)
}

// SplitLines is Python's str.splitlines(): it breaks after \n, \r, \r\n, \v, \f, \x1c, \x1d,
// \x1e, U+0085, U+2028 and U+2029, drops the breaks, and gives no last empty line. It returns
// an empty, non-nil slice for "", which JSON encodes as [] (Ansible's stdout_lines).
func SplitLines(s string) []string { return splitLines(s, false) }

// SplitLinesKeepEnds is Python's str.splitlines(True): SplitLines with each line's break kept.
func SplitLinesKeepEnds(s string) []string { return splitLines(s, true) }

func splitLines(s string, keepEnds bool) []string {
	lines := []string{}
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				size = 2
			}
		default:
			i += size
			continue
		}
		end := i
		if keepEnds {
			end = i + size
		}
		lines = append(lines, s[start:end])
		i += size
		start = i
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}
