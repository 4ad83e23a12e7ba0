package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
	"gopkg.in/yaml.v3"
)

// toJSON is Python's json.dumps as Ansible's to_json calls it: keys in the
// dict's order unless sortKeys, separators ", " and ": " (just "," between
// items when indenting), non-ASCII escaped unless ensureASCII is false.
func toJSON(v any, indentArg any, sortKeys, ensureASCII bool) (string, error) {
	o := pytext.JSONOptions{Pretty: indentArg != nil, InsertionOrder: !sortKeys, EnsureASCII: ensureASCII, Convert: jsonObject}
	switch x := indentArg.(type) {
	case nil:
	case string:
		o.Indent = x
	default:
		n, err := intArg(x, "indent")
		if err != nil {
			return "", err
		}
		o.Indent = strings.Repeat(" ", max(n, 0)) // Python's " " * n
	}
	return pytext.DumpJSON(v, o)
}

// jsonObject unwraps Unsafe values and refuses the engine's objects, as
// json.dumps refuses objects.
func jsonObject(v any) (any, bool, error) {
	switch x := v.(type) {
	case unsafeValue:
		return x.v, true, nil
	case nativeText:
		return string(x), true, nil
	case *undefined:
		return nil, true, x.err()
	case *function, *loopInfo, *namespace:
		return nil, true, fmt.Errorf("object of type %s is not JSON serializable", typeName(v))
	}
	return nil, false, nil
}

func fromJSON(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	v, err := pytext.DecodeJSON(d)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("invalid JSON: extra data after the value")
	}
	return v, nil
}

func fromYAML(s string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	return canonical(v), nil
}

// toYAML dumps v as PyYAML does for Ansible's to_yaml (flowLeaves: lists
// and dicts of scalars in flow style) and to_nice_yaml (block style
// throughout). Keys are sorted, sequences inside mappings are not indented,
// multi-line strings are double-quoted and long lines are not folded.
func toYAML(v any, indentArg any, flowLeaves bool) (string, error) {
	indent, err := intArg(indentArg, "indent")
	if err != nil {
		return "", err
	}
	if err := checkDefined(v); err != nil {
		return "", err
	}
	y := &yamlWriter{indent: max(indent, 2), flowLeaves: flowLeaves}
	v = canonical(v)
	switch x := v.(type) {
	case []any, map[string]any:
		if y.flow(x) {
			y.flowNode(x)
			y.b.WriteByte('\n')
		} else {
			y.block(x, 0)
		}
	default:
		s, plain := y.scalar(x, false)
		y.b.WriteString(s + "\n")
		if plain {
			y.b.WriteString("...\n")
		}
	}
	return y.b.String(), nil
}

type yamlWriter struct {
	b          bytes.Buffer
	indent     int
	flowLeaves bool
}

// flow reports whether a collection is written in flow style.
func (y *yamlWriter) flow(v any) bool {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		for _, e := range x {
			items = append(items, e)
		}
	default:
		return false
	}
	if len(items) == 0 {
		return true
	}
	if !y.flowLeaves {
		return false
	}
	for _, e := range items {
		switch e.(type) {
		case []any, map[string]any:
			return false
		}
	}
	return true
}

// block writes a block collection whose first line continues the current
// one (after "- " or at the start) and whose other lines start at col.
func (y *yamlWriter) block(v any, col int) {
	pad := strings.Repeat(" ", col)
	switch x := v.(type) {
	case map[string]any:
		for i, k := range pytext.SortedKeys(x) { // yaml.dump's sort_keys
			if i > 0 {
				y.b.WriteString(pad)
			}
			key, _ := y.scalar(k, false)
			y.b.WriteString(key + ":")
			y.value(x[pytext.Str(k)], col, true)
		}
	case []any:
		for i, e := range x {
			if i > 0 {
				y.b.WriteString(pad)
			}
			y.b.WriteString("-")
			y.value(e, col, false)
		}
	}
}

// value writes a mapping value or sequence item after its "key:" or "-".
func (y *yamlWriter) value(v any, col int, inMapping bool) {
	switch {
	case y.flow(v):
		y.b.WriteByte(' ')
		y.flowNode(v)
		y.b.WriteByte('\n')
	case isCollection(v) && inMapping:
		y.b.WriteByte('\n')
		if _, isList := v.([]any); isList {
			y.b.WriteString(strings.Repeat(" ", col))
			y.block(v, col)
		} else {
			y.b.WriteString(strings.Repeat(" ", col+y.indent))
			y.block(v, col+y.indent)
		}
	case isCollection(v):
		y.b.WriteString(strings.Repeat(" ", y.indent-1))
		y.block(v, col+y.indent)
	default:
		s, _ := y.scalar(v, false)
		y.b.WriteString(" " + s + "\n")
	}
}

func isCollection(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

func (y *yamlWriter) flowNode(v any) {
	switch x := v.(type) {
	case []any:
		y.b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				y.b.WriteString(", ")
			}
			y.flowNode(e)
		}
		y.b.WriteByte(']')
	case map[string]any:
		y.b.WriteByte('{')
		for i, k := range pytext.SortedKeys(x) {
			if i > 0 {
				y.b.WriteString(", ")
			}
			key, _ := y.scalar(k, true)
			y.b.WriteString(key + ": ")
			y.flowNode(x[pytext.Str(k)])
		}
		y.b.WriteByte('}')
	default:
		s, _ := y.scalar(x, true)
		y.b.WriteString(s)
	}
}

// scalar renders a scalar and reports whether it is a plain string.
func (y *yamlWriter) scalar(v any, inFlow bool) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", false
	case bool:
		return map[bool]string{true: "true", false: "false"}[x], false
	case int:
		return fmt.Sprint(x), false
	case float64:
		switch {
		case math.IsNaN(x):
			return ".nan", false
		case math.IsInf(x, 1):
			return ".inf", false
		case math.IsInf(x, -1):
			return "-.inf", false
		}
		s := pytext.FormatFloat(x)
		if !strings.Contains(s, ".") && strings.Contains(s, "e") {
			s = strings.Replace(s, "e", ".0e", 1)
		}
		return s, false
	case string:
		switch {
		case yamlPlain(x, inFlow):
			return x, true
		case yamlPrintable(x):
			return "'" + strings.ReplaceAll(x, "'", "''") + "'", false
		}
		b, _ := json.Marshal(x)
		return string(b), false
	}
	return pyStrLenient(v), false
}

// yamlImplicit matches plain scalars PyYAML would read back as something
// other than a string.
var yamlImplicit = regexp.MustCompile(`^(?:` +
	`yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF` +
	`|~|null|Null|NULL` +
	`|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` +
	`|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` +
	`|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)` +
	`|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?.*` +
	`|<<|=)$`)

func yamlPrintable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfeff {
			return false
		}
	}
	return true
}

// yamlPlain reports whether PyYAML would write s as a plain scalar.
func yamlPlain(s string, inFlow bool) bool {
	if s == "" || !yamlPrintable(s) || yamlImplicit.MatchString(s) {
		return false
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s[:1], "#,[]{}&*!|>'\"%@`") {
		return false
	}
	if strings.ContainsAny(s[:1], "-?:") && (len(s) == 1 || s[1] == ' ') {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	return !inFlow || !strings.ContainsAny(s, ",?[]{}")
}
