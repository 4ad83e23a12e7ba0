package template

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/tallyrun/tally/internal/pytext"
)

// bindArgs binds positional and keyword arguments to a Python-style
// signature: names in order, defaults for the trailing len(defaults) ones.
func bindArgs(fn string, args []any, kw map[string]any, names []string, defaults ...any) ([]any, error) {
	if len(args) > len(names) {
		return nil, fmt.Errorf("%s() takes at most %d arguments (%d given)", fn, len(names), len(args))
	}
	out := make([]any, len(names))
	set := make([]bool, len(names))
	for i, a := range args {
		out[i], set[i] = a, true
	}
	for k, v := range kw {
		i := slices.Index(names, k)
		if i < 0 {
			return nil, fmt.Errorf("%s() got an unexpected keyword argument '%s'", fn, k)
		}
		if set[i] {
			return nil, fmt.Errorf("%s() got multiple values for argument '%s'", fn, k)
		}
		out[i], set[i] = v, true
	}
	firstDefault := len(names) - len(defaults)
	for i, name := range names {
		if set[i] {
			continue
		}
		if i < firstDefault {
			return nil, fmt.Errorf("%s() missing required argument '%s'", fn, name)
		}
		out[i] = defaults[i-firstDefault]
	}
	return out, nil
}

// text converts an argument that must be a string.
func text(v any, what string) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("%s must be a string, not %s", what, typeName(v))
}

// intArg converts an argument that must be an int.
func intArg(v any, what string) (int, error) {
	if i, ok := integer(v); ok {
		return i, nil
	}
	return 0, fmt.Errorf("%s must be an integer, not %s", what, typeName(v))
}

type method func(recv any, args []any, kw map[string]any) (any, error)

// boundMethod returns the Python method name of obj, bound to it.
func boundMethod(obj any, name string) (*function, bool) {
	var m method
	switch obj.(type) {
	case string:
		m = strMethods[name]
	case map[string]any:
		m = dictMethods[name]
	case []any:
		m = listMethods[name]
	}
	if m == nil {
		return nil, false
	}
	return &function{name: name, call: func(_ *state, args []any, kw map[string]any) (any, error) {
		out, err := m(obj, args, kw)
		if err != nil {
			return nil, fmt.Errorf("%s(): %w", name, err)
		}
		return out, nil
	}}, true
}

// strMethod adapts a method over a string receiver with a fixed signature.
func strMethod(names []string, defaults []any, fn func(s string, a []any) (any, error)) method {
	return func(recv any, args []any, kw map[string]any) (any, error) {
		a, err := bindArgs("str", args, kw, names, defaults...)
		if err != nil {
			return nil, err
		}
		return fn(recv.(string), a)
	}
}

func strTransform(fn func(string) string) method {
	return strMethod(nil, nil, func(s string, _ []any) (any, error) { return fn(s), nil })
}

func strPredicate(fn func(rune) bool) method {
	return strMethod(nil, nil, func(s string, _ []any) (any, error) {
		if s == "" {
			return false, nil
		}
		for _, r := range s {
			if !fn(r) {
				return false, nil
			}
		}
		return true, nil
	})
}

func stripMethod(trim func(string, string) string, trimSpace func(string) string) method {
	return strMethod([]string{"chars"}, []any{nil}, func(s string, a []any) (any, error) {
		if a[0] == nil {
			return trimSpace(s), nil
		}
		chars, err := text(a[0], "chars")
		if err != nil {
			return nil, err
		}
		return trim(s, chars), nil
	})
}

var strMethods map[string]method

