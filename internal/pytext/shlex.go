package pytext

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The errors of ShlexSplit and ShellSplit: Python's ValueError messages, lower-cased.
var (
	ErrNoClosingQuotation = errors.New("no closing quotation")
	ErrNoEscapedCharacter = errors.New("no escaped character")
)

// ShlexSplit is Python's shlex.split(s, comments=comments), in POSIX mode as shlex.split
// always is: words are separated by spaces, tabs and line breaks; single quotes keep
// everything; in double quotes a backslash escapes only " and \; elsewhere it escapes any
// character. With comments, a # outside quotes ends the line, even within a word.
func ShlexSplit(s string, comments bool) ([]string, error) {
	return splitWords(s, comments, false)
}

// ShellSplit splits s into words as /bin/sh reads them, for text a shell quoted itself (the
// output of export -p from dash, BusyBox and bash): ShlexSplit's rules, plus that in double
// quotes a backslash also escapes $, ` and a line break, a backslash before a line break
// continues the line, and bash's $'...' quoting.
func ShellSplit(s string) ([]string, error) {
	return splitWords(s, false, true)
}

func splitWords(s string, comments, sh bool) ([]string, error) {
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
		case comments && c == '#':
			if in {
				words = append(words, string(w))
				w, in = w[:0], false
			}
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(s)
			}
			continue
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, ErrNoClosingQuotation
			}
			w = append(w, s[i+1:i+1+j]...)
			i += j + 1
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					if i+1 == len(s) {
						return nil, ErrNoEscapedCharacter
					}
					if strings.IndexByte(dqEscapes, s[i+1]) >= 0 {
						i++
						if s[i] == '\n' {
							continue // a line continuation
						}
					}
				}
				w = append(w, s[i])
			}
			if i >= len(s) {
				return nil, ErrNoClosingQuotation
			}
		case c == '\\':
			if i+1 == len(s) {
				return nil, ErrNoEscapedCharacter
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
	return nil, i, ErrNoClosingQuotation
}
