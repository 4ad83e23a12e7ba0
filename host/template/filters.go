package template

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/google/uuid"
	"github.com/tallyrun/tally/internal/pytext"
)

type filterFunc func(st *state, in any, args []any, kw map[string]any) (any, error)

// filters are Jinja's and Ansible's filters by name. It is filled in init
// because some filters (map, select) dispatch through it.
var filters map[string]filterFunc

// sig adapts a filter with a fixed Python signature (after the input).
func sig(names []string, defaults []any, fn func(in any, a []any) (any, error)) filterFunc {
	return func(_ *state, in any, args []any, kw map[string]any) (any, error) {
		a, err := bindArgs("filter", args, kw, names, defaults...)
		if err != nil {
			return nil, err
		}
		return fn(in, a)
	}
}

// stringFilter adapts a filter over the input's str().
func stringFilter(fn func(string) (any, error)) filterFunc {
	return sig(nil, nil, func(in any, _ []any) (any, error) {
		s, err := py.Str(in)
		if err != nil {
			return nil, err
		}
		return fn(s)
	})
}

func init() {
	filters = map[string]filterFunc{
		"default": filterDefault,
		"d":       filterDefault,
		"mandatory": sig([]string{"msg"}, []any{nil}, func(in any, a []any) (any, error) {
			u, ok := in.(*undefined)
			if !ok {
				return in, nil
			}
			if a[0] != nil {
				return nil, errors.New(pyStrLenient(a[0]))
			}
			name := ""
			if u.name != "" {
				name = "'" + u.name + "' "
			}
			return nil, fmt.Errorf("mandatory variable %snot defined", name)
		}),
		"ternary": sig([]string{"true_val", "false_val", "none_val"}, []any{nil}, func(in any, a []any) (any, error) {
			if in == nil && a[2] != nil {
				return a[2], nil
			}
			t, err := truthy(in)
			if err != nil {
				return nil, err
			}
			if t {
				return a[0], nil
			}
			return a[1], nil
		}),
		"int": sig([]string{"default", "base"}, []any{0, 10}, func(in any, a []any) (any, error) {
			base, err := intArg(a[1], "base")
			if err != nil {
				return nil, err
			}
			if n, ok := toInt(in, base); ok {
				return n, nil
			}
			return a[0], nil
		}),
		"float": sig([]string{"default"}, []any{0.0}, func(in any, a []any) (any, error) {
			if f, ok := toFloat(in); ok {
				return f, nil
			}
			return a[0], nil
		}),
		"bool": sig(nil, nil, func(in any, _ []any) (any, error) {
			switch x := in.(type) {
			case nil, bool:
				return x, nil
			case string:
				in = strings.ToLower(x)
			}
			switch in {
			case "yes", "on", "1", "true", 1:
				return true, nil
			}
			return false, nil
		}),
		"string":     stringFilter(func(s string) (any, error) { return s, nil }),
		"lower":      stringFilter(func(s string) (any, error) { return strings.ToLower(s), nil }),
		"upper":      stringFilter(func(s string) (any, error) { return strings.ToUpper(s), nil }),
		"capitalize": stringFilter(func(s string) (any, error) { return capitalize(s), nil }),
		"title":      stringFilter(func(s string) (any, error) { return pyTitle(s), nil }),
		"trim": sig([]string{"chars"}, []any{nil}, func(in any, a []any) (any, error) {
			s, err := py.Str(in)
			if err != nil {
				return nil, err
			}
			return strMethods["strip"](s, a, nil)
		}),
		"length": sig(nil, nil, func(in any, _ []any) (any, error) { return length(in) }),
		"count":  sig(nil, nil, func(in any, _ []any) (any, error) { return length(in) }),
		"wordcount": stringFilter(func(s string) (any, error) {
			return len(regexp.MustCompile(`\w+`).FindAllString(s, -1)), nil
		}),
		"replace": sig([]string{"old", "new", "count"}, []any{nil}, func(in any, a []any) (any, error) {
			s, err := py.Str(in)
			if err != nil {
				return nil, err
			}
			return replace(s, a[0], a[1], a[2])
		}),
		"split": sig([]string{"sep", "maxsplit"}, []any{nil, -1}, func(in any, a []any) (any, error) {
			s, err := py.Str(in)
			if err != nil {
				return nil, err
			}
			return pySplit(s, a[0], a[1], false)
		}),
		"join":   filterJoin,
		"center": sig([]string{"width"}, []any{80}, func(in any, a []any) (any, error) { return strMethods["center"](pyStrLenient(in), a, nil) }),
		"indent": sig([]string{"width", "first", "blank"}, []any{4, false, false}, filterIndent),
		"format": func(_ *state, in any, args []any, kw map[string]any) (any, error) {
			f, err := text(in, "format")
			if err != nil {
				return nil, err
			}
			if len(kw) > 0 {
				return formatValues(f, nil, kw)
			}
			return formatValues(f, args, nil)
		},
		"escape": stringFilter(func(s string) (any, error) { return htmlEscape(s), nil }),
		"e":      stringFilter(func(s string) (any, error) { return htmlEscape(s), nil }),
		"quote": sig(nil, nil, func(in any, _ []any) (any, error) {
			if in == nil {
				in = ""
			}
			s, err := py.Str(in)
			return shellQuote(s), err
		}),
		"regex_replace": sig([]string{"pattern", "replacement", "ignorecase", "multiline"}, []any{"", false, false}, filterRegexReplace),
		"regex_search":  filterRegexSearch,
		"regex_findall": sig([]string{"regex", "multiline", "ignorecase"}, []any{false, false}, filterRegexFindall),
		"regex_escape": sig([]string{"re_type"}, []any{"python"}, func(in any, a []any) (any, error) {
			if a[0] != "python" {
				return nil, fmt.Errorf("regex type %s is not supported", pyStrLenient(a[0]))
			}
			s, err := py.Str(in)
			return pyRegexEscape(s), err
		}),
		"to_json": sig([]string{"indent", "sort_keys", "ensure_ascii"}, []any{nil, false, true}, func(in any, a []any) (any, error) {
			return toJSON(in, a[0], a[1] != false, a[2] != false)
		}),
		"to_nice_json": sig([]string{"indent", "sort_keys", "ensure_ascii"}, []any{4, true, true}, func(in any, a []any) (any, error) {
			return toJSON(in, a[0], a[1] != false, a[2] != false)
		}),
		"from_json": stringFilter(fromJSON),
		"to_yaml": sig([]string{"indent", "default_flow_style"}, []any{2, nil}, func(in any, a []any) (any, error) {
			return toYAML(in, a[0], a[1] == nil)
		}),
		"to_nice_yaml": sig([]string{"indent", "default_flow_style"}, []any{4, false}, func(in any, a []any) (any, error) {
			return toYAML(in, a[0], a[1] == nil)
		}),
		"from_yaml": sig(nil, nil, func(in any, _ []any) (any, error) {
			if s, ok := in.(string); ok {
				return fromYAML(s)
			}
			return in, nil
		}),
		"first": sig(nil, nil, func(in any, _ []any) (any, error) { return firstOrLast(in, true) }),
		"last":  sig(nil, nil, func(in any, _ []any) (any, error) { return firstOrLast(in, false) }),
		"list": sig(nil, nil, func(in any, _ []any) (any, error) {
			items, err := iterate(in)
			return slices.Clone(items), err
		}),
		"reverse": sig(nil, nil, func(in any, _ []any) (any, error) {
			if s, ok := in.(string); ok {
				r := []rune(s)
				slices.Reverse(r)
				return string(r), nil
			}
			items, err := iterate(in)
			out := slices.Clone(items)
			slices.Reverse(out)
			return out, err
		}),
		"map":        filterMap,
		"select":     selectFilter(true),
		"reject":     selectFilter(false),
		"selectattr": selectAttrFilter(true),
		"rejectattr": selectAttrFilter(false),
		"attr": sig([]string{"name"}, nil, func(in any, a []any) (any, error) {
			name, err := text(a[0], "name")
			return getAttr(in, name), err
		}),
		"unique": sig([]string{"case_sensitive", "attribute"}, []any{nil, nil}, func(in any, a []any) (any, error) {
			items, err := iterate(in)
			if err != nil {
				return nil, err
			}
			if a[0] != nil || a[1] != nil {
				// Jinja's unique hashes each key; Ansible's fallback for unhashable ones
				// takes no parameters
				for _, it := range items {
					switch k := sortKey(it, a[0] == true, a[1]); k.(type) {
					case map[string]any, []any:
						return nil, fmt.Errorf("Jinja2's unique filter failed and we cannot fall back to Ansible's version "+
							"as it does not support the parameters supplied. unhashable type: '%s'", typeName(k))
					}
				}
			}
			return unique(items, a[0] == true, a[1])
		}),
		"sort": sig([]string{"reverse", "case_sensitive", "attribute"}, []any{false, false, nil}, func(in any, a []any) (any, error) {
			items, err := iterate(in)
			if err != nil {
				return nil, err
			}
			return sortItems(items, a[0] == true, a[1] == true, a[2])
		}),
		"dictsort": sig([]string{"case_sensitive", "by", "reverse"}, []any{false, "key", false}, filterDictsort),
		"min":      minMax(-1),
		"max":      minMax(1),
		"sum": sig([]string{"attribute", "start"}, []any{nil, 0}, func(in any, a []any) (any, error) {
			items, err := iterate(in)
			if err != nil {
				return nil, err
			}
			total := a[1]
			for _, it := range items {
				if a[0] != nil {
					it = attrPath(it, a[0])
				}
				if total, err = arith("+", total, it); err != nil {
					return nil, err
				}
			}
			return total, nil
		}),
		"abs": sig(nil, nil, func(in any, _ []any) (any, error) {
			switch x := in.(type) {
			case int:
				return max(x, -x), nil
			case float64:
				return math.Abs(x), nil
			}
			return nil, fmt.Errorf("bad operand type for abs(): '%s'", typeName(in))
		}),
		"round": sig([]string{"precision", "method"}, []any{0, "common"}, filterRound),
		"flatten": sig([]string{"levels", "skip_nulls"}, []any{nil, true}, func(in any, a []any) (any, error) {
			items, err := iterate(in)
			if err != nil {
				return nil, err
			}
			levels := -1
			if a[0] != nil {
				if levels, err = intArg(a[0], "levels"); err != nil {
					return nil, err
				}
			}
			return flatten(items, levels, a[1] != false), nil
		}),
		"union":                setOp(func(a, b []any) []any { return append(slices.Clone(a), b...) }),
		"intersect":            setOp(func(a, b []any) []any { return keep(a, b, true) }),
		"difference":           setOp(func(a, b []any) []any { return keep(a, b, false) }),
		"symmetric_difference": setOp(func(a, b []any) []any { return append(keep(a, b, false), keep(b, a, false)...) }),
		"zip":                  zipFilter(false),
		"zip_longest":          zipFilter(true),
		"dict2items": sig([]string{"key_name", "value_name"}, []any{"key", "value"}, func(in any, a []any) (any, error) {
			d, ok := in.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("dict2items requires a dictionary, got %s instead", typeName(in))
			}
			out := make([]any, 0, len(d))
			for _, k := range dictKeys(d) {
				item := pytext.NewDict(2)
				item.Set(a[0], pytext.Key(d, k))
				item.Set(a[1], d[k])
				out = append(out, item.Map())
			}
			return out, nil
		}),
		"items2dict": sig([]string{"key_name", "value_name"}, []any{"key", "value"}, filterItems2dict),
		"items": sig(nil, nil, func(in any, _ []any) (any, error) {
			d, ok := in.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("can only get item pairs from a mapping, not %s", typeName(in))
			}
			return dictItems(d), nil
		}),
		"combine":     filterCombine,
		"extract":     sig([]string{"container", "morekeys"}, []any{nil}, filterExtract),
		"subelements": sig([]string{"subelements", "skip_missing"}, []any{false}, filterSubelements),
		"batch":       sig([]string{"linecount", "fill_with"}, []any{nil}, filterBatch),
		"groupby":     sig([]string{"attribute"}, nil, filterGroupby),
		"basename":    stringFilter(func(s string) (any, error) { return s[strings.LastIndex(s, "/")+1:], nil }),
		"dirname":     stringFilter(func(s string) (any, error) { return pyDirname(s), nil }),
		"splitext": stringFilter(func(s string) (any, error) {
			ext := filepath.Ext(s)
			if ext == s[strings.LastIndex(s, "/")+1:] {
				ext = ""
			}
			return []any{strings.TrimSuffix(s, ext), ext}, nil
		}),
		"expanduser": stringFilter(func(s string) (any, error) {
			if home, err := os.UserHomeDir(); err == nil && (s == "~" || strings.HasPrefix(s, "~/")) {
				return home + s[1:], nil
			}
			return s, nil
		}),
		"path_join": sig(nil, nil, func(in any, _ []any) (any, error) {
			parts, err := iterate(in)
			if s, ok := in.(string); ok {
				return s, nil
			}
			if err != nil {
				return nil, err
			}
			out := ""
			for _, p := range parts {
				s, err := text(p, "path")
				if err != nil {
					return nil, err
				}
				if strings.HasPrefix(s, "/") || out == "" {
					out = s
				} else {
					out = strings.TrimSuffix(out, "/") + "/" + s
				}
			}
			return out, nil
		}),
		"b64encode": sig([]string{"encoding"}, []any{"utf-8"}, func(in any, a []any) (any, error) {
			s, err := py.Str(in)
			if err != nil {
				return nil, err
			}
			b, err := encode(s, a[0])
			return base64.StdEncoding.EncodeToString(b), err
		}),
		"b64decode": sig([]string{"encoding"}, []any{"utf-8"}, func(in any, a []any) (any, error) {
			s, err := py.Str(in)
			if err != nil {
				return nil, err
			}
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("invalid base64 %s: %w", pytext.Quote(s), err)
			}
			return decode(b, a[0])
		}),
		"hash": sig([]string{"hashtype"}, []any{"sha1"}, func(in any, a []any) (any, error) {
			return digest(in, a[0])
		}),
		"md5":      sig(nil, nil, func(in any, _ []any) (any, error) { return digest(in, "md5") }),
		"sha1":     sig(nil, nil, func(in any, _ []any) (any, error) { return digest(in, "sha1") }),
		"checksum": sig(nil, nil, func(in any, _ []any) (any, error) { return digest(in, "sha1") }),
		"to_uuid": sig([]string{"namespace"}, []any{"361E6D51-FAEC-444A-9079-341386DA8E2E"}, func(in any, a []any) (any, error) {
			ns, err := uuid.Parse(pyStrLenient(a[0]))
			if err != nil {
				return nil, fmt.Errorf("invalid value %s for 'namespace': %w", pyStrLenient(a[0]), err)
			}
			s, err := py.Str(in)
			return uuid.NewSHA1(ns, []byte(s)).String(), err
		}),
		"type_debug": sig(nil, nil, func(in any, _ []any) (any, error) { return typeName(in), nil }),
		"log": sig([]string{"base"}, []any{math.E}, func(in any, a []any) (any, error) {
			x, okX := number(in)
			base, okB := number(a[0])
			if !okX || !okB {
				return nil, errors.New("log() can only be used on numbers")
			}
			if base == 10 {
				return math.Log10(x), nil
			}
			return math.Log(x) / math.Log(base), nil
		}),
		"pow": sig([]string{"y"}, nil, func(in any, a []any) (any, error) {
			x, okX := number(in)
			y, okY := number(a[0])
			if !okX || !okY {
				return nil, errors.New("pow() can only be used on numbers")
			}
			return math.Pow(x, y), nil
		}),
		"root": sig([]string{"base"}, []any{2}, func(in any, a []any) (any, error) {
			x, okX := number(in)
			base, okB := number(a[0])
			if !okX || !okB {
				return nil, errors.New("root() can only be used on numbers")
			}
			if base == 2 {
				return math.Sqrt(x), nil
			}
			return math.Pow(x, 1/base), nil
		}),
	}
	maps.Copy(filters, extraFilters())
}

