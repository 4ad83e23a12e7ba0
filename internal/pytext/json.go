package pytext

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JSONOptions are the arguments of Python's json.dumps that tally's callers use, plus the
// conversions of values Python would not hold. Keys are sorted (sort_keys=True) unless
// InsertionOrder is set.
type JSONOptions struct {
	// InsertionOrder writes a dict's keys in the order Python's dict keeps (see Keys), as
	// json.dumps does without sort_keys.
	InsertionOrder bool
	// Pretty is an indent other than None: each item on its own line, prefixed by Indent once
	// per level, items separated by "," instead of ", ". An empty Indent is indent=0.
	Pretty bool
	Indent string
	// EnsureASCII escapes every character outside printable ASCII, as json.dumps does by
	// default; without it only the quote, the backslash and control characters are escaped.
	EnsureASCII bool
	// IntegralFloatsAsInts is Printer.IntegralFloatsAsInts.
	IntegralFloatsAsInts bool
	// SkipKey, when set, drops the dict entries whose key it reports.
	SkipKey func(key string) bool
	// Convert, when set, is offered every value outside the value model before Normalize is.
	Convert Converter
}

// DumpJSON is Python's json.dumps(v) with the arguments o stands for. Its only errors are
// those of o.Convert.
func DumpJSON(v any, o JSONOptions) (string, error) {
	var b strings.Builder
	err := o.write(&b, v, 0)
	return b.String(), err
}

func (o *JSONOptions) write(b *strings.Builder, v any, level int) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeJSONString(b, x, o.EnsureASCII)
	case Raw:
		writeJSONString(b, string(x), o.EnsureASCII)
	case []any:
		return o.writeItems(b, '[', ']', len(x), level, func(i int) error { return o.write(b, x[i], level+1) })
	case Tuple:
		return o.write(b, []any(x), level)
	case map[string]any:
		var keys []string
		if o.InsertionOrder {
			keys = StrKeys(x)
		} else {
			for _, k := range SortedKeys(x) {
				keys = append(keys, Str(k))
			}
		}
		if o.SkipKey != nil {
			keys = slices.DeleteFunc(keys, o.SkipKey)
		}
		return o.writeItems(b, '{', '}', len(keys), level, func(i int) error {
			writeJSONString(b, jsonKey(Key(x, keys[i]), keys[i]), o.EnsureASCII)
			b.WriteString(": ")
			return o.write(b, x[keys[i]], level+1)
		})
	default:
		if s, ok := numberText(v, o.IntegralFloatsAsInts, true); ok {
			b.WriteString(s)
			return nil
		}
		repl, err := substitute(v, o.Convert)
		if err != nil {
			return err
		}
		return o.write(b, repl, level)
	}
	return nil
}

// jsonKey is the JSON text json.dumps writes for the dict key k, whose entry is s: a bool or
// None as in JSON, a number as its repr.
func jsonKey(k any, s string) string {
	switch x := k.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return s
}

// writeItems writes a list or dict of n items, item writing the i-th, on lines of their own
// when Pretty.
func (o *JSONOptions) writeItems(b *strings.Builder, open, close byte, n, level int, item func(i int) error) error {
	b.WriteByte(open)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
			if !o.Pretty {
				b.WriteByte(' ')
			}
		}
		o.newline(b, level+1)
		if err := item(i); err != nil {
			return err
		}
	}
	if n > 0 {
		o.newline(b, level)
	}
	b.WriteByte(close)
	return nil
}

func (o *JSONOptions) newline(b *strings.Builder, level int) {
	if o.Pretty {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(o.Indent, level))
	}
}

// writeJSONString writes s as a JSON string the way json.dumps escapes it.
func writeJSONString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// Python holds the byte as a surrogate, which only ensure_ascii escapes; written
			// out, it is the byte again.
			if ascii {
				fmt.Fprintf(b, `\udc%02x`, s[i])
			} else {
				b.WriteByte(s[i])
			}
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || ascii && r > 0x7e:
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(b, `\u%04x`, u)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
