package inventory

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the pieces of Python's text handling that Ansible's inventory code relies
// on (str.strip, str.splitlines, int(), shlex.split, float repr), so that tally reads an
// inventory exactly as ansible-core does.

// pyIsSpace reports whether Python's str.isspace holds for r: Go's unicode.IsSpace plus the
// information separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip is Python's str.strip().
func pyStrip(s string) string {
	return strings.TrimFunc(s, pyIsSpace)
}

// pySplitLines is Python's str.splitlines(): it breaks on \n, \r, \r\n, \v, \f, \x1c, \x1d,
// \x1e, U+0085, U+2028 and U+2029, so that INI line numbers match Ansible's.
func pySplitLines(s string) []string {
	var lines []string
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
		lines = append(lines, s[start:i])
		i += size
		start = i
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

var errPyInt = errors.New("invalid literal for int()")

// pyInt is Python's int(s) for a str in base 10.
func pyInt(s string) (*big.Int, error) { return pyIntBase(s, 10) }

// pyIntBase is Python's int(s, base) for a str: surrounding whitespace, a sign, the base's
// prefix (0x, 0o, 0b) and single underscores between digits are accepted. Only ASCII
// digits are (Python also takes other Unicode decimal digits).
func pyIntBase(s string, base int) (*big.Int, error) {
	t := pyStrip(s)
	neg := strings.HasPrefix(t, "-")
	if neg || strings.HasPrefix(t, "+") {
		t = t[1:]
	}
	if prefix := map[int]string{2: "0b", 8: "0o", 16: "0x"}[base]; prefix != "" && len(t) > 2 && strings.EqualFold(t[:2], prefix) {
		// Python allows one underscore right after the prefix.
		t = strings.TrimPrefix(t[2:], "_")
	}
	digits, ok := pyDigits(t, "0123456789abcdefghijklmnopqrstuvwxyz"[:base])
	if !ok {
		return nil, errPyInt
	}
	n, _ := new(big.Int).SetString(digits, base)
	if neg {
		n.Neg(n)
	}
	return n, nil
}

// pyDigits checks that s is one or more digits from set with single underscores between
// them, and returns it without the underscores.
func pyDigits(s, set string) (string, bool) {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return "", false
	}
	out := strings.ReplaceAll(s, "_", "")
	for _, r := range out {
		if !strings.ContainsRune(set, unicode.ToLower(r)) {
			return "", false
		}
	}
	return out, true
}

// smallInt converts n to an int, saturating at the int range: callers use it for counts and
// indexes where anything that large behaves the same.
func smallInt(n *big.Int) int {
	switch {
	case n.IsInt64() && n.Int64() >= math.MinInt && n.Int64() <= math.MaxInt:
		return int(n.Int64())
	case n.Sign() < 0:
		return math.MinInt
	default:
		return math.MaxInt
	}
}

// intValue turns a Python int into the Go value tally uses for it: an int when it fits,
// otherwise the nearest float64 (as yaml.v3 does for out-of-range integers).
func intValue(n *big.Int) any {
	if n.IsInt64() {
		return int(n.Int64())
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return f
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits, in exponent form
// only below 1e-4 or from 1e16 on, and always with a fraction or exponent.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		// Go's exponent form already has Python's two-digit minimum exponent.
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// shlexSplit is Python's shlex.split(s, comments=True) in POSIX mode, as the INI plugin
// splits host lines: whitespace separates words, quotes and backslashes work as in a POSIX
// shell, and '#' starts a comment even in the middle of a word.
func shlexSplit(s string) ([]string, error) {
	const (
		stateSpace = iota
		stateWord
		stateSingle
		stateDouble
		stateEscape
	)
	var (
		tokens  []string
		token   strings.Builder
		quoted  bool
		state   = stateSpace
		escaped = stateWord // the state an escape returns to
	)
	emit := func() {
		if token.Len() > 0 || quoted {
			tokens = append(tokens, token.String())
		}
		token.Reset()
		quoted = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch state {
		case stateSpace, stateWord:
			switch c {
			case ' ', '\t', '\r', '\n':
				if state == stateWord {
					emit()
				}
				state = stateSpace
			case '#':
				if state == stateWord {
					emit()
				}
				return tokens, nil
			case '\\':
				escaped, state = stateWord, stateEscape
			case '\'':
				state, quoted = stateSingle, true
			case '"':
				state, quoted = stateDouble, true
			default:
				token.WriteByte(c)
				state = stateWord
			}
		case stateSingle:
			if c == '\'' {
				state = stateWord
			} else {
				token.WriteByte(c)
			}
		case stateDouble:
			switch c {
			case '"':
				state = stateWord
			case '\\':
				escaped, state = stateDouble, stateEscape
			default:
				token.WriteByte(c)
			}
		case stateEscape:
			// Inside double quotes only a quote or a backslash can be escaped.
			if escaped == stateDouble && c != '"' && c != '\\' {
				token.WriteByte('\\')
			}
			token.WriteByte(c)
			state = escaped
		}
	}
	switch state {
	case stateSingle, stateDouble:
		return nil, errors.New("no closing quotation")
	case stateEscape:
		return nil, errors.New("no escaped character")
	case stateWord:
		emit()
	}
	return tokens, nil
}