func filterDefault(_ *state, in any, args []any, kw map[string]any) (any, error) {
	a, err := bindArgs("default", args, kw, []string{"default_value", "boolean"}, "", false)
	if err != nil {
		return nil, err
	}
	if _, ok := in.(*undefined); ok {
		return a[0], nil
	}
	if a[1] == true {
		if t, err := truthy(in); err == nil && !t {
			return a[0], nil
		}
	}
	return in, nil
}

// attrPath is Jinja's attribute getter: a dotted path of keys or indexes.
func attrPath(obj any, path any) any {
	p, ok := path.(string)
	if !ok {
		return getItem(obj, path)
	}
	for _, part := range strings.Split(p, ".") {
		if n, err := strconv.Atoi(part); err == nil {
			obj = getItem(obj, n)
		} else {
			obj = getItem(obj, part)
		}
	}
	return obj
}

func filterJoin(_ *state, in any, args []any, kw map[string]any) (any, error) {
	a, err := bindArgs("join", args, kw, []string{"d", "attribute"}, "", nil)
	if err != nil {
		return nil, err
	}
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	sep, err := py.Str(a[0])
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(items))
	for i, it := range items {
		if a[1] != nil {
			it = attrPath(it, a[1])
		}
		if parts[i], err = py.Str(it); err != nil {
			return nil, err
		}
	}
	return strings.Join(parts, sep), nil
}

