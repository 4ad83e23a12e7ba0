package display

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The callback formats values the way Python does: results through json.dumps and item labels
// through str(). These helpers reproduce both for the types a decoded result holds.

// dumpJSON renders v as Ansible's _dump_results serialises it: Python's json.dumps with
// sort_keys=True and ensure_ascii=False, after strip_internal_keys has dropped every "_ansible_"
// key at any depth. indent 0 is json.dumps' compact form.
func dumpJSON(v any, indent int) string {
	var b strings.Builder
	writeJSON(&b, v, indent, 0)
	return b.String()
}

func writeJSON(b *strings.Builder, v any, indent, level int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJSONString(b, x)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			writeSeparator(b, i, indent, level+1)
			writeJSON(b, e, indent, level+1)
		}
		writeClose(b, ']', indent, level)
	case map[string]any:
		keys := visibleKeys(x)
		if len(keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range keys {
			writeSeparator(b, i, indent, level+1)
			writeJSONString(b, k)
			b.WriteString(": ")
			writeJSON(b, x[k], indent, level+1)
		}
		writeClose(b, '}', indent, level)
	default:
		if s, ok := formatNumber(x); ok {
			b.WriteString(s)
			return
		}
		writeJSON(b, normalize(x), indent, level)
	}
}

// writeSeparator starts the i-th element of a container: Python separates items with ", " when
// compact and with "," plus a newline and indentation otherwise.
func writeSeparator(b *strings.Builder, i, indent, level int) {
	if i > 0 {
		b.WriteByte(',')
		if indent == 0 {
			b.WriteByte(' ')
		}
	}
	if indent > 0 {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", indent*level))
	}
}

func writeClose(b *strings.Builder, c byte, indent, level int) {
	if indent > 0 {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", indent*level))
	}
	b.WriteByte(c)
}

// visibleKeys returns m's keys without Ansible's internal ones, sorted as Python sorts str keys
// (by code point, which is UTF-8 byte order).
func visibleKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !strings.HasPrefix(k, "_ansible_") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// writeJSONString quotes s as json.dumps does with ensure_ascii=False: only the quote, the
// backslash and control characters below U+0020 are escaped; other bytes pass through.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// formatNumber formats a Go number as Python prints it. Integral floats print as integers:
// JSON, which carries events to plugins, does not keep Python's int/float distinction, and a
// return code of 0 must not print as 0.0.
func formatNumber(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return x.String(), true
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float32:
		return formatFloat(float64(x)), true
	case float64:
		return formatFloat(x), true
	}
	return "", false
}

// formatFloat follows Python's float repr (shortest round-trip digits, exponent form outside
// 1e-4 <= |f| < 1e16) except that integral values print without ".0" (see formatNumber).
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	abs := math.Abs(f)
	if f == math.Trunc(f) && abs < 1e16 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	if abs >= 1e16 || abs < 1e-4 {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// normalize turns a value of any other type (a struct, a typed slice or map) into the generic
// form JSON decoding gives, which the formatters handle.
func normalize(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// pyStr is Python's str(v): strings as they are, anything else as its repr.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// writeRepr writes Python's repr(v). Dicts come out with sorted keys: Python keeps insertion
// order, which a Go map has lost.
func writeRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		writeReprString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeReprString(b, k)
			b.WriteString(": ")
			writeRepr(b, x[k])
		}
		b.WriteByte('}')
	default:
		if s, ok := formatNumber(x); ok {
			b.WriteString(s)
			return
		}
		writeRepr(b, normalize(x))
	}
}

// writeReprString quotes s as Python's str.__repr__ does: single quotes unless s holds a single
// quote and no double quote, and escapes for non-printable characters.
func writeReprString(b *strings.Builder, s string) {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x7f || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteRune(quote)
}

// truthy is Python's bool(v).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	if s, ok := formatNumber(v); ok {
		f, err := strconv.ParseFloat(s, 64)
		return err != nil || f != 0
	}
	return truthy(normalize(v))
}

// toInt reads a whole number from a decoded result.
func toInt(v any) int {
	s, ok := formatNumber(v)
	if !ok {
		return 0
	}
	f, _ := strconv.ParseFloat(s, 64)
	return int(f)
}

// pyStrip is Python's str.strip(): it also strips the separators U+001C..U+001F.
func pyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}

func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// runeLen is Python's len() of a str.
func runeLen(s string) int {
	return utf8.RuneCountInString(s)
}
