package module

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

// kind is an option type of Ansible's argument_spec.
type kind int

const (
	kindStr  kind = iota
	kindBool      // Ansible's boolean rules: yes/no, on/off, true/false, 1/0, ...
	kindInt
	kindPath // a string; ~ is expanded on the host by the module
	kindList // list of strings; a string is split on commas
	kindRaw  // passed through as given
	// kindPyInt converts like Python's int(): a float is truncated (pause's minutes, seconds).
	kindPyInt
	kindFloat // Ansible's float: a number, or text that parses as one
)

var kindNames = map[kind]string{
	kindStr: "str", kindBool: "bool", kindInt: "int", kindPath: "path", kindList: "list",
	kindRaw: "raw", kindPyInt: "int", kindFloat: "float",
}

// option is one entry of a module's argument_spec.
type option struct {
	kind     kind
	def      any
	required bool
	aliases  []string
	choices  []string
	noLog    bool // censored in the result's invocation, as Ansible does
}

// argSpec validates a module's arguments as AnsibleModule does with its argument_spec.
type argSpec struct {
	module    string
	options   map[string]option
	exclusive [][]string
}

// params are validated arguments under their canonical names, every option present (nil
// when neither given nor defaulted).
type params map[string]any

// parse validates args and converts them to the options' types. Its error is the message
// Ansible fails the task with; when several checks fail, the first in Ansible's order wins.
func (s *argSpec) parse(args map[string]any) (params, error) {
	in := maps.Clone(args)
	legal := map[string]bool{}
	for name, o := range s.options {
		legal[name] = true
		for _, a := range o.aliases {
			legal[a] = true
			if v, ok := in[a]; ok {
				in[name] = v
			}
		}
	}
	var errs []string
	for _, group := range s.exclusive {
		n := 0
		for _, name := range group {
			if _, ok := in[name]; ok {
				n++
			}
		}
		if n > 1 {
			errs = append(errs, "parameters are mutually exclusive: "+strings.Join(group, "|"))
		}
	}
	var missing []string
	for _, name := range sortedKeys(s.options) {
		if _, ok := in[name]; !ok && s.options[name].required {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		errs = append(errs, "missing required arguments: "+strings.Join(missing, ", "))
	}
	p := params{}
	for _, name := range sortedKeys(s.options) {
		o := s.options[name]
		v, ok := in[name]
		if !ok || v == nil {
			p[name] = o.def
			continue
		}
		cv, err := convert(o.kind, v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("argument '%s' is of type %s and we were unable to convert to %s: %v", name, pyType(v), kindNames[o.kind], err))
			continue
		}
		if o.choices != nil {
			if s, isStr := cv.(string); isStr && !slices.Contains(o.choices, s) {
				errs = append(errs, fmt.Sprintf("value of %s must be one of: %s, got: %s", name, strings.Join(o.choices, ", "), s))
			}
		}
		p[name] = cv
	}
	var unknown []string
	for k := range in {
		if !legal[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		errs = append(errs, fmt.Sprintf("Unsupported parameters for (%s) module: %s. Supported parameters include: %s.",
			s.module, strings.Join(unknown, ", "), s.supported()))
	}
	if len(errs) > 0 {
		return nil, errors.New(errs[0])
	}
	return p, nil
}

// supported lists the options, then their aliases in parentheses, as Ansible's message does.
func (s *argSpec) supported() string {
	var aliases []string
	for _, o := range s.options {
		aliases = append(aliases, o.aliases...)
	}
	list := strings.Join(sortedKeys(s.options), ", ")
	if len(aliases) > 0 {
		slices.Sort(aliases)
		list += " (" + strings.Join(aliases, ", ") + ")"
	}
	return list
}

// moduleFunc is a module's body, given its validated arguments.
type moduleFunc func(ctx context.Context, t *Task, p params) (Result, error)

// withSpec makes a module that validates its arguments against spec, as AnsibleModule does,
// and records them in its result's invocation.
func withSpec(spec *argSpec, run moduleFunc) Func {
	return func(ctx context.Context, t *Task, args map[string]any) (Result, error) {
		p, err := spec.parse(args)
		if err != nil {
			return nil, err
		}
		r, err := run(ctx, t, p)
		if r != nil {
			r["invocation"] = spec.invocation(p)
		}
		return r, err
	}
}

// invocation is the result's record of the arguments a module ran with.
func (s *argSpec) invocation(p params) map[string]any {
	args := map[string]any{}
	for name, v := range p {
		if s.options[name].noLog && v != nil {
			v = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
		}
		args[name] = v
	}
	return map[string]any{"module_args": args}
}

// ansibleErr is an error carrying one of Ansible's own messages verbatim, capitals and all:
// users and their tests match on Ansible's wording.
func ansibleErr(format string, args ...any) error { return fmt.Errorf(format, args...) }

// checkValidArgs rejects arguments an action plugin does not list in its _VALID_ARGS, with
// the action plugin's message.
func checkValidArgs(module string, args map[string]any, valid ...string) error {
	var bad []string
	for k := range args {
		if !slices.Contains(valid, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return ansibleErr("Invalid options for %s: %s", module, strings.Join(bad, ","))
}

func convert(k kind, v any) (any, error) {
	switch k {
	case kindStr, kindPath:
		return pytext.Str(v), nil
	case kindBool:
		return boolean(v)
	case kindInt:
		if s, ok := v.(string); ok {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("%s cannot be converted to an int", pyType(v))
			}
			return n, nil
		}
		if n, ok := asInt(v); ok {
			return n, nil
		}
		return nil, fmt.Errorf("%s cannot be converted to an int", pyType(v))
	case kindPyInt:
		if f, ok := v.(float64); ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return int(f), nil
		}
		if s, ok := v.(string); ok {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("invalid literal for int() with base 10: %s", pytext.Repr(s))
			}
			return n, nil
		}
		if n, ok := asInt(v); ok {
			return n, nil
		}
		return nil, fmt.Errorf("int() argument must be a string, a bytes-like object or a real number, not '%s'", pytext.TypeName(v))
	case kindFloat:
		if s, ok := v.(string); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return f, nil
			}
		} else if f, ok := v.(float64); ok {
			return f, nil
		} else if n, ok := asInt(v); ok {
			return float64(n), nil
		}
		return nil, fmt.Errorf("%s cannot be converted to a float", pyType(v))
	case kindList:
		var items []any
		switch x := v.(type) {
		case []any:
			items = x
		case []string:
			return x, nil
		case string:
			return strings.Split(x, ","), nil
		default:
			if _, isBool := v.(bool); !isBool {
				if _, ok := pytext.Number(v); ok {
					return []string{pytext.Str(v)}, nil
				}
			}
			return nil, fmt.Errorf("%s cannot be converted to a list", pyType(v))
		}
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = pytext.Str(it)
		}
		return out, nil
	}
	return v, nil
}

