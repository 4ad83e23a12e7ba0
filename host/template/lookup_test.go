package template

import (
	"errors"
	"fmt"
	"testing"
)

// fakeLookups returns its terms as the plugin's list ("fail" fails, "none" goes on as
// errors=ignore does), recording the options it was given.
type fakeLookups struct{ opts map[string]any }

func (f *fakeLookups) Lookup(name string, terms []any, opts, _ map[string]any) ([]any, error) {
	f.opts = opts
	switch name {
	case "fail":
		return nil, errors.New("plugin failed")
	case "none":
		return nil, nil
	}
	return terms, nil
}

// TestLookupResultShapes pins Templar._lookup: without wantlist a list of strings is joined
// with commas, one non-string gives itself, several stay a list; query() and wantlist give
// the list; the terms are templated first.
func TestLookupResultShapes(t *testing.T) {
	e := New()
	f := &fakeLookups{}
	e.SetLookups(f)
	vars := map[string]any{"x": "ex", "n": 3}
	tests := []struct{ src, want string }{
		{"{{ lookup('l', 'a', 'b') }}", "a,b"},
		{"{{ lookup('l', 'a') }}", "a"},
		{"{{ lookup('l', 1) | type_debug }}", "int"},
		{"{{ lookup('l', 1, 2) }}", "[1, 2]"},
		{"{{ lookup('l', 'a', 2) }}", "['a', 2]"},
		{"{{ lookup('l') }}", "[]"},
		{"{{ lookup('l', 'a', wantlist=True) }}", "['a']"},
		{"{{ query('l', 'a') }}", "['a']"},
		{"{{ q('l', 'a', 'b') }}", "['a', 'b']"},
		{"{{ lookup('l', '{{ x }}') }}", "ex"},
		{"{{ lookup('none', 'a') is none }}", "True"},
		{"{{ query('none', 'a') }}", "[]"},
	}
	for _, tt := range tests {
		got, err := e.Render(tt.src, vars)
		if err != nil {
			t.Errorf("Render(%q): %v", tt.src, err)
			continue
		}
		if s := fmt.Sprint(pyStrLenient(got)); s != tt.want {
			t.Errorf("Render(%q) = %s, want %s", tt.src, s, tt.want)
		}
	}
	if _, err := e.Render("{{ lookup('l', 'a', errors='ignore', wantlist=True) }}", vars); err != nil {
		t.Fatal(err)
	}
	if _, has := f.opts["wantlist"]; has || f.opts["errors"] != "ignore" {
		t.Errorf("options given to the plugin: %v, want errors and not wantlist", f.opts)
	}
	if _, err := e.Render("{{ lookup('fail', 'a') }}", vars); err == nil {
		t.Error("a failing plugin did not fail the template")
	}
}

type fakeSecret string

func (s fakeSecret) Reveal() (string, error) { return string(s), nil }

// TestSecretsRevealOnUse pins !vault values: decrypted when read, never templated, and
// "is vault_encrypted" on the variable itself.
func TestSecretsRevealOnUse(t *testing.T) {
	vars := map[string]any{"s": fakeSecret("{{ not templated }}"), "plain": "x"}
	for src, want := range map[string]string{
		"{{ s }}":                           "{{ not templated }}",
		"{{ s | length }}":                  "19",
		"{{ s is vault_encrypted }}":        "True",
		"{{ plain is vault_encrypted }}":    "False",
		"{{ (s ~ '') is vault_encrypted }}": "False",
	} {
		got, err := New().Render(src, vars)
		if err != nil || pyStrLenient(got) != want {
			t.Errorf("Render(%q) = %v, %v; want %s", src, got, err, want)
		}
	}
}
