package pytext

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// FnmatchRegexp is Python's fnmatch.translate as a Go regular expression matching the
// whole name: * is any string, ? any character, [seq] and [!seq] character sets with
// ranges (an empty set never matches), and anything else itself.
func FnmatchRegexp(pat string) string {
	p := []rune(pat)
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(p); {
		c := p[i]
		i++
		switch c {
		case '*':
			b.WriteString(".*")
			for i < len(p) && p[i] == '*' {
				i++
			}
		case '?':
			b.WriteString(".")
		case '[':
			j := i
			if j < len(p) && p[j] == '!' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) {
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(charClass(p[i:j]))
			i = j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	return b.String()
}

// charClass translates the inside of an fnmatch [...] set as Python 3.11 does: '-' between
// two characters is a range (inverted ranges are dropped), a leading '!' negates.
func charClass(set []rune) string {
	var chunks [][]rune
	if !slices.Contains(set, '-') {
		chunks = [][]rune{set}
	} else {
		k := 1
		if set[0] == '!' {
			k = 2
		}
		i := 0
		for k < len(set) {
			idx := slices.Index(set[k:], '-')
			if idx < 0 {
				break
			}
			idx += k
			chunks = append(chunks, set[i:idx])
			i = idx + 1
			k = idx + 3
		}
		if i < len(set) {
			chunks = append(chunks, set[i:])
		} else {
			chunks[len(chunks)-1] = append(append([]rune(nil), chunks[len(chunks)-1]...), '-')
		}
		for k := len(chunks) - 1; k > 0; k-- {
			prev := chunks[k-1]
			if prev[len(prev)-1] > chunks[k][0] {
				chunks[k-1] = append(append([]rune(nil), prev[:len(prev)-1]...), chunks[k][1:]...)
				chunks = append(chunks[:k], chunks[k+1:]...)
			}
		}
	}
	var items []rune
	var rangeAt []bool // items[i] ends a range starting at items[i-1]
	for ci, chunk := range chunks {
		for ri, r := range chunk {
			items = append(items, r)
			rangeAt = append(rangeAt, ci > 0 && ri == 0)
		}
	}
	switch {
	case len(items) == 0:
		return `[^\x00-\x{10FFFF}]`
	case len(items) == 1 && items[0] == '!':
		return "."
	}
	var b strings.Builder
	b.WriteString("[")
	if items[0] == '!' {
		b.WriteString("^")
		items, rangeAt = items[1:], rangeAt[1:]
	}
	for i, r := range items {
		if rangeAt[i] {
			b.WriteString("-")
		}
		fmt.Fprintf(&b, `\x{%x}`, r)
	}
	b.WriteString("]")
	return b.String()
}