func filterIndent(in any, a []any) (any, error) {
	s, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	indent, ok := a[0].(string)
	if !ok {
		n, err := intArg(a[0], "width")
		if err != nil {
			return nil, err
		}
		indent = strings.Repeat(" ", n)
	}
	lines := splitLines(s+"\n", false)
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
			if line != "" || a[2] == true {
				b.WriteString(indent)
			}
		}
		b.WriteString(line)
	}
	out := b.String()
	if a[1] == true {
		out = indent + out
	}
	return out, nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// shellQuote is Python's shlex.quote.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r < 128 && (isWordByte(byte(r)) || strings.ContainsRune("@%+=:,./-", r))) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func firstOrLast(in any, first bool) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		which := "first"
		if !first {
			which = "last"
		}
		return &undefined{msg: fmt.Sprintf("No %s item, sequence was empty.", which)}, nil
	}
	if first {
		return items[0], nil
	}
	return items[len(items)-1], nil
}

// filterMap is Jinja's map: map('filter', args...) or map(attribute=..., default=...).
func filterMap(st *state, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	if attr, ok := kw["attribute"]; ok && len(args) == 0 {
		def, hasDefault := kw["default"]
		for i, it := range items {
			v := attrPath(it, attr)
			if _, undef := v.(*undefined); undef && hasDefault {
				v = def
			}
			out[i] = v
		}
		return out, nil
	}
	if len(args) == 0 {
		return nil, errors.New("map requires a filter name or attribute=")
	}
	name, err := text(args[0], "filter name")
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		if out[i], err = st.applyFilter(name, it, args[1:], kw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// check applies the test named by args[0] (truthiness without one).
func (st *state) check(v any, args []any, kw map[string]any) (bool, error) {
	if len(args) == 0 {
		return truthy(v)
	}
	name, err := text(args[0], "test name")
	if err != nil {
		return false, err
	}
	return st.applyTest(name, v, args[1:], kw)
}

func selectFilter(want bool) filterFunc {
	return func(st *state, in any, args []any, kw map[string]any) (any, error) {
		items, err := iterate(in)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, it := range items {
			ok, err := st.check(it, args, kw)
			if err != nil {
				return nil, err
			}
			if ok == want {
				out = append(out, it)
			}
		}
		return out, nil
	}
}

func selectAttrFilter(want bool) filterFunc {
	return func(st *state, in any, args []any, kw map[string]any) (any, error) {
		if len(args) == 0 {
			return nil, errors.New("missing attribute name")
		}
		items, err := iterate(in)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, it := range items {
			ok, err := st.check(attrPath(it, args[0]), args[1:], kw)
			if err != nil {
				return nil, err
			}
			if ok == want {
				out = append(out, it)
			}
		}
		return out, nil
	}
}

// sortKey is the value an item sorts and deduplicates by.
func sortKey(v any, caseSensitive bool, attribute any) any {
	if attribute != nil {
		v = attrPath(v, attribute)
	}
	if s, ok := v.(string); ok && !caseSensitive {
		return strings.ToLower(s)
	}
	return v
}

func unique(items []any, caseSensitive bool, attribute any) ([]any, error) {
	out := []any{}
	var seen []any
	for _, it := range items {
		k := sortKey(it, caseSensitive, attribute)
		if err := checkDefined(k); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(seen, func(s any) bool { return equal(s, k) }) {
			continue
		}
		seen = append(seen, k)
		out = append(out, it)
	}
	return out, nil
}

func sortItems(items []any, reverse, caseSensitive bool, attribute any) ([]any, error) {
	out := slices.Clone(items)
	var err error
	sort.SliceStable(out, func(i, j int) bool {
		a, b := sortKey(out[i], caseSensitive, attribute), sortKey(out[j], caseSensitive, attribute)
		if reverse {
			a, b = b, a
		}
		c, e := pyCompare(a, b, "<")
		if e != nil && err == nil {
			err = e
		}
		return c < 0
	})
	return out, err
}

func filterDictsort(in any, a []any) (any, error) {
	d, ok := in.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("dictsort requires a dict, got %s", typeName(in))
	}
	pos := 0
	switch a[1] {
	case "key":
	case "value":
		pos = 1
	default:
		return nil, errors.New("you can only sort by either 'key' or 'value'")
	}
	return sortItems(dictItems(d), a[2] == true, a[0] == true, pos)
}

func minMax(sign int) filterFunc {
	return sig([]string{"case_sensitive", "attribute"}, []any{false, nil}, func(in any, a []any) (any, error) {
		items, err := iterate(in)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return &undefined{msg: "No aggregated item, sequence was empty."}, nil
		}
		best := items[0]
		for _, it := range items[1:] {
			c, err := pyCompare(sortKey(it, a[0] == true, a[1]), sortKey(best, a[0] == true, a[1]), "<")
			if err != nil {
				return nil, err
			}
			if c == sign {
				best = it
			}
		}
		return best, nil
	})
}

