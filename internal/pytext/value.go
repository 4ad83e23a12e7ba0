package pytext

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Normalize converts v to the value model, one level deep (the items of a list or dict it
// returns are converted when they are reached): an integer of any Go type to int (float64 past
// int's range), float32 to float64, a json.Number to the int or float it spells, named string
// and bool types to string and bool, slices and arrays to []any, maps to map[string]any keyed
// by their keys' str(), pointers to what they point to, a fmt.Stringer to its String(), and
// anything else (a struct) to what its JSON encoding decodes to, or its fmt.Sprint text when it
// has none. Values of the model are returned as they are.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, int, float64, string, []any, Tuple, map[string]any:
		return v
	case Raw:
		return string(x)
	case json.Number:
		if n, err := x.Int64(); err == nil && n >= math.MinInt && n <= math.MaxInt {
			return int(n)
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[Str(k)] = e
		}
		return out
	case fmt.Stringer:
		return x.String()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt {
			return int(u)
		}
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[Str(it.Key().Interface())] = it.Value().Interface()
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return Normalize(rv.Elem().Interface())
	}
	return viaJSON(v)
}

// viaJSON is what v's JSON encoding decodes to, which is how a result reaches plugins.
func viaJSON(v any) any {
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
	return Normalize(out)
}

// Truthy is Python's bool(v): None, False, zero and empty strings, lists and dicts are false,
// everything else is true.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case Raw:
		return x != ""
	case []any:
		return len(x) > 0
	case Tuple:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	if f, ok := Number(v); ok {
		return f != 0
	}
	return Truthy(Normalize(v))
}

// TypeName is Python's type(v).__name__: NoneType, bool, int, float, str, list, tuple or
// dict.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "int"
	case float32, float64:
		return "float"
	case string, Raw:
		return "str"
	case []any:
		return "list"
	case Tuple:
		return "tuple"
	case map[string]any:
		return "dict"
	}
	return TypeName(Normalize(v))
}

// JSONNumbers replaces, in place and at every depth, the json.Numbers that a decoder with
// UseNumber leaves by the int or float64 they spell, as Python's json module reads numbers.
func JSONNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		return Normalize(x)
	case map[string]any:
		for k, e := range x {
			x[k] = JSONNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = JSONNumbers(e)
		}
	}
	return v
}
