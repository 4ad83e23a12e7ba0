package module

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pypath"
	"github.com/tallyrun/tally/internal/pytext"
)

// This file is Ansible's ArgumentSpecValidator (module_utils.common.arg_spec, parameters and
// validation) on an argument spec given as data: a role's meta/argument_specs, checked by the
// validate_argument_spec task Ansible puts before the role's tasks. Its messages, their order
// and their "found in 'a -> b'" contexts are Ansible's, since playbooks assert on them.

// specValidation is one validation: its errors in Ansible's order, and the unsupported
// parameters, reported last.
type specValidation struct {
	errs        []string
	unsupported [][]string        // each an option's path: context then name
	supported   map[string]string // by strings.Join(path, "."): the options there, then aliases
}

func (v *specValidation) add(err error) {
	if err != nil {
		v.errs = append(v.errs, err.Error())
	}
}

// validateArgSpec validates params against spec (option name -> its attributes) as
// ArgumentSpecValidator.validate does, returning the error messages (none: valid).
func validateArgSpec(spec, params map[string]any) []string {
	p, _ := deepCopy(params).(map[string]any)
	v := &specValidation{supported: map[string]string{}}
	aliases, err := specAliases(spec, p)
	v.add(err)
	v.add(specNoLogValues(spec, p))
	v.unsupportedIn(spec, p, aliases, nil)
	specDefaults(spec, p, false)
	v.add(specRequired(spec, p, nil))
	v.types(spec, p, nil)
	v.values(spec, p, nil)
	specDefaults(spec, p, true)
	v.subSpecs(spec, p, nil)
	if len(v.unsupported) > 0 {
		var names []string
		for _, u := range v.unsupported {
			names = append(names, strings.Join(u, "."))
		}
		slices.Sort(names)
		// Ansible lists what the last unsupported name (in its set's order) supports.
		v.errs = append(v.errs, fmt.Sprintf("%s. Supported parameters include: %s.",
			strings.Join(names, ", "), v.supported[names[len(names)-1]]))
	}
	return v.errs
}

// optionAttrs returns an option's attributes; an option written with none (a null) has none.
func optionAttrs(spec map[string]any, name string) map[string]any {
	m, _ := spec[name].(map[string]any)
	return m
}

// specAliases copies each alias's value to its option's name and returns alias -> option, as
// _handle_aliases does; it stops at the first option it finds wrong.
func specAliases(spec, p map[string]any) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range pytext.StrKeys(spec) {
		o := optionAttrs(spec, name)
		if o["default"] != nil && pytext.Truthy(o["required"]) {
			return map[string]string{}, fmt.Errorf("internal error: required and default are mutually exclusive for %s", name)
		}
		a, ok := o["aliases"]
		if !ok || a == nil {
			continue
		}
		list, ok := a.([]any)
		if !ok {
			return map[string]string{}, fmt.Errorf("internal error: aliases must be a list or tuple")
		}
		for _, alias := range list {
			s := pytext.Str(alias)
			out[s] = name
			if v, ok := p[s]; ok {
				p[name] = v
			}
		}
	}
	return out, nil
}

