package template

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tallyrun/tally/internal/pytext"
)

// Values inside the evaluator are canonical Go forms of Python values:
// nil (None), bool, int, float64, string, []any (list and tuple),
// map[string]any (dict), plus the internal types below.

// undefined is Jinja's Undefined as Ansible configures it: strict (using it
// fails with msg), while attribute and item access on it yield itself so the
// first failure is the one reported.
type undefined struct {
	msg  string
	name string // the missing name or attribute, for mandatory's message
}

func (u *undefined) err() error { return &UndefinedError{Msg: u.msg} }

func undefinedName(name string) *undefined {
	return &undefined{msg: fmt.Sprintf("'%s' is undefined", name), name: name}
}

// unsafeValue marks data that must never be templated (see Unsafe).
type unsafeValue struct{ v any }

// Unsafe wraps v so that the engine never templates strings inside it, as
// Ansible does for registered results and facts (AnsibleUnsafe): a command's
// output containing "{{" stays as it is. Render and variable lookups return
// the wrapped value itself.
func Unsafe(v any) any { return unsafeValue{v: v} }

// IsUnsafe reports whether v was wrapped by Unsafe.
func IsUnsafe(v any) bool {
	_, ok := v.(unsafeValue)
	return ok
}

// Unwrap returns the value inside an Unsafe wrapper, and v itself otherwise.
func Unwrap(v any) any {
	if u, ok := v.(unsafeValue); ok {
		return u.v
	}
	return v
}

// Secret is a value kept encrypted until a template uses it (a !vault string). Its text is
// data, never templated, as Ansible never templates an AnsibleVaultEncryptedUnicode.
type Secret interface {
	Reveal() (string, error)
}

// function is a callable value: a global such as range, or a bound method.
type function struct {
	name string
	call func(st *state, args []any, kw map[string]any) (any, error)
}

// namespace is Jinja's namespace() object, whose attributes {% set %} may
// assign from inside a loop.
type namespace struct{ attrs map[string]any }

// norm converts a Go value from outside the engine into its canonical form,
// one level deep: element values are converted when they are reached.
func norm(v any) any {
	if u, ok := v.(unsafeValue); ok {
		return norm(u.v)
	}
	return pytext.Normalize(v)
}

// transform converts v to canonical form, deeply, applying leaf to its
// strings (none inside Unsafe values; a nil leaf keeps strings). It reports
// whether the result differs from v: unchanged lists and dicts are shared,
// not copied.
func transform(v any, leaf func(string) (any, bool, error)) (any, bool, error) {
	switch x := v.(type) {
	case nil, bool, int, float64:
		return v, false, nil
	case string:
		if leaf == nil {
			return v, false, nil
		}
		return leaf(x)
	case unsafeValue:
		out, _, err := transform(x.v, nil)
		return out, true, err
	case Secret:
		text, err := x.Reveal()
		return text, true, err
	case []any:
		var out []any
		for i, e := range x {
			r, changed, err := transform(e, leaf)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = make([]any, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = r
			}
		}
		if out == nil {
			return x, false, nil
		}
		return out, true, nil
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			r, changed, err := transform(e, leaf)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
				pytext.CopyKeys(out, x)
			}
			if out != nil {
				out[k] = r
			}
		}
		if out == nil {
			return x, false, nil
		}
		return out, true, nil
	}
	n := norm(v)
	switch n.(type) {
	case []any, map[string]any, string:
		out, _, err := transform(n, leaf)
		return out, true, err
	}
	return n, true, nil
}

// canonical converts data from outside the engine to canonical form, deeply.
func canonical(v any) any {
	out, _, _ := transform(v, nil)
	return out
}

// typeName is Python's type(v).__name__, as used in error messages and type_debug.
func typeName(v any) string {
	switch v.(type) {
	case *undefined:
		return "AnsibleUndefined"
	case *function:
		return "builtin_function_or_method"
	case *loopInfo:
		return "LoopContext"
	case *namespace:
		return "Namespace"
	case *datetime:
		return "datetime"
	case *timedelta:
		return "timedelta"
	}
	return pytext.TypeName(norm(v))
}

// objectRepr is Jinja's object_type_repr, used in undefined messages.
func objectRepr(v any) string {
	if v == nil {
		return "None"
	}
	return typeName(v) + " object"
}

// truthy is Python's bool(v); using an undefined value is an error.
func truthy(v any) (bool, error) {
	switch x := v.(type) {
	case *undefined:
		return false, x.err()
	case *function, *loopInfo, *namespace:
		return true, nil
	}
	return pytext.Truthy(norm(v)), nil
}

// py writes values as Python's str() and repr() do. Its Converter, set in init because it
// refers back to py, handles the engine's own objects.
var py pytext.Printer

func init() { py.Convert = pyObject }

// pyObject gives the engine's objects the text Python shows for them.
func pyObject(v any) (any, bool, error) {
	switch x := v.(type) {
	case unsafeValue:
		return x.v, true, nil
	case nativeText:
		return pytext.Raw(x), true, nil
	case *undefined:
		return nil, true, x.err()
	case *function:
		return pytext.Raw("<built-in function " + x.name + ">"), true, nil
	case *loopInfo:
		return pytext.Raw(fmt.Sprintf("<LoopContext %d/%d>", x.index0+1, x.length)), true, nil
	case *datetime:
		return pytext.Raw(x.String()), true, nil
	case *timedelta:
		return pytext.Raw(x.String()), true, nil
	case *namespace:
		attrs, err := py.Repr(x.attrs)
		return pytext.Raw("<Namespace " + attrs + ">"), true, err
	}
	return nil, false, nil
}

