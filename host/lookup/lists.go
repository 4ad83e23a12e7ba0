package lookup

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
)

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// flatten is LookupBase._flatten: lists in terms are spliced in, one level deep.
func flatten(terms []any) []any {
	out := []any{}
	for _, t := range terms {
		if l, ok := t.([]any); ok {
			out = append(out, l...)
		} else {
			out = append(out, t)
		}
	}
	return out
}

func itemsLookup(_ *call, terms []any) ([]any, error) { return flatten(terms), nil }

func listLookup(_ *call, terms []any) ([]any, error) { return terms, nil }

// dictLookup turns each mapping into a list of {key, value}.
func dictLookup(_ *call, terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		m, ok := t.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("with_dict expects a dict")
		}
		for _, k := range pytext.StrKeys(m) {
			out = append(out, map[string]any{"key": pytext.Key(m, k), "value": m[k]})
		}
	}
	return out, nil
}

// indexedItemsLookup pairs each item of the flattened terms with its index.
func indexedItemsLookup(_ *call, terms []any) ([]any, error) {
	items := flatten(terms)
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = []any{i, it}
	}
	return out, nil
}

// listify is listify_lookup_plugin_terms on one term: templated, and a string (or a
// non-list) becomes a one-element list.
func (c *call) listify(t any) ([]any, error) {
	if s, ok := t.(string); ok {
		t = strings.TrimSpace(s)
	}
	v, err := c.render(t)
	if err != nil {
		return nil, err
	}
	if l, ok := v.([]any); ok {
		return l, nil
	}
	return []any{v}, nil
}

// nestedLookup is the product of the lists, each combination flattened.
func nestedLookup(c *call, terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, fmt.Errorf("with_nested requires at least one element in the nested list")
	}
	lists := make([][]any, len(terms))
	for i, t := range terms {
		l, err := c.listify(t)
		if err != nil {
			return nil, fmt.Errorf("One of the nested variables was undefined. The error was: %w", err)
		}
		lists[i] = l
	}
	result := lists[0]
	for _, next := range lists[1:] {
		var combined []any
		for _, x := range result {
			for _, y := range next {
				combined = append(combined, flatten([]any{x, y}))
			}
		}
		result = combined
	}
	out := make([]any, len(result))
	for i, x := range result {
		if l, ok := x.([]any); ok {
			out[i] = flatten(l)
		} else {
			out[i] = flatten([]any{x})
		}
	}
	return out, nil
}

// togetherLookup transposes the lists, padding the shorter ones with None.
func togetherLookup(c *call, terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, fmt.Errorf("with_together requires at least one element in each list")
	}
	lists := make([][]any, len(terms))
	longest := 0
	for i, t := range terms {
		l, err := c.listify(t)
		if err != nil {
			return nil, err
		}
		lists[i] = l
		longest = max(longest, len(l))
	}
	out := make([]any, longest)
	for i := range longest {
		row := make([]any, len(lists))
		for j, l := range lists {
			if i < len(l) {
				row[j] = l[i]
			}
		}
		out[i] = flatten(row)
	}
	return out, nil
}

// randomChoiceLookup returns one of the terms, picked at random.
func randomChoiceLookup(_ *call, terms []any) ([]any, error) {
	if len(terms) == 0 {
		return terms, nil
	}
	return []any{terms[rand.IntN(len(terms))]}, nil
}