func init() {
	strMethods = map[string]method{
		"upper":      strTransform(strings.ToUpper),
		"lower":      strTransform(strings.ToLower),
		"casefold":   strTransform(strings.ToLower),
		"capitalize": strTransform(capitalize),
		"title":      strTransform(pyTitle),
		"swapcase": strTransform(func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsUpper(r) {
					return unicode.ToLower(r)
				}
				return unicode.ToUpper(r)
			}, s)
		}),
		"strip":  stripMethod(strings.Trim, strings.TrimSpace),
		"lstrip": stripMethod(strings.TrimLeft, func(s string) string { return strings.TrimLeftFunc(s, unicode.IsSpace) }),
		"rstrip": stripMethod(strings.TrimRight, func(s string) string { return strings.TrimRightFunc(s, unicode.IsSpace) }),
		"split": strMethod([]string{"sep", "maxsplit"}, []any{nil, -1}, func(s string, a []any) (any, error) {
			return pySplit(s, a[0], a[1], false)
		}),
		"rsplit": strMethod([]string{"sep", "maxsplit"}, []any{nil, -1}, func(s string, a []any) (any, error) {
			return pySplit(s, a[0], a[1], true)
		}),
		"splitlines": strMethod([]string{"keepends"}, []any{false}, func(s string, a []any) (any, error) {
			return toList(splitLines(s, a[0] == true)), nil
		}),
		"startswith": strMethod([]string{"prefix"}, nil, func(s string, a []any) (any, error) {
			return affix(s, a[0], strings.HasPrefix)
		}),
		"endswith": strMethod([]string{"suffix"}, nil, func(s string, a []any) (any, error) {
			return affix(s, a[0], strings.HasSuffix)
		}),
		"replace": strMethod([]string{"old", "new", "count"}, []any{-1}, func(s string, a []any) (any, error) {
			return replace(s, a[0], a[1], a[2])
		}),
		"find": strMethod([]string{"sub"}, nil, func(s string, a []any) (any, error) {
			sub, err := text(a[0], "sub")
			return runeIndex(s, strings.Index(s, sub)), err
		}),
		"rfind": strMethod([]string{"sub"}, nil, func(s string, a []any) (any, error) {
			sub, err := text(a[0], "sub")
			return runeIndex(s, strings.LastIndex(s, sub)), err
		}),
		"index": strMethod([]string{"sub"}, nil, func(s string, a []any) (any, error) {
			sub, err := text(a[0], "sub")
			if err != nil {
				return nil, err
			}
			if i := strings.Index(s, sub); i >= 0 {
				return runeIndex(s, i), nil
			}
			return nil, fmt.Errorf("substring not found")
		}),
		"count": strMethod([]string{"sub"}, nil, func(s string, a []any) (any, error) {
			sub, err := text(a[0], "sub")
			return strings.Count(s, sub), err
		}),
		"join": strMethod([]string{"iterable"}, nil, func(s string, a []any) (any, error) {
			items, err := iterate(a[0])
			if err != nil {
				return nil, err
			}
			parts := make([]string, len(items))
			for i, it := range items {
				if parts[i], err = text(it, "sequence item"); err != nil {
					return nil, err
				}
			}
			return strings.Join(parts, s), nil
		}),
		"zfill": strMethod([]string{"width"}, nil, func(s string, a []any) (any, error) {
			w, err := intArg(a[0], "width")
			if err != nil {
				return nil, err
			}
			sign := ""
			if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
				sign, s = s[:1], s[1:]
			}
			return sign + strings.Repeat("0", max(0, w-len(sign)-len([]rune(s)))) + s, nil
		}),
		"center":  padMethod(func(pad string, n int) (string, string) { return pad[:n/2], pad[n/2:] }),
		"ljust":   padMethod(func(pad string, n int) (string, string) { return "", pad }),
		"rjust":   padMethod(func(pad string, n int) (string, string) { return pad, "" }),
		"isdigit": strPredicate(unicode.IsDigit),
		"isalpha": strPredicate(unicode.IsLetter),
		"isalnum": strPredicate(func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }),
		"isspace": strPredicate(unicode.IsSpace),
		"islower": strMethod(nil, nil, func(s string, _ []any) (any, error) {
			return strings.ToLower(s) == s && strings.ToUpper(s) != s, nil
		}),
		"isupper": strMethod(nil, nil, func(s string, _ []any) (any, error) {
			return strings.ToUpper(s) == s && strings.ToLower(s) != s, nil
		}),
		"format": func(recv any, args []any, kw map[string]any) (any, error) {
			return strFormat(recv.(string), args, kw)
		},
	}
}

