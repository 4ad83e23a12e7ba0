package display

import (
	"strings"
	"unicode"

	"github.com/tallyrun/tally/internal/pytext"
)

// wrapText is Python 3.11's textwrap.wrap(text, width) with its defaults, which Ansible uses to
// fold warnings; dropWhitespace false is drop_whitespace=False, used for deprecations.
func wrapText(text string, width int, dropWhitespace bool) []string {
	return wrapChunks(splitChunks(mungeWhitespace(text)), width, dropWhitespace)
}

// textwrapSpace is textwrap's _whitespace: the only characters it treats as spaces.
const textwrapSpace = "\t\n\v\f\r "

func isWrapSpace(r rune) bool {
	return strings.ContainsRune(textwrapSpace, r)
}

// mungeWhitespace expands tabs to 8 columns and turns every other whitespace character into a
// space, as TextWrapper._munge_whitespace does.
func mungeWhitespace(text string) []rune {
	out := make([]rune, 0, len(text))
	col := 0
	for _, r := range text {
		switch {
		case r == '\t':
			n := 8 - col%8
			for range n {
				out = append(out, ' ')
			}
			col += n
		case r == '\n' || r == '\r':
			out = append(out, ' ')
			col = 0
		case isWrapSpace(r):
			out = append(out, ' ')
			col++
		default:
			out = append(out, r)
			col++
		}
	}
	return out
}

// splitChunks splits text as TextWrapper.wordsep_re does: runs of whitespace, em-dashes between
// words, and words, which break after a hyphen between letters. The regular expression needs
// look-behind, which Go's regexp lacks, so the scan is written out; a position outside the text
// is passed to the character classes as -1, which matches none of them.
func splitChunks(t []rune) [][]rune {
	at := func(i int) rune {
		if i < 0 || i >= len(t) {
			return -1
		}
		return t[i]
	}
	// dashesBeforeWord returns the end of a run of two or more hyphens at i followed by a word
	// character, or 0.
	dashesBeforeWord := func(i int) int {
		k := i
		for at(k) == '-' {
			k++
		}
		if k-i >= 2 && isWordRune(at(k)) {
			return k
		}
		return 0
	}
	chunkEnd := func(i int) int {
		if isWrapSpace(t[i]) {
			for i < len(t) && isWrapSpace(t[i]) {
				i++
			}
			return i
		}
		if isWordPunct(at(i - 1)) {
			if k := dashesBeforeWord(i); k > 0 {
				return k
			}
		}
		// The shortest word t[i:j] followed by a hyphen between letters, the end of the word,
		// or an em-dash.
		for j := i + 1; ; j++ {
			if at(j) == '-' &&
				(isLetterRune(at(j-2)) && isLetterRune(at(j-1)) ||
					isLetterRune(at(j-3)) && at(j-2) == '-' && isLetterRune(at(j-1))) &&
				isLetterRune(at(j+1)) &&
				(isLetterRune(at(j+2)) || at(j+2) == '-' && isLetterRune(at(j+3))) {
				return j + 1
			}
			if j == len(t) || isWrapSpace(t[j]) {
				return j
			}
			if isWordPunct(t[j-1]) && dashesBeforeWord(j) > 0 {
				return j
			}
		}
	}
	var chunks [][]rune
	for i := 0; i < len(t); {
		j := chunkEnd(i)
		chunks = append(chunks, t[i:j])
		i = j
	}
	return chunks
}

// isWordRune is Python's \w: letters, numbers and the underscore.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isLetterRune is textwrap's letter class [^\d\W].
func isLetterRune(r rune) bool {
	return isWordRune(r) && !unicode.IsDigit(r)
}

// isWordPunct is textwrap's word_punct class [\w!"'&.,?].
func isWordPunct(r rune) bool {
	return isWordRune(r) || strings.ContainsRune(`!"'&.,?`, r)
}

// wrapChunks is TextWrapper._wrap_chunks with break_long_words and break_on_hyphens on.
func wrapChunks(chunks [][]rune, width int, dropWhitespace bool) []string {
	blank := func(c []rune) bool { return pytext.Strip(string(c)) == "" }
	// stack holds the chunks still to place, the next one last.
	stack := make([][]rune, len(chunks))
	for i, c := range chunks {
		stack[len(chunks)-1-i] = c
	}
	top := func() []rune { return stack[len(stack)-1] }
	pop := func() []rune {
		c := top()
		stack = stack[:len(stack)-1]
		return c
	}
	var lines []string
	for len(stack) > 0 {
		var line [][]rune
		lineLen := 0
		if dropWhitespace && blank(top()) && len(lines) > 0 {
			pop()
		}
		for len(stack) > 0 && lineLen+len(top()) <= width {
			lineLen += len(top())
			line = append(line, pop())
		}
		if len(stack) > 0 && len(top()) > width {
			// A word longer than a line: break it, after its last hyphen that fits if any.
			chunk := top()
			end := width - lineLen
			if h := lastIndexRune(chunk[:end], '-'); h > 0 && hasNonHyphen(chunk[:h]) {
				end = h + 1
			}
			line = append(line, chunk[:end])
			stack[len(stack)-1] = chunk[end:]
		}
		if dropWhitespace && len(line) > 0 && blank(line[len(line)-1]) {
			line = line[:len(line)-1]
		}
		if len(line) > 0 {
			var b strings.Builder
			for _, c := range line {
				b.WriteString(string(c))
			}
			lines = append(lines, b.String())
		}
	}
	return lines
}

func lastIndexRune(s []rune, r rune) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == r {
			return i
		}
	}
	return -1
}

func hasNonHyphen(s []rune) bool {
	for _, r := range s {
		if r != '-' {
			return true
		}
	}
	return false
}