var (
	booleansTrue  = []string{"y", "yes", "on", "1", "true", "t"}
	booleansFalse = []string{"n", "no", "off", "0", "false", "f"}
)

// boolean converts v with Ansible's boolean rules (module_utils.parsing.convert_bool).
func boolean(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		if slices.Contains(booleansTrue, s) {
			return true, nil
		}
		if slices.Contains(booleansFalse, s) {
			return false, nil
		}
	default:
		if f, ok := pytext.Number(v); ok && (f == 0 || f == 1) {
			return f == 1, nil
		}
		if _, ok := pytext.Number(v); !ok {
			return false, fmt.Errorf("%s cannot be converted to a bool", pyType(v))
		}
	}
	return false, ansibleErr("The value '%s' is not a valid boolean.  Valid booleans include: %s", pytext.Str(v), validBooleans)
}

// validBooleans is Ansible's list, in a fixed order where Python's follows its set hashing.
var validBooleans = func() string {
	var all []string
	for _, s := range slices.Concat(booleansTrue, booleansFalse) {
		all = append(all, "'"+s+"'")
	}
	return strings.Join(append(all, "1", "0", "1.0", "0.0", "True", "False"), ", ")
}()

// truthy converts v with Ansible's non-strict boolean rules: anything unknown is false.
func truthy(v any) bool {
	b, _ := boolean(v)
	return b
}

// asInt returns an integral number v as an int. A float is integral when it has no fraction:
// YAML and JSON decoders may hand over 5 as 5.0.
func asInt(v any) (int, bool) {
	if _, isBool := v.(bool); isBool {
		return 0, false
	}
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	}
	f, ok := pytext.Number(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// pyType names v's type as Python's type() prints it, for Ansible's messages.
func pyType(v any) string {
	return "<class '" + pytext.TypeName(v) + "'>"
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func (p params) str(name string) string {
	s, _ := p[name].(string)
	return s
}

func (p params) bool(name string) bool {
	b, _ := p[name].(bool)
	return b
}

func (p params) int(name string) int {
	n, _ := p[name].(int)
	return n
}

func (p params) float(name string) float64 {
	f, _ := p[name].(float64)
	return f
}

func (p params) list(name string) []string {
	l, _ := p[name].([]string)
	return l
}

// has reports whether the option was given (or has a default).
func (p params) has(name string) bool { return p[name] != nil }