func padMethod(split func(pad string, n int) (string, string)) method {
	return strMethod([]string{"width", "fillchar"}, []any{" "}, func(s string, a []any) (any, error) {
		w, err := intArg(a[0], "width")
		if err != nil {
			return nil, err
		}
		fill, err := text(a[1], "fillchar")
		if err != nil {
			return nil, err
		}
		n := w - len([]rune(s))
		if n <= 0 {
			return s, nil
		}
		left, right := split(strings.Repeat(fill, n), n)
		return left + s + right, nil
	})
}

var dictMethods = map[string]method{
	"items": func(recv any, args []any, kw map[string]any) (any, error) {
		if _, err := bindArgs("items", args, kw, nil); err != nil {
			return nil, err
		}
		return dictItems(recv.(map[string]any)), nil
	},
	"keys": func(recv any, args []any, kw map[string]any) (any, error) {
		if _, err := bindArgs("keys", args, kw, nil); err != nil {
			return nil, err
		}
		return iterate(recv)
	},
	"values": func(recv any, args []any, kw map[string]any) (any, error) {
		if _, err := bindArgs("values", args, kw, nil); err != nil {
			return nil, err
		}
		d := recv.(map[string]any)
		out := make([]any, 0, len(d))
		for _, k := range dictKeys(d) {
			out = append(out, d[k])
		}
		return out, nil
	},
	"get": func(recv any, args []any, kw map[string]any) (any, error) {
		a, err := bindArgs("get", args, kw, []string{"key", "default"}, nil)
		if err != nil {
			return nil, err
		}
		if v, ok := dictGet(recv.(map[string]any), a[0]); ok {
			return v, nil
		}
		return a[1], nil
	},
	"copy": func(recv any, args []any, kw map[string]any) (any, error) {
		out := pytext.NewDict(0)
		out.Update(recv.(map[string]any))
		return out.Map(), nil
	},
}

var listMethods = map[string]method{
	"index": func(recv any, args []any, kw map[string]any) (any, error) {
		a, err := bindArgs("index", args, kw, []string{"value"})
		if err != nil {
			return nil, err
		}
		for i, e := range recv.([]any) {
			if equal(e, a[0]) {
				return i, nil
			}
		}
		return nil, fmt.Errorf("%s is not in list", pyStrLenient(a[0]))
	},
	"count": func(recv any, args []any, kw map[string]any) (any, error) {
		a, err := bindArgs("count", args, kw, []string{"value"})
		if err != nil {
			return nil, err
		}
		n := 0
		for _, e := range recv.([]any) {
			if equal(e, a[0]) {
				n++
			}
		}
		return n, nil
	},
	"copy": func(recv any, args []any, kw map[string]any) (any, error) {
		return slices.Clone(recv.([]any)), nil
	},
}

// dictItems is dict.items() as a list of [key, value] pairs.
func dictItems(d map[string]any) []any {
	out := make([]any, 0, len(d))
	for _, k := range dictKeys(d) {
		out = append(out, []any{pytext.Key(d, k), d[k]})
	}
	return out
}

func toList(strs []string) []any {
	out := make([]any, len(strs))
	for i, s := range strs {
		out[i] = s
	}
	return out
}