func filterRound(in any, a []any) (any, error) {
	x, ok := number(in)
	if !ok {
		return nil, fmt.Errorf("type %s doesn't define __round__ method", typeName(in))
	}
	prec, err := intArg(a[0], "precision")
	if err != nil {
		return nil, err
	}
	scale := math.Pow(10, float64(prec))
	switch a[1] {
	case "common":
		return math.RoundToEven(x*scale) / scale, nil
	case "ceil":
		return math.Ceil(x*scale) / scale, nil
	case "floor":
		return math.Floor(x*scale) / scale, nil
	}
	return nil, errors.New("method must be common, ceil or floor")
}

// flatten is Ansible's flatten; levels < 0 means all levels.
func flatten(items []any, levels int, skipNulls bool) []any {
	out := []any{}
	for _, it := range items {
		if skipNulls && (it == nil || it == "None" || it == "null") {
			continue
		}
		if l, ok := it.([]any); ok && levels != 0 {
			out = append(out, flatten(l, levels-1, skipNulls)...)
			continue
		}
		out = append(out, it)
	}
	return out
}

// setOp builds union/intersect/difference: Ansible's list versions, which
// keep order and drop duplicates.
func setOp(op func(a, b []any) []any) filterFunc {
	return sig([]string{"other"}, nil, func(in any, a []any) (any, error) {
		x, err := iterate(in)
		if err != nil {
			return nil, err
		}
		y, err := iterate(a[0])
		if err != nil {
			return nil, err
		}
		return unique(op(x, y), true, nil)
	})
}