// specNoLogValues is the part of _list_no_log_values that can fail: suboptions given as text
// must parse as dicts, and must be dicts.
func specNoLogValues(spec, p map[string]any) error {
	for _, name := range pytext.StrKeys(spec) {
		o := optionAttrs(spec, name)
		sub, ok := o["options"].(map[string]any)
		if !ok || p[name] == nil || !takesSubOptions(o) {
			continue
		}
		items, isList := p[name].([]any)
		if !isList {
			items = []any{p[name]}
		}
		for _, it := range items {
			if s, ok := it.(string); ok {
				d, err := checkTypeDict(s)
				if err != nil {
					return err
				}
				it = d
			}
			m, ok := it.(map[string]any)
			if !ok {
				return fmt.Errorf("Value '%s' in the sub parameter field '%s' must by a %s, not '%s'",
					pytext.Str(it), name, pytext.Str(o["type"]), pytext.TypeName(it))
			}
			if err := specNoLogValues(sub, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// takesSubOptions reports whether an option's value holds suboptions: a dict, or a list of them.
func takesSubOptions(o map[string]any) bool {
	return o["type"] == "dict" || (o["type"] == "list" && o["elements"] == "dict")
}

// unsupportedIn records the parameters that are neither options nor aliases of spec.
func (v *specValidation) unsupportedIn(spec, p map[string]any, aliases map[string]string, ctx []string) {
	for _, k := range pytext.StrKeys(p) {
		if _, ok := spec[k]; ok {
			continue
		}
		if _, ok := aliases[k]; ok {
			continue
		}
		path := append(slices.Clone(ctx), k)
		v.unsupported = append(v.unsupported, path)
		supported := pytext.StrKeys(spec)
		slices.Sort(supported)
		list := strings.Join(supported, ", ")
		if len(aliases) > 0 {
			list += " (" + strings.Join(slices.Sorted(maps.Keys(aliases)), ", ") + ")"
		}
		v.supported[strings.Join(path, ".")] = list
	}
}

// specDefaults gives absent options their defaults; without all, only the non-null ones.
func specDefaults(spec, p map[string]any, all bool) {
	for _, name := range pytext.StrKeys(spec) {
		def := optionAttrs(spec, name)["default"]
		if _, ok := p[name]; !ok && (def != nil || all) {
			p[name] = deepCopy(def)
		}
	}
}

// foundIn appends Ansible's context of a suboption's message.
func foundIn(msg string, ctx []string) error {
	if len(ctx) > 0 {
		msg += " found in " + strings.Join(ctx, " -> ")
	}
	return fmt.Errorf("%s", msg)
}

func specRequired(spec, p map[string]any, ctx []string) error {
	var missing []string
	for _, name := range pytext.StrKeys(spec) {
		if _, ok := p[name]; !ok && pytext.Truthy(optionAttrs(spec, name)["required"]) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return foundIn("missing required arguments: "+strings.Join(missing, ", "), ctx)
}

// types converts each given option to its type (and its list's elements to theirs), as
// _validate_argument_types does.
func (v *specValidation) types(spec, p map[string]any, ctx []string) {
	for _, name := range pytext.StrKeys(spec) {
		value, ok := p[name]
		if !ok || value == nil {
			continue
		}
		o := optionAttrs(spec, name)
		wanted := typeName(o["type"])
		converted, err := checkType(wanted, value)
		if err != nil {
			msg := fmt.Sprintf("argument '%s' is of type %s", name, pyType(value))
			if len(ctx) > 0 {
				msg += fmt.Sprintf(" found in '%s'.", strings.Join(ctx, " -> "))
			}
			v.errs = append(v.errs, fmt.Sprintf("%s and we were unable to convert to %s: %v", msg, wanted, err))
			continue
		}
		p[name] = converted
		elements := o["elements"]
		if elements == nil {
			continue
		}
		list, isList := converted.([]any)
		if o["type"] != "list" || !isList {
			msg := fmt.Sprintf("Invalid type %s for option '%s'", wanted, pytext.Str(elements))
			if len(ctx) > 0 {
				msg += fmt.Sprintf(" found in '%s'.", strings.Join(ctx, " -> "))
			}
			v.errs = append(v.errs, msg+", elements value check is supported only with 'list' type")
			list = pyIter(converted)
		}
		p[name] = v.elements(typeName(elements), name, list, ctx)
	}
}

// elements converts a list's items to the type its option's elements name.
func (v *specValidation) elements(wanted, name string, items []any, ctx []string) []any {
	out := []any{}
	for _, it := range items {
		c, err := checkType(wanted, it)
		if err != nil {
			msg := fmt.Sprintf("Elements value for option '%s'", name)
			if len(ctx) > 0 {
				msg += fmt.Sprintf(" found in '%s'", strings.Join(ctx, " -> "))
			}
			v.errs = append(v.errs, fmt.Sprintf("%s is of type %s and we were unable to convert to %s: %v", msg, pyType(it), wanted, err))
			continue
		}
		out = append(out, c)
	}
	return out
}

// pyIter is what Python's for loop goes through in a value that is not a list: a dict's keys,
// a string's characters; nothing for the rest, which Python would refuse to iterate.
func pyIter(v any) []any {
	var out []any
	switch x := v.(type) {
	case map[string]any:
		for _, k := range pytext.Keys(x) {
			out = append(out, k)
		}
	case string:
		for _, r := range x {
			out = append(out, string(r))
		}
	}
	return out
}

// values checks the options that list their choices, as _validate_argument_values does.
func (v *specValidation) values(spec, p map[string]any, ctx []string) {
	for _, name := range pytext.StrKeys(spec) {
		choicesAttr := optionAttrs(spec, name)["choices"]
		if choicesAttr == nil {
			continue
		}
		choices, ok := choicesAttr.([]any)
		if !ok {
			v.add(foundIn(fmt.Sprintf("internal error: choices for argument %s are not iterable: %s", name, pytext.Str(choicesAttr)), ctx))
			continue
		}
		value, given := p[name]
		if !given {
			continue
		}
		var names []string
		for _, c := range choices {
			names = append(names, pytext.Str(c))
		}
		if list, isList := value.([]any); isList {
			var diff []string
			for _, it := range list {
				if !containsEqual(choices, it) {
					diff = append(diff, pytext.Str(it))
				}
			}
			if len(diff) > 0 {
				v.add(foundIn(fmt.Sprintf("value of %s must be one or more of: %s. Got no match for: %s", name, strings.Join(names, ", "), strings.Join(diff, ", ")), ctx))
			}
			continue
		}
		if containsEqual(choices, value) {
			continue
		}
		// YAML may have made a choice such as "no" a bool: take it back when only one fits.
		for _, b := range []struct {
			text  string
			names []any
		}{{"False", booleanNames(booleansFalse, false)}, {"True", booleanNames(booleansTrue, true)}} {
			if value != b.text {
				continue
			}
			var overlap []any
			for _, c := range choices {
				if containsEqual(b.names, c) && !containsEqual(overlap, c) {
					overlap = append(overlap, c)
				}
			}
			if len(overlap) == 1 {
				value = overlap[0]
				p[name] = value
			}
		}
		if !containsEqual(choices, value) {
			v.add(foundIn(fmt.Sprintf("value of %s must be one of: %s, got: %s", name, strings.Join(names, ", "), pytext.Str(value)), ctx))
		}
	}
}

// booleanNames is BOOLEANS_TRUE or BOOLEANS_FALSE: the words, the number and the bool.
func booleanNames(words []string, b bool) []any {
	out := []any{b}
	for _, w := range words {
		out = append(out, w)
	}
	if b {
		return append(out, 1, 1.0)
	}
	return append(out, 0, 0.0)
}

func containsEqual(list []any, v any) bool {
	return slices.ContainsFunc(list, func(c any) bool { return template.Equal(c, v) })
}

// subSpecs validates the suboptions of each dict option (and list of dicts) that has them,
// as _validate_sub_spec does, depth first.
func (v *specValidation) subSpecs(spec, p map[string]any, ctx []string) {
	for _, name := range pytext.StrKeys(spec) {
		o := optionAttrs(spec, name)
		if !takesSubOptions(o) {
			continue
		}
		sub, hasSub := o["options"].(map[string]any)
		if pytext.Truthy(o["apply_defaults"]) {
			if !hasSub {
				continue
			}
			if p[name] == nil {
				p[name] = map[string]any{}
			}
		} else if !hasSub || p[name] == nil {
			continue
		}
		ctx := append(slices.Clone(ctx), name)
		items, isList := p[name].([]any)
		if !isList {
			items = []any{p[name]}
		}
		for _, it := range items {
			sp, ok := it.(map[string]any)
			if !ok {
				v.errs = append(v.errs, fmt.Sprintf("value of '%s' must be of type dict or list of dicts", name))
				continue
			}
			aliases, err := specAliases(sub, sp)
			v.add(err)
			v.add(specNoLogValues(sub, sp))
			v.unsupportedIn(sub, sp, aliases, ctx)
			v.add(checkTerms("mutually_exclusive", o["mutually_exclusive"], sp, ctx))
			specDefaults(sub, sp, false)
			v.add(specRequired(sub, sp, ctx))
			v.types(sub, sp, ctx)
			v.values(sub, sp, ctx)
			for _, check := range []string{"required_together", "required_one_of", "required_if", "required_by"} {
				v.add(checkTerms(check, o[check], sp, ctx))
			}
			specDefaults(sub, sp, true)
			v.subSpecs(sub, sp, ctx)
		}
	}
}

// terms is a list of option names; a single name stands for a list of one.
func terms(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, t := range asList(v) {
		out = append(out, pytext.Str(t))
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// countTerms is how many of names p has.
func countTerms(names []string, p map[string]any) int {
	n := 0
	for _, name := range slices.Compact(slices.Sorted(slices.Values(names))) {
		if _, ok := p[name]; ok {
			n++
		}
	}
	return n
}

// checkTerms is validation's check_mutually_exclusive, check_required_together,
// check_required_one_of, check_required_if or check_required_by on a suboption's parameters.
func checkTerms(check string, rules any, p map[string]any, ctx []string) error {
	if rules == nil {
		return nil
	}
	switch check {
	case "mutually_exclusive":
		var bad []string
		for _, group := range asList(rules) {
			if names := terms(group); countTerms(names, p) > 1 {
				bad = append(bad, strings.Join(names, "|"))
			}
		}
		if len(bad) > 0 {
			return foundIn("parameters are mutually exclusive: "+strings.Join(bad, ", "), ctx)
		}
	case "required_together":
		for _, group := range asList(rules) {
			names := terms(group)
			given := 0
			for _, n := range names {
				given += countTerms([]string{n}, p)
			}
			if given > 0 && given < len(names) {
				return foundIn("parameters are required together: "+strings.Join(names, ", "), ctx)
			}
		}
	case "required_one_of":
		for _, group := range asList(rules) {
			if names := terms(group); countTerms(names, p) == 0 {
				return foundIn("one of the following is required: "+strings.Join(names, ", "), ctx)
			}
		}
	case "required_if":
		for _, rule := range asList(rules) {
			r := asList(rule)
			if len(r) < 3 {
				continue
			}
			key, want, needed := pytext.Str(r[0]), r[1], terms(r[2])
			anyOf := len(r) == 4 && pytext.Truthy(r[3])
			if v, ok := p[key]; !ok || !template.Equal(v, want) {
				continue
			}
			var missing []string
			for _, n := range needed {
				if countTerms([]string{n}, p) == 0 {
					missing = append(missing, n)
				}
			}
			requires, most := "all", 0
			if anyOf {
				requires, most = "any", len(needed)
			}
			if len(missing) > 0 && len(missing) >= most {
				return foundIn(fmt.Sprintf("%s is %s but %s of the following are missing: %s", key, pytext.Str(want), requires, strings.Join(missing, ", ")), ctx)
			}
		}
	case "required_by":
		m, _ := rules.(map[string]any)
		for _, key := range pytext.StrKeys(m) {
			if p[key] == nil {
				continue
			}
			var missing []string
			for _, n := range terms(m[key]) {
				if p[n] == nil {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				return foundIn(fmt.Sprintf("missing parameter(s) required by '%s': %s", key, strings.Join(missing, ", ")), ctx)
			}
		}
	}
	return nil
}

// typeName is an option's type as its messages name it: str when it has none.
func typeName(t any) string {
	if t == nil {
		return "str"
	}
	return pytext.Str(t)
}

// checkType is validation's check_type_<wanted>.
func checkType(wanted string, v any) (any, error) {
	_, isBool := v.(bool)
	switch wanted {
	case "str":
		if s, ok := v.(string); ok {
			return s, nil
		}
		return pytext.Str(v), nil
	case "list":
		switch x := v.(type) {
		case []any:
			return x, nil
		case string:
			var out []any
			for _, s := range strings.Split(x, ",") {
				out = append(out, s)
			}
			return out, nil
		}
		if _, ok := pytext.Number(v); ok {
			return []any{pytext.Str(v)}, nil
		}
		return nil, fmt.Errorf("%s cannot be converted to a list", pyType(v))
	case "dict":
		switch x := v.(type) {
		case map[string]any:
			return x, nil
		case string:
			return checkTypeDict(x)
		}
		return nil, fmt.Errorf("%s cannot be converted to a dict", pyType(v))
	case "bool":
		if _, ok := v.(string); ok || isBool {
			return boolean(v)
		}
		if _, ok := pytext.Number(v); ok {
			return boolean(v)
		}
		return nil, fmt.Errorf("%s cannot be converted to a bool", pyType(v))
	case "int":
		switch x := v.(type) {
		case bool, int, int64:
			return x, nil
		case string:
			if n, err := pyInt(x); err == nil {
				return n, nil
			}
		}
		return nil, fmt.Errorf("%s cannot be converted to an int", pyType(v))
	case "float":
		switch x := v.(type) {
		case float64:
			return x, nil
		case string:
			if f, err := strconv.ParseFloat(strings.ReplaceAll(pytext.Strip(x), "_", ""), 64); err == nil {
				return f, nil
			}
		case bool, int, int64:
			f, _ := pytext.Number(x)
			return f, nil
		}
		return nil, fmt.Errorf("%s cannot be converted to a float", pyType(v))
	case "path":
		s, _ := checkType("str", v)
		return pypath.ExpandUser(pypath.ExpandVars(s.(string))), nil
	case "raw":
		return v, nil
	case "json", "jsonarg":
		switch x := v.(type) {
		case string:
			return pytext.Strip(x), nil
		case []any, map[string]any:
			return pytext.DumpJSON(x, pytext.JSONOptions{InsertionOrder: true, EnsureASCII: true})
		}
		return nil, fmt.Errorf("%s cannot be converted to a json string", pyType(v))
	case "bytes", "bits":
		n, err := template.HumanToBytes(pytext.Str(v), "", wanted == "bits")
		if err != nil {
			unit := map[string]string{"bytes": "Byte", "bits": "Bit"}[wanted]
			return nil, fmt.Errorf("%s cannot be converted to a %s value", pyType(v), unit)
		}
		return n, nil
	}
	// Ansible calls the validator it has for the name, None for an unknown one.
	return nil, fmt.Errorf("'NoneType' object is not callable")
}

// pyInt is Python's int() of text: surrounding space, a sign, and underscores between digits.
var pyIntText = regexp.MustCompile(`^[+-]?[0-9](_?[0-9])*$`)

func pyInt(s string) (int, error) {
	s = pytext.Strip(s)
	if !pyIntText.MatchString(s) {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", pytext.Repr(s))
	}
	return strconv.Atoi(strings.ReplaceAll(s, "_", ""))
}

// checkTypeDict is check_type_dict of text: JSON or a Python literal when it starts with {,
// else key=value pairs separated by commas or spaces, with quotes and backslash escapes.
func checkTypeDict(s string) (any, error) {
	if strings.HasPrefix(s, "{") {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err == nil {
			return v, nil
		}
		if v, ok := template.LiteralEval(s); ok {
			return v, nil
		}
		return nil, fmt.Errorf("unable to evaluate string as dictionary")
	}
	if !strings.Contains(s, "=") {
		return nil, fmt.Errorf("dictionary requested, could not parse JSON or key=value")
	}
	var fields []string
	var field strings.Builder
	var quote rune
	escaped := false
	flush := func() {
		if field.Len() > 0 {
			fields = append(fields, field.String())
		}
		field.Reset()
	}
	for _, c := range pytext.Strip(s) {
		switch {
		case escaped:
			field.WriteRune(c)
			escaped = false
		case c == '\\':
			escaped = true
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == ',' || c == ' '):
			flush()
		default:
			field.WriteRune(c)
		}
	}
	flush()
	out := map[string]any{}
	keys := make([]any, 0, len(fields))
	for i, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("dictionary update sequence element #%d has length 1; 2 is required", i)
		}
		out[k] = v
		keys = append(keys, k)
	}
	pytext.SetKeys(out, keys)
	return out, nil
}

// deepCopy copies lists and dicts at every depth, keeping the dicts' key order.
func deepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		pytext.CopyKeys(out, x)
		return out
	}
	return v
}

// runValidateArgumentSpec is Ansible's validate_argument_spec action: the variables named by
// the spec's options (templated), overridden by provided_arguments, checked against the spec.
func runValidateArgumentSpec(_ context.Context, t *Task, args map[string]any) (Result, error) {
	// The context comes first, on every result: the action may check anything's arguments.
	vctx, _ := args["validate_args_context"].(map[string]any)
	if vctx == nil {
		vctx = map[string]any{}
	}
	specArg, ok := args["argument_spec"]
	if !ok {
		return nil, ansibleErr(`"argument_spec" arg is required in args: %s`, pytext.Repr(args))
	}
	spec, ok := specArg.(map[string]any)
	if !ok {
		return nil, ansibleErr("Incorrect type for argument_spec, expected dict and got %s", pyType(specArg))
	}
	provided := map[string]any{}
	if a, ok := args["provided_arguments"]; ok {
		if provided, ok = a.(map[string]any); !ok {
			return nil, ansibleErr("Incorrect type for provided_arguments, expected dict and got %s", pyType(a))
		}
	}
	params := map[string]any{}
	var keys []any
	for _, name := range pytext.StrKeys(spec) {
		v, ok := t.Vars[name]
		if !ok {
			continue
		}
		if pytext.IsIdentifier(name) && t.Eval != nil { // templated, as Ansible's get_args_from_task_vars
			var err error
			if v, err = t.Eval(name); err != nil {
				return nil, err
			}
		}
		params[name] = v
		keys = append(keys, name)
	}
	for _, name := range pytext.StrKeys(provided) {
		if _, ok := params[name]; !ok {
			keys = append(keys, name)
		}
		params[name] = provided[name]
	}
	pytext.SetKeys(params, keys)
	if errs := validateArgSpec(spec, params); len(errs) > 0 {
		list := make([]any, len(errs))
		for i, e := range errs {
			list[i] = e
		}
		return Result{"failed": true, "msg": "Validation of arguments failed:\n" + strings.Join(errs, "\n"),
			"argument_spec_data": spec, "argument_errors": list, "validate_args_context": vctx}, nil
	}
	return Result{"changed": false, "msg": "The arg spec validation passed", "validate_args_context": vctx}, nil
}

func init() {
	register("validate_argument_spec", Spec{Run: runValidateArgumentSpec, Controller: true})
}
