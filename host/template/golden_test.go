package template

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// goldenCases are testdata/cases.yaml with the results ansible-core 2.14
// gave for them (testdata/golden.json, written by testdata/gen_golden.py).
type goldenCases struct {
	Vars   map[string]any
	Render []string
	Cond   []string
	Files  map[string]string
}

type goldenResult struct {
	Value any     `json:"value"`
	Error *string `json:"error"`
}

type golden struct {
	Render []goldenResult
	Cond   []goldenResult
	Files  map[string]goldenResult
}

func loadGolden(t *testing.T) (goldenCases, golden) {
	t.Helper()
	var cases goldenCases
	raw, err := os.ReadFile("testdata/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	var want golden
	raw, err = os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	if len(want.Render) != len(cases.Render) || len(want.Cond) != len(cases.Cond) || len(want.Files) != len(cases.Files) {
		t.Fatal("golden.json is stale: run testdata/gen_golden.py")
	}
	return cases, want
}

// sameAsGolden compares a result with Ansible's JSON one, telling ints from
// floats by the JSON text.
func sameAsGolden(got, want any) bool {
	switch w := want.(type) {
	case json.Number:
		if strings.ContainsAny(w.String(), ".eE") {
			f, _ := w.Float64()
			g, ok := got.(float64)
			return ok && g == f
		}
		i, _ := w.Int64()
		g, ok := got.(int)
		return ok && int64(g) == i
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameAsGolden(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			if !sameAsGolden(g[k], wv) {
				return false
			}
		}
		return true
	}
	return got == want
}

// checkGolden compares one outcome; an undefined error must carry the
// message Ansible reported.
func checkGolden(t *testing.T, what string, got any, err error, want goldenResult) {
	t.Helper()
	if want.Error != nil {
		if err == nil {
			t.Errorf("%s = %#v, want an error like Ansible's: %s", what, got, *want.Error)
			return
		}
		if u, ok := asUndefinedError(err); ok && !strings.Contains(*want.Error, u.Msg) {
			t.Errorf("%s: undefined error %q, Ansible said: %s", what, u.Msg, *want.Error)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: unexpected error: %v (Ansible gave %#v)", what, err, want.Value)
		return
	}
	if !sameAsGolden(got, want.Value) {
		t.Errorf("%s = %#v, Ansible gave %#v", what, got, want.Value)
	}
}

// deliberateDeviations are render cases where tally differs from Ansible
// on purpose; unit tests pin what tally does instead.
var deliberateDeviations = map[string]string{
	"{{ lazy_bad }}": "a variable whose value does not parse is used as text, since tally cannot tell unsafe command output from templates",
}

func TestRenderMatchesAnsible(t *testing.T) {
	cases, want := loadGolden(t)
	e := New()
	for i, src := range cases.Render {
		if _, ok := deliberateDeviations[src]; ok {
			continue
		}
		got, err := e.Render(src, cases.Vars)
		checkGolden(t, "Render("+src+")", got, err, want.Render[i])
	}
}

func TestCondMatchesAnsible(t *testing.T) {
	cases, want := loadGolden(t)
	e := New()
	for i, c := range cases.Cond {
		got, err := e.Cond([]string{c}, cases.Vars)
		checkGolden(t, "Cond("+c+")", got, err, want.Cond[i])
	}
}

func TestRenderFileMatchesAnsibleTemplateModule(t *testing.T) {
	cases, want := loadGolden(t)
	e := New()
	for name, src := range cases.Files {
		got, err := e.RenderFile(src, cases.Vars, FileOptions{})
		checkGolden(t, "RenderFile("+name+")", got, err, want.Files[name])
	}
}