// keep returns the items of a that are (or are not) in b.
func keep(a, b []any, in bool) []any {
	var out []any
	for _, x := range a {
		if slices.ContainsFunc(b, func(y any) bool { return equal(x, y) }) == in {
			out = append(out, x)
		}
	}
	return out
}

func zipFilter(longest bool) filterFunc {
	return func(_ *state, in any, args []any, kw map[string]any) (any, error) {
		var fill any
		for k, v := range kw {
			if k != "fillvalue" || !longest {
				return nil, fmt.Errorf("unexpected keyword argument '%s'", k)
			}
			fill = v
		}
		lists := [][]any{}
		for _, x := range append([]any{in}, args...) {
			l, err := iterate(x)
			if err != nil {
				return nil, err
			}
			lists = append(lists, l)
		}
		n := len(lists[0])
		for _, l := range lists {
			if longest {
				n = max(n, len(l))
			} else {
				n = min(n, len(l))
			}
		}
		out := make([]any, n)
		for i := range out {
			row := make([]any, len(lists))
			for j, l := range lists {
				row[j] = fill
				if i < len(l) {
					row[j] = l[i]
				}
			}
			out[i] = row
		}
		return out, nil
	}
}

func filterItems2dict(in any, a []any) (any, error) {
	items, ok := in.([]any)
	if !ok {
		return nil, fmt.Errorf("items2dict requires a list, got %s instead", typeName(in))
	}
	out := pytext.NewDict(len(items))
	for _, it := range items {
		d, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("items2dict requires a list of dictionaries, got %s instead", pyStrLenient(in))
		}
		k, okK := d[pyStrLenient(a[0])]
		v, okV := d[pyStrLenient(a[1])]
		if !okK || !okV {
			return nil, fmt.Errorf("items2dict requires each dictionary in the list to contain the keys '%s' and '%s', got %s instead",
				pyStrLenient(a[0]), pyStrLenient(a[1]), pyStrLenient(in))
		}
		if _, err := py.Str(k); err != nil {
			return nil, err
		}
		out.Set(k, v)
	}
	return out.Map(), nil
}

