package pytext

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tuple is a Python tuple: Repr writes it in parentheses, with the trailing comma of a
// one-item tuple, where a []any is a list.
type Tuple []any

// Raw is text that Str and Repr write as it is, for objects whose repr is not a literal
// ("<built-in function range>"). DumpJSON writes it as a string.
type Raw string

// Converter gives a value outside the value model the value to show in its place (a Raw to
// write text as it is) and true, or false to leave the value to Normalize. The replacement is
// formatted in turn, so it must not be a value the Converter replaces again. An error stops
// the formatting and is returned.
type Converter func(v any) (repl any, ok bool, err error)

// substitute gives a value outside the value model the value to format in its place: what
// convert makes of it, or else what Normalize does.
func substitute(v any, convert Converter) (any, error) {
	if convert != nil {
		if repl, ok, err := convert(v); err != nil || ok {
			return repl, err
		}
	}
	return Normalize(v), nil
}

// Printer writes values as Python's str() and repr() do. The zero Printer is Python's.
type Printer struct {
	// IntegralFloatsAsInts writes a float with no fractional part below 1e16 as an int (1.0
	// as 1). It is for values that crossed JSON, which keeps no difference between 1 and 1.0,
	// so that a return code of 0 does not show as 0.0.
	IntegralFloatsAsInts bool
	// Convert, when set, is offered every value outside the value model before Normalize is.
	Convert Converter
}

// Str is Python's str(v).
func Str(v any) string {
	s, _ := Printer{}.Str(v) // without a Converter nothing can fail
	return s
}

// Repr is Python's repr(v).
func Repr(v any) string {
	s, _ := Printer{}.Repr(v)
	return s
}

// Str is Python's str(v): a string as it is, anything else as its repr.
func (p Printer) Str(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	var b strings.Builder
	err := p.Write(&b, v, false)
	return b.String(), err
}

// Repr is Python's repr(v).
func (p Printer) Repr(v any) (string, error) {
	var b strings.Builder
	err := p.Write(&b, v, true)
	return b.String(), err
}

// Write writes Python's repr(v) to b, or its str() when repr is false.
func (p Printer) Write(b *strings.Builder, v any, repr bool) error {
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
		if repr {
			writeQuoted(b, x)
		} else {
			b.WriteString(x)
		}
	case Raw:
		b.WriteString(string(x))
	case []any:
		return p.writeItems(b, "[", x, "]")
	case Tuple:
		if len(x) == 1 {
			return p.writeItems(b, "(", x, ",)")
		}
		return p.writeItems(b, "(", x, ")")
	case map[string]any:
		b.WriteByte('{')
		for i, k := range StrKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := p.Write(b, Key(x, k), true); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := p.Write(b, x[k], true); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		if s, ok := numberText(v, p.IntegralFloatsAsInts, false); ok {
			b.WriteString(s)
			return nil
		}
		repl, err := substitute(v, p.Convert)
		if err != nil {
			return err
		}
		return p.Write(b, repl, repr)
	}
	return nil
}

func (p Printer) writeItems(b *strings.Builder, open string, items []any, close string) error {
	b.WriteString(open)
	for i, e := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := p.Write(b, e, true); err != nil {
			return err
		}
	}
	b.WriteString(close)
	return nil
}

// Quote is Python's repr() of the str s: single quotes unless s holds a single quote and no
// double quote, and backslash escapes for what str.isprintable rejects.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	writeQuoted(&b, s)
	return b.String()
}

func writeQuoted(b *strings.Builder, s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(b, `\udc%02x`, s[i]) // the surrogate escaping the byte
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x7f || unicode.IsPrint(r):
			// Go's printable runes are Python's: no category C or Z but the ASCII space.
			b.WriteString(s[i : i+size])
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
		i += size
	}
	b.WriteByte(quote)
}

// sortedKeys orders a dict's keys as Python's sorted() orders str keys: by code point, which
// is UTF-8's byte order.
func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
