package pytext

import "strconv"

// Unescape decodes the backslash escapes of a Python string literal's text: as the
// unicode_escape codec when bytes is false (\xNN, \uNNNN and \UNNNNNNNN are code points), as
// codecs.escape_decode when it is true (\xNN and octal escapes are bytes; \u and \U are not
// escapes). An escape that is not one is kept as written, as Python keeps it.
func Unescape(s string, bytes bool) string {
	b := make([]byte, 0, len(s))
	put := func(r uint64) {
		if bytes {
			b = append(b, byte(r))
		} else {
			b = append(b, string(rune(r))...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '\\', '\'', '"':
			b = append(b, e)
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'a':
			b = append(b, '\a')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'v':
			b = append(b, '\v')
		case '\n': // a line continuation
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			r, err := strconv.ParseUint(s[i+1:min(i+1+n, len(s))], 16, 32)
			if err == nil && i+n < len(s) && (e == 'x' || !bytes) {
				put(r)
				i += n
			} else {
				b = append(b, '\\', e)
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			r, _ := strconv.ParseUint(s[i:j], 8, 32)
			put(r)
			i = j - 1
		default:
			b = append(b, '\\', e)
		}
	}
	return string(b)
}
