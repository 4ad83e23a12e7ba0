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
// dict key. plainValue turns it into a []any.
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
// makes of it, since that is how Ansible shows such keys.
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
	case pyTuple:
		parts := make([]string, len(k))
		for i, e := range k {
			parts[i] = keyString(e)
		}
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	default:
		return fmt.Sprint(k)
	}
}

// pyDict builds a map[string]any with Python's dict semantics: keys equal to Python share
// one entry, which keeps the string of the first key and the last value.
type pyDict struct {
	m     map[string]any
	names map[string]string // hashKey -> key in m
}

func newDict() *pyDict {
	return &pyDict{m: map[string]any{}, names: map[string]string{}}
}

// set stores v under k and reports whether k was already there.
func (d *pyDict) set(k, v any) (dup bool, err error) {
	h, err := hashKey(k)
	if err != nil {
		return false, err
	}
	name, dup := d.names[h]
	if !dup {
		name = keyString(k)
		d.names[h] = name
	}
	d.m[name] = v
	return dup, nil
}

// plainValue replaces the Python-only representations in v (tuples) by plain ones.
func plainValue(v any) any {
	switch v := v.(type) {
	case pyTuple:
		return plainList(v)
	case []any:
		return plainList(v)
	case map[string]any:
		for k, e := range v {
			v[k] = plainValue(e)
		}
		return v
	default:
		return v
	}
}

func plainList(v []any) []any {
	out := make([]any, len(v))
	for i, e := range v {
		out[i] = plainValue(e)
	}
	return out
}
