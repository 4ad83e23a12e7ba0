package playbook

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// parseValue converts the YAML text src to Go values as the loader does.
func parseValue(t *testing.T, src string) (any, error) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		t.Fatalf("yaml %q: %v", src, err)
	}
	d := &doc{file: "test.yml", ld: &loader{}}
	return d.value(root.Content[0], 0)
}

// TestPlainScalarsMatchPyYAML replays how PyYAML (YAML 1.1, as Ansible uses it) types plain
// scalars (testdata/gen_scalars.py).
func TestPlainScalarsMatchPyYAML(t *testing.T) {
	data, err := os.ReadFile("testdata/scalars.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		In    string `json:"in"`
		Type  string `json:"type"`
		Value any    `json:"value"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		v, err := parseValue(t, "v: "+c.In)
		if err != nil {
			t.Fatal(err)
		}
		got := v.(map[string]any)["v"]
		var want any
		switch c.Type {
		case "bool", "str", "timestamp":
			want = c.Value
		case "int":
			want, _ = strconv.Atoi(c.Value.(string))
		case "float":
			if s, ok := c.Value.(string); ok {
				want, _ = strconv.ParseFloat(s, 64)
			} else {
				want = c.Value
			}
		}
		if f, ok := got.(float64); ok && math.IsNaN(f) && c.Value == "nan" {
			continue
		}
		if got != want {
			t.Errorf("%q: got %#v, want %s %#v", c.In, got, c.Type, want)
		}
	}
}

func TestValueConversion(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // JSON of the value
	}{
		{"quoted stays string", `["yes", 'no', "0644", !!str 12]`, `["yes","no","0644","12"]`},
		{"explicit tags", `[!!int "12", !!float "1", !!bool "yes", !!null "", !!binary aGk=]`, `[12,1,true,null,"hi"]`},
		{"merge key, own keys win", "base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3", `{"base":{"a":1,"b":2},"m":{"a":1,"b":3}}`},
		{"merge list, earlier wins", "x: &x {a: 1}\ny: &y {a: 2, c: 3}\nm: {<<: [*x, *y]}", `{"m":{"a":1,"c":3},"x":{"a":1},"y":{"a":2,"c":3}}`},
		{"duplicate key, last wins", "a: 1\na: 2", `{"a":2}`},
		{"non-string keys as Python str", "1: a\nyes: b\n~: c", `{"1":"a","None":"c","True":"b"}`},
		{"block scalar", "a: |\n  x\n  y\n", `{"a":"x\ny\n"}`},
		{"vault stays encrypted", "a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n", `{"a":{"__ansible_vault":"$ANSIBLE_VAULT;1.1;AES256\n6162\n"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseValue(t, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestValueConversionErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown tag", "a: !foo x", "test.yml:1: unknown YAML tag !foo"},
		{"bad int", "a: !!int x", `test.yml:1: cannot read "x" as !!int`},
		{"list key", "? [a]\n: b", "test.yml:1: a mapping key must be a scalar, got a list"},
		{"bad merge", "a: {<<: 1}", "test.yml:1: a merge key (<<) must refer to a mapping or a list of mappings"},
		{"self reference", "a: &a [*a]", "YAML nested more than 256 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseValue(t, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