func capitalize(s string) string {
	r := []rune(strings.ToLower(s))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// pyTitle is Python's str.title: letters after a non-letter are uppercased.
func pyTitle(s string) string {
	prevLetter := false
	return strings.Map(func(r rune) rune {
		isLetter := unicode.IsLetter(r)
		defer func() { prevLetter = isLetter }()
		if !isLetter {
			return r
		}
		if prevLetter {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

func runeIndex(s string, byteIndex int) int {
	if byteIndex < 0 {
		return byteIndex
	}
	return len([]rune(s[:byteIndex]))
}

// pySplit is str.split / str.rsplit.
func pySplit(s string, sepArg, maxArg any, fromRight bool) ([]any, error) {
	maxsplit, err := intArg(maxArg, "maxsplit")
	if err != nil {
		return nil, err
	}
	if sepArg == nil {
		fields := strings.Fields(s)
		if maxsplit < 0 || maxsplit >= len(fields)-1 {
			return toList(fields), nil
		}
		// Keep the unsplit remainder as Python does.
		if fromRight {
			rest := strings.TrimRightFunc(s, unicode.IsSpace)
			out := []string{}
			for range maxsplit {
				i := strings.LastIndexFunc(rest, unicode.IsSpace)
				out = append([]string{rest[i+1:]}, out...)
				rest = strings.TrimRightFunc(rest[:i], unicode.IsSpace)
			}
			return toList(append([]string{rest}, out...)), nil
		}
		rest := strings.TrimLeftFunc(s, unicode.IsSpace)
		out := []string{}
		for range maxsplit {
			i := strings.IndexFunc(rest, unicode.IsSpace)
			out = append(out, rest[:i])
			rest = strings.TrimLeftFunc(rest[i:], unicode.IsSpace)
		}
		return toList(append(out, rest)), nil
	}
	sep, err := text(sepArg, "sep")
	if err != nil {
		return nil, err
	}
	if sep == "" {
		return nil, fmt.Errorf("empty separator")
	}
	if maxsplit < 0 {
		return toList(strings.Split(s, sep)), nil
	}
	if !fromRight {
		return toList(strings.SplitN(s, sep, maxsplit+1)), nil
	}
	var out []string
	for range maxsplit {
		i := strings.LastIndex(s, sep)
		if i < 0 {
			break
		}
		out = append([]string{s[i+len(sep):]}, out...)
		s = s[:i]
	}
	return toList(append([]string{s}, out...)), nil
}

// splitLines is str.splitlines for \n, \r\n and \r line ends.
func splitLines(s string, keepEnds bool) []string {
	var out []string
	for s != "" {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			out = append(out, s)
			break
		}
		end := i + 1
		if s[i] == '\r' && end < len(s) && s[end] == '\n' {
			end++
		}
		if keepEnds {
			out = append(out, s[:end])
		} else {
			out = append(out, s[:i])
		}
		s = s[end:]
	}
	return out
}

// affix implements startswith/endswith, whose argument may be a tuple.
func affix(s string, arg any, has func(string, string) bool) (bool, error) {
	candidates, ok := arg.([]any)
	if !ok {
		candidates = []any{arg}
	}
	for _, c := range candidates {
		p, err := text(c, "prefix")
		if err != nil {
			return false, err
		}
		if has(s, p) {
			return true, nil
		}
	}
	return false, nil
}

func replace(s string, oldArg, newArg, countArg any) (string, error) {
	old, err := text(oldArg, "old")
	if err != nil {
		return "", err
	}
	repl, err := text(newArg, "new")
	if err != nil {
		return "", err
	}
	count := -1
	if countArg != nil {
		if count, err = intArg(countArg, "count"); err != nil {
			return "", err
		}
	}
	return strings.Replace(s, old, repl, count), nil
}

// strFormat is str.format for {}, {0} and {name} fields with optional
// !s/!r conversions; format specs are not supported.
func strFormat(f string, args []any, kw map[string]any) (string, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '{' && i+1 < len(f) && f[i+1] == '{', c == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(f[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("single '{' encountered in format string")
			}
			field := f[i+1 : i+end]
			i += end
			field, conv, _ := strings.Cut(field, "!")
			if strings.Contains(field, ":") {
				return "", fmt.Errorf("format specs are not supported: %s", field)
			}
			var v any
			if field == "" {
				field = fmt.Sprint(auto)
				auto++
			}
			if n, ok := toInt(field, 10); ok && strings.Trim(field, "0123456789") == "" {
				if n >= len(args) {
					return "", fmt.Errorf("replacement index %d out of range", n)
				}
				v = args[n]
			} else if x, ok := kw[field]; ok {
				v = x
			} else {
				return "", fmt.Errorf("missing format key '%s'", field)
			}
			str := py.Str
			if conv == "r" {
				str = py.Repr
			}
			s, err := str(v)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
