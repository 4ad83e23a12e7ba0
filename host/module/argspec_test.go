package module

import (
	"slices"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/template"
	"gopkg.in/yaml.v3"
)

// specOf decodes an argument spec or parameters written in YAML.
func specOf(t *testing.T, text string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestValidateArgSpecAsAnsible pins ArgumentSpecValidator's messages and their order, each
// case checked against ansible-core 2.14's validate_argument_spec (type names are Python's
// builtins where Ansible may name its YAML classes). The specs here are decoded without their
// key order: their options are checked in name order.
func TestValidateArgSpecAsAnsible(t *testing.T) {
	const users = `
users:
  type: list
  elements: dict
  options:
    name: {type: str, required: true}
    shell: {type: str, default: /bin/sh}
`
	tests := []struct {
		name, spec, params string
		want               []string
	}{
		{"text that converts passes", "port: {type: int}\nsize: {type: bytes}\non: {type: bool}\nl: {type: list, elements: int}",
			"{port: '80', size: 1K, on: 'yes', l: '1,2'}", nil},
		{"required and a bad bool", "a: {type: bool, required: true}\nb: {type: int, required: true}\nc: {required: true}", "{a: 7}",
			[]string{"missing required arguments: b, c",
				"argument 'a' is of type <class 'int'> and we were unable to convert to bool: The value '7' is not a valid boolean.  Valid booleans include: " + validBooleans}},
		{"a float is not an int, text is not a float", "i: {type: int}\nj: {type: float}", "{i: 37.0, j: nope}",
			[]string{"argument 'i' is of type <class 'float'> and we were unable to convert to int: <class 'float'> cannot be converted to an int",
				"argument 'j' is of type <class 'str'> and we were unable to convert to float: <class 'str'> cannot be converted to a float"}},
		{"choices, one or a list", "m: {choices: [fast, slow]}\nn: {type: list, choices: [a, b]}", "{m: medium, n: [a, c, d]}",
			[]string{"value of m must be one of: fast, slow, got: medium", "value of n must be one or more of: a, b. Got no match for: c, d"}},
		{"a bool's text maps back onto the one choice it can be", "s: {choices: ['no', 'yes']}", "{s: 'False'}", nil},
		{"suboptions: elements, required, unsupported, no_log's dict check first", users, "{users: [{shell: /bin/bash}, {name: u, shell: [1], x: 1}, just text]}",
			[]string{"dictionary requested, could not parse JSON or key=value",
				"Elements value for option 'users' is of type <class 'str'> and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value",
				"missing required arguments: name found in users",
				"users.x. Supported parameters include: name, shell."}},
		{"nested suboptions name their path", "o: {type: dict, options: {s: {type: dict, options: {t: {type: int, required: true}}}}}",
			"{o: {s: {bad: true}}}",
			[]string{"missing required arguments: t found in o -> s", "o.s.bad. Supported parameters include: t."}},
		{"a suboption's type error names its parent", "o: {type: dict, options: {b: {type: bool}}}", "{o: {b: not-a-bool}}",
			[]string{"argument 'b' is of type <class 'str'> found in 'o'. and we were unable to convert to bool: The value 'not-a-bool' is not a valid boolean.  Valid booleans include: " + validBooleans}},
		{"text for suboptions", "o: {type: dict, options: {k: {type: str}}}", "{o: not-a-dict}",
			[]string{"dictionary requested, could not parse JSON or key=value",
				"argument 'o' is of type <class 'str'> and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value",
				"value of 'o' must be of type dict or list of dicts"}},
		{"key=value and JSON text are dicts", "a: {type: dict}\nb: {type: dict}\nc: {type: dict}", `{a: "x=1 y='two words'", b: '{"k": [1]}', c: "x=1 y"}`,
			[]string{"argument 'c' is of type <class 'str'> and we were unable to convert to dict: dictionary update sequence element #1 has length 1; 2 is required"}},
		{"suboption rules", "t: {type: dict, options: {cert: {}, key: {}, a: {}, b: {}}, required_together: [[cert, key]], mutually_exclusive: [[a, b]]}",
			"{t: {cert: /c, a: 1, b: 2}}",
			[]string{"parameters are mutually exclusive: a|b found in t", "parameters are required together: cert, key found in t"}},
		{"required_if and required_by", "t: {type: dict, options: {state: {}, path: {}, src: {}}, required_if: [[state, present, [path]]], required_by: {src: path}}",
			"{t: {state: present, src: x}}",
			[]string{"state is present but all of the following are missing: path found in t", "missing parameter(s) required by 'src': path found in t"}},
		{"aliases count, and are listed as supported", "name: {aliases: [n]}", "{n: x, other: 1}",
			[]string{"other. Supported parameters include: name (n)."}},
		{"an unknown type, as Ansible calls None", "s: {type: string}", "{s: x}",
			[]string{"argument 's' is of type <class 'str'> and we were unable to convert to string: 'NoneType' object is not callable"}},
		{"required with a default is an internal error", "a: {required: true, default: 1}", "{}",
			[]string{"internal error: required and default are mutually exclusive for a"}},
		{"elements on a non-list", "d: {type: dict, elements: str}", "{d: {k: v}}",
			[]string{"Invalid type dict for option 'str', elements value check is supported only with 'list' type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := specOf(t, "p: "+tt.params)["p"].(map[string]any)
			got := validateArgSpec(specOf(t, tt.spec), params)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestValidateArgumentSpecModule pins the action: the variables the spec names, templated,
// under provided_arguments; the failed result Ansible's role tests read; the context on both.
func TestValidateArgumentSpecModule(t *testing.T) {
	task := newTask(t)
	task.Conn = noConn{}
	task.Vars["port"] = "{{ base + 1 }}"
	task.Vars["base"] = 79
	task.Vars["mode"] = "fast"
	task.Eval = func(expr string) (any, error) { return template.New().Eval(expr, task.Vars) }
	spec := specOf(t, "port: {type: int, required: true}\nmode: {choices: [fast, slow]}")
	ctx := map[string]any{"type": "role", "name": "r"}
	r := run(t, task, "validate_argument_spec", map[string]any{"argument_spec": spec, "validate_args_context": ctx})
	check(t, r, map[string]any{"changed": false, "msg": "The arg spec validation passed", "validate_args_context": ctx})

	r = run(t, task, "validate_argument_spec", map[string]any{"argument_spec": spec, "provided_arguments": map[string]any{"mode": "medium"}})
	check(t, r, map[string]any{"failed": true, "msg": "Validation of arguments failed:\nvalue of mode must be one of: fast, slow, got: medium",
		"argument_errors": []any{"value of mode must be one of: fast, slow, got: medium"}, "validate_args_context": map[string]any{}})

	if _, err := runErr(task, "validate_argument_spec", map[string]any{"argument_spec": []any{}}); err == nil ||
		err.Error() != "Incorrect type for argument_spec, expected dict and got <class 'list'>" {
		t.Errorf("a list for argument_spec: %v", err)
	}
}
