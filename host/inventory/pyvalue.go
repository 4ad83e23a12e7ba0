package inventory

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync/atomic"
)

// Inventory values are what yaml.v3 would give for the same data: string, int, float64,
// bool, nil, []any and map[string]any. Python also uses other keys than strings in a dict
// and tells apart values Go does not (1, 1.0 and True are one dict key); this file holds the
// few helpers that reproduce Python's key semantics on those values.

// pyTuple is a Python tuple while a literal is being evaluated: unlike a list it may be a
// dict key. plain turns it into a []any.
type pyTuple []any

// unhashableError is Python's TypeError for a list, dict or set used as a dict key or set
// member: Ansible fails the inventory source on it.
type unhashableError struct{ typ string }

func (e unhashableError) Error() string { return fmt.Sprintf("unhashable type: '%s'", e.typ) }

// nanKeys numbers NaN keys, which never equal one another.
var nanKeys atomic.Int64

// hashKey returns a string equal for two values exactly when Python considers them the same
// dict key (1 == 1.0 == True, -0.0 == 0), or an unhashableError.
func hashKey(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "None", nil
	case bool:
		if v {
			return "n:1", nil
		}
		return "n:0", nil
	case int:
		return "n:" + strconv.Itoa(v), nil
	case float64:
		if math.IsNaN(v) {
			// Every NaN object is a distinct key to Python.
			return fmt.Sprintf("nan:%d", nanKeys.Add(1)), nil
		}
		if v == math.Trunc(v) && !math.IsInf(v, 0) {
			n, _ := big.NewFloat(v).Int(nil)
			return "n:" + n.String(), nil
		}
		return "f:" + strconv.FormatFloat(v, 'g', -1, 64), nil
	case string:
		return "s:" + v, nil
	case pyTuple:
		var b strings.Builder
		b.WriteString("t(")
		for _, e := range v {
			k, err := hashKey(e)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%d:%s", len(k), k)
		}
		b.WriteString(")")
		return b.String(), nil
	case []any:
		return "", unhashableError{"list"}
	default:
		return "", unhashableError{"dict"}
	}
}

// keyString is the string a Python dict key becomes in a map[string]any: what json.dumps
// makes of it, since that is how Ansible shows such keys (json.dumps refuses a tuple: its
// repr() is used).
func keyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(k)
	case int:
		return strconv.Itoa(k)
	case float64:
		return pyFloatRepr(k)
	default:
		return pyRepr(k)
	}
}

// pyRepr is Python's repr() of a hashable value (as str() of a tuple shows its items).
func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(v)
	case float64:
		return pyFloatRepr(v)
	case string:
		return pyReprString(v)
	case pyTuple:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = pyRepr(e)
		}
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprint(v)
}

// pyReprString is Python's repr() of a str: single quotes unless only double quotes avoid
// escaping, and backslash escapes for what is not printable.
func pyReprString(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(quote):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case strconv.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}