// pyStrLenient is Python's str(v) for places that cannot fail (dict keys, messages).
func pyStrLenient(v any) string {
	s, err := py.Str(v)
	if err != nil {
		return err.Error()
	}
	return s
}

// dictKeys returns the entries of m in the order of the dict's keys (see pytext.Keys).
func dictKeys(m map[string]any) []string { return pytext.StrKeys(m) }

// number returns v as a float64 if it is a Python number (bool included).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// integer returns v as an int if it is a Python int (bool included).
func integer(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// pyEqual is Python's ==; comparing an undefined value is an error.
func pyEqual(a, b any) (bool, error) {
	if u, ok := a.(*undefined); ok {
		return false, u.err()
	}
	if u, ok := b.(*undefined); ok {
		return false, u.err()
	}
	return equal(a, b), nil
}

// Equal is Python's == on template values: numbers (bools included) by value, lists and
// dicts by their items.
func Equal(a, b any) bool { return equal(a, b) }

func equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	}
	return a == b
}

// pyCompare orders a and b as Python's < does, returning -1, 0 or 1; op
// names the operator for the TypeError message.
func pyCompare(a, b any, op string) (int, error) {
	if u, ok := a.(*undefined); ok {
		return 0, u.err()
	}
	if u, ok := b.(*undefined); ok {
		return 0, u.err()
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return cmpOrdered(x, y), nil
		}
	}
	if c, ok := dateCompare(a, b); ok {
		return c, nil
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				if equal(x[i], y[i]) {
					continue
				}
				return pyCompare(x[i], y[i], op)
			}
			return cmpOrdered(len(x), len(y)), nil
		}
	}
	return 0, fmt.Errorf("'%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
}

func cmpOrdered[T int | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// contains is Python's "needle in haystack".
func contains(haystack, needle any) (bool, error) {
	switch h := haystack.(type) {
	case string:
		n, ok := needle.(string)
		if !ok {
			if u, isU := needle.(*undefined); isU {
				return false, u.err()
			}
			return false, fmt.Errorf("'in <string>' requires string as left operand, not %s", typeName(needle))
		}
		return strings.Contains(h, n), nil
	case []any:
		for _, e := range h {
			eq, err := pyEqual(e, needle)
			if err != nil {
				return false, err
			}
			if eq {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		if n, ok := needle.(*undefined); ok {
			return false, n.err()
		}
		_, ok := dictGet(h, needle)
		return ok, nil
	case *undefined:
		return false, h.err()
	}
	return false, fmt.Errorf("argument of type '%s' is not iterable", typeName(haystack))
}

// dictGet is Python's d[key] for a key of the value model: the entry Str(key), if the key
// recorded for it (pytext.Key) equals key, so that the int key 80 is not found as '80'.
func dictGet(d map[string]any, key any) (any, bool) {
	key = norm(key)
	switch key.(type) {
	case string, int, float64, bool, nil:
	default:
		return nil, false
	}
	s := pytext.Str(key)
	v, ok := d[s]
	if !ok || !equal(pytext.Key(d, s), key) {
		return nil, false
	}
	return v, true
}

// iterate returns the items Python's iter(v) yields: list items, string
// characters, or dict keys (sorted, since Go maps keep no order).
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case string:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case map[string]any:
		return pytext.Keys(x), nil
	case *undefined:
		return nil, x.err()
	}
	return nil, fmt.Errorf("'%s' object is not iterable", typeName(v))
}

// length is Python's len(v).
func length(v any) (int, error) {
	switch x := v.(type) {
	case string:
		return utf8.RuneCountInString(x), nil
	case []any:
		return len(x), nil
	case map[string]any:
		return len(x), nil
	case *undefined:
		return 0, x.err()
	}
	return 0, fmt.Errorf("object of type '%s' has no len()", typeName(v))
}

// checkDefined fails if v is or contains an undefined value, as Ansible's
// finalize does before a value leaves the template engine.
func checkDefined(v any) error {
	switch x := v.(type) {
	case *undefined:
		return x.err()
	case []any:
		for _, e := range x {
			if err := checkDefined(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := checkDefined(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Truthy reports whether v is true by Python's rules: None, False, zero,
// and empty strings, lists and dicts are false; everything else is true.
func Truthy(v any) bool {
	t, err := truthy(v)
	return t && err == nil
}

// Bool converts v as Ansible's boolean() does: true for True, 1, 1.0 and the
// strings y, yes, on, 1, true, t; false for False, 0, 0.0, None and n, no,
// off, 0, false, f; strings compare case-insensitively and after trimming.
// Anything else, None and the empty string included, is an error.
func Bool(v any) (bool, error) {
	switch x := norm(v).(type) {
	case bool:
		return x, nil
	case int:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case float64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "y", "yes", "on", "1", "true", "t":
			return true, nil
		case "n", "no", "off", "0", "false", "f":
			return false, nil
		}
	}
	return false, fmt.Errorf("the value '%s' is not a valid boolean; valid booleans include: 'y', 'yes', 'on', '1', 'true', 't', 1, 1.0, True, 'n', 'no', 'off', '0', 'false', 'f', 0, 0.0, False", pyStrLenient(norm(v)))
}
