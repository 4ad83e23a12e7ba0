package module

import (
	"context"
	"slices"
	"strings"
)

var getentSpec = &argSpec{module: "getent", options: map[string]option{
	"database": {kind: kindStr, required: true},
	"key":      {kind: kindStr},
	"service":  {kind: kindStr},
	"split":    {kind: kindStr},
	"fail_key": {kind: kindBool, def: true},
}}

// runGetent reads a database with the host's getent into the fact getent_DATABASE: each
// entry's first field maps to its other fields (to a list of them when the first repeats).
var runGetent = withSpec(getentSpec, getentModule)

func init() { register("getent", Spec{Run: runGetent}) }

// getentColon are the databases whose fields are split on colons without a split argument.
var getentColon = []string{"passwd", "shadow", "group", "gshadow"}

func getentModule(ctx context.Context, t *Task, p params) (Result, error) {
	db := p.str("database")
	argv := []string{"getent", db}
	if p.has("key") {
		argv = append(argv, p.str("key"))
	}
	if p.has("service") {
		argv = append(argv, "-s", p.str("service"))
	}
	split := p.str("split")
	if !p.has("split") && slices.Contains(getentColon, db) {
		split = ":"
	}
	rc, out, _, err := runArgv(ctx, t, argv)
	if err != nil {
		return nil, err
	}
	tree := map[string]any{}
	facts := map[string]any{"getent_" + db: tree}
	switch rc {
	case 0:
		seen := map[string]int{}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if line == "" {
				continue
			}
			var rec []string
			if split == "" {
				rec = strings.Fields(line) // Python's str.split()
			} else {
				rec = strings.Split(line, split)
			}
			if len(rec) == 0 {
				continue
			}
			k, fields := rec[0], toAny(rec[1:])
			switch seen[k] {
			case 0:
				tree[k] = fields
			case 1:
				tree[k] = []any{tree[k], fields}
			default:
				tree[k] = append(tree[k].([]any), fields)
			}
			seen[k]++
		}
		return Result{"changed": false, "ansible_facts": facts}, nil
	case 1:
		return fail("Missing arguments, or database unknown."), nil
	case 2:
		msg := "One or more supplied key could not be found in the database."
		if !p.bool("fail_key") {
			tree[p.str("key")] = nil
			return Result{"changed": false, "ansible_facts": facts, "msg": msg}, nil
		}
		return fail(msg), nil
	case 3:
		return fail("Enumeration not supported on this database."), nil
	}
	return fail("Unexpected failure!"), nil
}

// toAny is a list of strings as a result's list.
func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
