package wire

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNotJSON is returned by AppendJSON for a Float JSON cannot hold: NaN or an infinity.
var ErrNotJSON = errors.New("a float JSON cannot hold (NaN or infinity)")

// AppendJSON appends the JSON form of the encoded value v, exactly as encoding/json writes
// what DecodeValue gives of it (map keys sorted, the last of a key given twice, strings
// escaped alike), without building it in Go values first: the host turns every sink record
// into JSON this way. A malformed value is an error wrapping ErrCorrupt.
func AppendJSON(dst []byte, v Value) (out []byte, err error) {
	d := decoder{b: v}
	defer d.recover(&err)
	var keys []jsonKey
	dst, off, err := appendJSONValue(dst, v, 0, &keys)
	if err != nil {
		return nil, err
	}
	d.finish(off)
	return dst, nil
}

// jsonKey is a map entry: its key and where its value starts.
type jsonKey struct {
	k   string
	off int
}

// appendJSONValue appends the JSON of the value at off and returns the offset after it. keys
// is scratch space for sorting map keys, shared down the value.
func appendJSONValue(dst []byte, b []byte, off int, keys *[]jsonKey) ([]byte, int, error) {
	switch Kind(b[off]) {
	case Null:
		return append(dst, "null"...), off + 1, nil
	case False:
		return append(dst, "false"...), off + 1, nil
	case True:
		return append(dst, "true"...), off + 1, nil
	case Int:
		n, next := number(b, off, Int)
		return strconv.AppendInt(dst, int64(n), 10), next, nil
	case Float:
		n, next := number(b, off, Float)
		f := math.Float64frombits(n)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, 0, ErrNotJSON
		}
		return appendJSONFloat(dst, f), next, nil
	case String:
		s, next := str(b, off)
		return appendJSONString(dst, s), next, nil
	case List:
		n, next := header(b, off, List)
		end := valueEnd(b, off)
		dst = append(dst, '[')
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, next, err = appendJSONValue(dst, b, next, keys); err != nil {
				return nil, 0, err
			}
		}
		if next != end {
			panic(corruption("a list's items and size disagree"))
		}
		return append(dst, ']'), end, nil
	case Map:
		n, next := header(b, off, Map)
		end := valueEnd(b, off)
		base := len(*keys)
		for range n {
			var k string
			k, next = keyAt(b, next)
			*keys = append(*keys, jsonKey{k, next})
			next = valueEnd(b, next)
		}
		if next != end {
			panic(corruption("a map's items and size disagree"))
		}
		entries := (*keys)[base:]
		// A stable sort keeps a key's entries in order: the last is the one a map keeps.
		slices.SortStableFunc(entries, func(x, y jsonKey) int { return strings.Compare(x.k, y.k) })
		dst = append(dst, '{')
		first := true
		for i, e := range entries {
			if i+1 < len(entries) && entries[i+1].k == e.k {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(appendJSONString(dst, e.k), ':')
			var err error
			if dst, _, err = appendJSONValue(dst, b, e.off, keys); err != nil {
				return nil, 0, err
			}
		}
		*keys = (*keys)[:base]
		return append(dst, '}'), end, nil
	}
	panic(corruption("not a value"))
}

// appendJSONFloat writes f as encoding/json does: as ES6 converts a number to a string.
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s quoted as encoding/json does: HTML's <, > and & escaped, as are
// control characters, U+2028 and U+2029; a byte that is not UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}