func filterCombine(_ *state, in any, args []any, kw map[string]any) (any, error) {
	recursive, listMerge := false, "replace"
	for k, v := range kw {
		switch k {
		case "recursive":
			recursive = v == true
		case "list_merge":
			listMerge = pyStrLenient(v)
		default:
			return nil, errors.New("'recursive' and 'list_merge' are the only valid keyword arguments")
		}
	}
	switch listMerge {
	case "replace", "keep", "append", "prepend", "append_rp", "prepend_rp":
	default:
		return nil, fmt.Errorf("list_merge can only be 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', not %s", listMerge)
	}
	result := map[string]any{}
	for _, d := range flatten(append([]any{in}, args...), 1, true) {
		m, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("failed to combine variables, expected dicts but got a '%s'", typeName(d))
		}
		if err := checkDefined(m); err != nil {
			return nil, err
		}
		result = mergeHash(result, m, recursive, listMerge)
	}
	return result, nil
}

// mergeHash is Ansible's merge_hash: y's keys override x's.
func mergeHash(x, y map[string]any, recursive bool, listMerge string) map[string]any {
	d := pytext.NewDict(len(x) + len(y))
	d.Update(x)
	out := d.Map()
	for _, k := range pytext.StrKeys(y) {
		yv := y[k]
		xv, ok := out[k]
		if !ok {
			d.Set(pytext.Key(y, k), yv)
			continue
		}
		xm, xIsMap := xv.(map[string]any)
		ym, yIsMap := yv.(map[string]any)
		if xIsMap && yIsMap {
			if recursive {
				out[k] = mergeHash(xm, ym, recursive, listMerge)
			} else {
				out[k] = yv
			}
			continue
		}
		xl, xIsList := xv.([]any)
		yl, yIsList := yv.([]any)
		if !xIsList || !yIsList {
			out[k] = yv
			continue
		}
		switch listMerge {
		case "replace":
			out[k] = yl
		case "keep":
			out[k] = xl
		case "append":
			out[k] = append(slices.Clone(xl), yl...)
		case "prepend":
			out[k] = append(slices.Clone(yl), xl...)
		case "append_rp":
			out[k] = append(keep(xl, yl, false), yl...)
		case "prepend_rp":
			out[k] = append(slices.Clone(yl), keep(xl, yl, false)...)
		}
	}
	return d.Map()
}

