package template

import (
	"fmt"
	"strings"
)

// Lookups runs the lookup plugins that lookup(), query() and q() call (host/lookup implements
// it). Lookup runs plugin name on terms with its keyword options and the variables of the
// calling template, and returns the plugin's list; errors= (strict, warn, ignore) is the
// plugin runner's to apply: a nil list with a nil error means the plugin failed and errors=
// said to go on.
type Lookups interface {
	Lookup(name string, terms []any, opts map[string]any, vars map[string]any) ([]any, error)
}

// SetLookups gives the engine its lookup plugins. Call it before the engine is used.
func (e *Engine) SetLookups(l Lookups) { e.lookups = l }

func init() {
	globals["lookup"] = lookupFunc("lookup", false)
	globals["query"] = lookupFunc("query", true)
	globals["q"] = lookupFunc("q", true)
}

// lookupFunc is Ansible's Templar._lookup: the terms are templated (listify_lookup_plugin_
// terms), the plugin runs, and without wantlist a list of strings is joined with commas, a
// one-element list gives its element, and any other list stays a list.
func lookupFunc(fn string, wantlist bool) *function {
	return &function{name: fn, call: func(st *state, args []any, kw map[string]any) (any, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("%s() missing the name of a lookup plugin", fn)
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s(): the lookup plugin's name must be a string, not %s", fn, typeName(args[0]))
		}
		opts := make(map[string]any, len(kw))
		want := wantlist
		for k, v := range kw {
			if k == "wantlist" {
				t, err := truthy(v)
				if err != nil {
					return nil, err
				}
				want = want || t
				continue
			}
			opts[k] = v
		}
		if st.e.lookups == nil {
			return nil, fmt.Errorf("lookup plugin (%s) not found", name)
		}
		terms, err := st.template(append([]any{}, args[1:]...), false)
		if err != nil {
			return nil, err
		}
		ran, err := st.e.lookups.Lookup(name, terms.([]any), opts, st.vars)
		if err != nil {
			return nil, err
		}
		if ran == nil {
			if want {
				return []any{}, nil
			}
			return nil, nil
		}
		ran = canonical(ran).([]any)
		if want || len(ran) == 0 {
			return ran, nil
		}
		parts := make([]string, len(ran))
		for i, v := range ran {
			s, ok := v.(string)
			if !ok {
				if len(ran) == 1 {
					return ran[0], nil
				}
				return ran, nil
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}}
}