// varsLookup returns the templated value of each variable named, looked up in the
// variables, then in the host's hostvars, else the default option.
func varsLookup(c *call, terms []any) ([]any, error) {
	if err := c.strictOpts("default"); err != nil {
		return nil, err
	}
	def, hasDef := c.opts["default"]
	out := []any{}
	for _, t := range terms {
		name, err := termString(t)
		if err != nil {
			return nil, err
		}
		v, ok := c.vars[name]
		if !ok {
			v, ok = c.hostvar(name)
		}
		if !ok {
			if hasDef && def != nil {
				out = append(out, def)
				continue
			}
			return nil, &template.UndefinedError{Msg: "No variable found with this name: " + name}
		}
		r, err := c.render(v)
		if err != nil {
			if _, undefined := err.(*template.UndefinedError); undefined && hasDef && def != nil {
				out = append(out, def)
				continue
			}
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (c *call) hostvar(name string) (any, bool) {
	hv, _ := c.vars["hostvars"].(map[string]any)
	host, _ := c.vars["inventory_hostname"].(string)
	vars, _ := hv[host].(map[string]any)
	v, ok := vars[name]
	return v, ok
}

// varnamesLookup returns the names of the variables each regular expression matches (Go's
// RE2 syntax), sorted.
func varnamesLookup(c *call, terms []any) ([]any, error) {
	names := sortedKeys(c.vars)
	out := []any{}
	for _, t := range terms {
		s, err := termString(t)
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("Unable to use \"%s\" as a search parameter: %w", s, err)
		}
		for _, n := range names {
			if re.MatchString(n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

var sequenceShortcut = regexp.MustCompile(`(?i)^(?:(0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(?:/(0?x?[0-9a-f]+))?(?::(.+))?$`)

// sequence is one term of the sequence lookup.
type sequence struct {
	start, stride int
	end, count    *int
	format        string
}

// pyInt is Python's int(s, 0): decimal, 0x hex, 0o or 0 octal, 0b binary.
func pyInt(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimLeft(t, "+-")
	base := 10
	switch {
	case strings.HasPrefix(t, "0x"):
		base, t = 16, t[2:]
	case strings.HasPrefix(t, "0o"):
		base, t = 8, t[2:]
	case strings.HasPrefix(t, "0b"):
		base, t = 2, t[2:]
	case len(t) > 1 && t[0] == '0':
		base, t = 8, t[1:] // as Ansible's sequence documents (Python 3 would refuse it)
	}
	n, err := strconv.ParseInt(t, base, 64)
	if neg {
		n = -n
	}
	return int(n), err
}

// sequenceLookup generates numbers as formatted strings, from "[start-]end[/stride][:format]"
// or start= end= count= stride= format= terms.
func sequenceLookup(_ *call, terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		term := fmt.Sprint(t)
		s := sequence{start: 1, stride: 1, format: "%d"}
		if m := sequenceShortcut.FindStringSubmatch(term); m != nil {
			for i, p := range []*int{&s.start, nil, &s.stride} {
				if m[i+1] == "" {
					continue
				}
				n, err := pyInt(m[i+1])
				if err != nil {
					return nil, fmt.Errorf("can't parse %s=%s as integer", []string{"start", "end", "stride"}[i], m[i+1])
				}
				if p == nil {
					s.end = &n
				} else {
					*p = n
				}
			}
			if m[4] != "" {
				s.format = m[4]
			}
		} else if err := s.parseKV(term); err != nil {
			return nil, err
		}
		seq, err := s.generate()
		if err != nil {
			return nil, err
		}
		out = append(out, seq...)
	}
	return out, nil
}

func (s *sequence) parseKV(term string) error {
	kv, err := playbook.ParseKV(term)
	if err != nil {
		return fmt.Errorf("unknown error parsing with_sequence arguments: %q. Error was: %w", term, err)
	}
	for _, name := range []string{"start", "end", "count", "stride"} {
		raw, ok := kv[name]
		if !ok {
			continue
		}
		delete(kv, name)
		n, err := pyInt(fmt.Sprint(raw))
		if err != nil {
			return fmt.Errorf("can't parse %s=%v as integer", name, raw)
		}
		switch name {
		case "start":
			s.start = n
		case "end":
			s.end = &n
		case "count":
			s.count = &n
		case "stride":
			s.stride = n
		}
	}
	if f, ok := kv["format"]; ok {
		s.format = fmt.Sprint(f)
		delete(kv, "format")
	}
	if len(kv) > 0 {
		return fmt.Errorf("unrecognized arguments to with_sequence: %s", pytext.Repr(sortedKeys(kv)))
	}
	return nil
}

// generate is the sequence's sanity_check and generate_sequence.
func (s *sequence) generate() ([]any, error) {
	switch {
	case s.count == nil && s.end == nil:
		return nil, fmt.Errorf("must specify count or end in with_sequence")
	case s.count != nil && s.end != nil:
		return nil, fmt.Errorf("can't specify both count and end in with_sequence")
	case s.count != nil:
		if *s.count == 0 {
			return []any{}, nil // Ansible sets stride 0: nothing
		}
		end := s.start + *s.count*s.stride - 1
		s.end = &end
	}
	end := *s.end
	if s.stride > 0 && end < s.start {
		return nil, fmt.Errorf("to count backwards make stride negative")
	}
	if s.stride < 0 && end > s.start {
		return nil, fmt.Errorf("to count forward don't make stride negative")
	}
	if strings.Count(s.format, "%") != 1 {
		return nil, fmt.Errorf("bad formatting string: %s", s.format)
	}
	if s.stride == 0 {
		return []any{}, nil
	}
	verb, err := goFormat(s.format)
	if err != nil {
		return nil, err
	}
	adjust := 1
	if s.stride < 0 {
		adjust = -1
	}
	out := []any{}
	for i := s.start; (s.stride > 0 && i < end+adjust) || (s.stride < 0 && i > end+adjust); i += s.stride {
		if len(out) >= 1_000_000 {
			return nil, fmt.Errorf("with_sequence: more than a million items")
		}
		out = append(out, fmt.Sprintf(verb, i))
	}
	return out, nil
}

var printfRE = regexp.MustCompile(`%([-+ #0]*)(\d*)(?:\.(\d+))?([diouxXeEfFgGcrs%])`)

// goFormat turns a Python %-format with one integer conversion into Go's.
func goFormat(f string) (string, error) {
	loc := printfRE.FindStringIndex(f)
	if loc == nil {
		return "", fmt.Errorf("problem formatting with %s", pytext.Repr(f))
	}
	m := printfRE.FindStringSubmatch(f)
	verb := m[4]
	switch verb {
	case "i", "u":
		verb = "d"
	case "r", "s":
		verb = "v"
	case "e", "E", "f", "F", "g", "G", "c", "%":
		return "", fmt.Errorf("tally's with_sequence formats integers only (%%d, %%x, %%o, %%s), not %s", pytext.Repr(f))
	}
	spec := "%" + m[1] + m[2]
	if m[3] != "" {
		spec += "." + m[3]
	}
	return strings.ReplaceAll(f[:loc[0]], "%", "%%") + spec + verb + strings.ReplaceAll(f[loc[1]:], "%", "%%"), nil
}

// subelementsLookup pairs each element of a list (or a dict's values) with each item of the
// list its sub-key (dotted for nesting) names; a third term {skip_missing: true} skips
// elements without it.
func subelementsLookup(c *call, terms []any) ([]any, error) {
	termsErr := func(msg string) error {
		return fmt.Errorf("subelements lookup expects a list of two or three items, %s", msg)
	}
	if len(terms) < 2 || len(terms) > 3 {
		return nil, termsErr("")
	}
	first, err := c.render(terms[0])
	if err != nil {
		return nil, err
	}
	switch first.(type) {
	case []any, map[string]any:
	default:
		first = []any{first} // listify_lookup_plugin_terms: a scalar is a one-item list
	}
	key, ok := terms[1].(string)
	var elements []any
	switch x := first.(type) {
	case []any:
		elements = x
	case map[string]any:
		if skipped, ok := x["skipped"]; ok && skipped != false {
			return []any{}, nil
		}
		for _, k := range pytext.StrKeys(x) {
			elements = append(elements, x[k])
		}
	default:
		ok = false
	}
	if !ok {
		return nil, termsErr("first a dict or a list, second a string pointing to the subkey")
	}
	skipMissing := false
	if len(terms) == 3 {
		flags, isMap := terms[2].(map[string]any)
		if !isMap {
			return nil, termsErr("the optional third item must be a dict with flags ('skip_missing',)")
		}
		skipMissing = template.Truthy(flags["skip_missing"])
	}
	path := strings.Split(key, ".")
	out := []any{}
	for _, el := range elements {
		item, isMap := el.(map[string]any)
		if !isMap {
			return nil, fmt.Errorf("subelements lookup expects a dictionary, got '%s'", pytext.Str(el))
		}
		if skipped, ok := item["skipped"]; ok && skipped != false {
			continue
		}
		sub, rest, err := subList(item, path, skipMissing)
		if err != nil {
			return nil, err
		}
		for _, x := range sub {
			out = append(out, []any{rest, x})
		}
	}
	return out, nil
}

// subList follows path in item to the list it names. rest is item without that list, as
// Ansible pops it from the element it yields (the maps along the path are copied).
func subList(item map[string]any, path []string, skipMissing bool) (sub []any, rest map[string]any, err error) {
	k := path[0]
	next, ok := item[k]
	if !ok {
		if skipMissing {
			return nil, item, nil
		}
		return nil, nil, fmt.Errorf("could not find '%s' key in iterated item '%s'", k, pytext.Str(item))
	}
	rest = maps.Clone(item)
	if len(path) > 1 {
		m, ok := next.(map[string]any)
		if !ok {
			if skipMissing {
				return nil, item, nil
			}
			return nil, nil, fmt.Errorf("the key %s should point to a dictionary, got '%s'", k, pytext.Str(next))
		}
		if sub, rest[k], err = subList(m, path[1:], skipMissing); err != nil {
			return nil, nil, err
		}
		return sub, rest, nil
	}
	l, ok := next.([]any)
	if !ok {
		return nil, nil, fmt.Errorf("the key %s should point to a list, got '%s'", k, pytext.Str(next))
	}
	delete(rest, k)
	return l, rest, nil
}