func filterExtract(in any, a []any) (any, error) {
	keys := []any{in}
	switch more := a[1].(type) {
	case nil:
	case []any:
		keys = append(keys, more...)
	default:
		keys = append(keys, more)
	}
	v := a[0]
	for _, k := range keys {
		v = getItem(v, k)
	}
	return v, nil
}

func filterSubelements(in any, a []any) (any, error) {
	var elements []any
	switch x := in.(type) {
	case []any:
		elements = x
	case map[string]any:
		for _, k := range dictKeys(x) {
			elements = append(elements, x[k])
		}
	default:
		return nil, errors.New("obj must be a list of dicts or a nested dict")
	}
	var path []any
	switch p := a[0].(type) {
	case string:
		path = toList(strings.Split(p, "."))
	case []any:
		path = p
	default:
		return nil, errors.New("subelements must be a list or a string")
	}
	out := []any{}
	for _, el := range elements {
		values := el
		for _, key := range path {
			d, ok := values.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("the key %s should point to a dictionary, got '%s'", pyStrLenient(key), pyStrLenient(values))
			}
			v, ok := d[pyStrLenient(key)]
			if !ok {
				if a[1] == true {
					values = []any{}
					break
				}
				return nil, fmt.Errorf("could not find %s key in iterated item %s", pyReprLenient(key), pyReprLenient(values))
			}
			values = v
		}
		list, ok := values.([]any)
		if !ok {
			return nil, fmt.Errorf("the key %s should point to a list, got %s", pyReprLenient(a[0]), pyReprLenient(values))
		}
		for _, v := range list {
			out = append(out, []any{el, v})
		}
	}
	return out, nil
}

func filterBatch(in any, a []any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	n, err := intArg(a[0], "linecount")
	if err != nil || n <= 0 {
		return nil, errors.New("linecount must be a positive integer")
	}
	out := []any{}
	for i := 0; i < len(items); i += n {
		row := slices.Clone(items[i:min(i+n, len(items))])
		for a[1] != nil && len(row) < n {
			row = append(row, a[1])
		}
		out = append(out, row)
	}
	return out, nil
}

func filterGroupby(in any, a []any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	sorted, err := sortItems(items, false, true, a[0])
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, it := range sorted {
		k := attrPath(it, a[0])
		if err := checkDefined(k); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && equal(out[n-1].([]any)[0], k) {
			group := out[n-1].([]any)
			group[1] = append(group[1].([]any), it)
			continue
		}
		out = append(out, []any{k, []any{it}})
	}
	return out, nil
}

// pyDirname is Python's os.path.dirname.
func pyDirname(s string) string {
	i := strings.LastIndex(s, "/") + 1
	head := s[:i]
	if trimmed := strings.TrimRight(head, "/"); trimmed != "" {
		return trimmed
	}
	return head
}

func encode(s string, encoding any) ([]byte, error) {
	switch strings.ToLower(strings.ReplaceAll(pyStrLenient(encoding), "_", "-")) {
	case "utf-8", "utf8":
		return []byte(s), nil
	case "utf-16-le", "utf-16le":
		u := utf16.Encode([]rune(s))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			b[2*i], b[2*i+1] = byte(c), byte(c>>8)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unsupported encoding %s", pyStrLenient(encoding))
}

func decode(b []byte, encoding any) (string, error) {
	switch strings.ToLower(strings.ReplaceAll(pyStrLenient(encoding), "_", "-")) {
	case "utf-8", "utf8":
		return string(b), nil
	case "utf-16-le", "utf-16le":
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		return string(utf16.Decode(u)), nil
	}
	return "", fmt.Errorf("unsupported encoding %s", pyStrLenient(encoding))
}

func digest(in any, kind any) (any, error) {
	s, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	var h hash.Hash
	switch kind {
	case "md5":
		h = md5.New()
	case "sha1":
		h = sha1.New()
	case "sha224":
		h = sha256.New224()
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("unsupported hash type %s", pyStrLenient(kind))
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}
