package template

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestRenderLeavesNonTemplatesAlone(t *testing.T) {
	e := New()
	list := []any{"a", 1}
	for _, v := range []any{"plain {text}", 3, 1.5, true, nil, list, map[string]any{"k": "v"}} {
		got, err := e.Render(v, nil)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("Render(%#v) = %#v, %v", v, got, err)
		}
	}
	if got, _ := e.Render(list, nil); &got.([]any)[0] != &list[0] {
		t.Error("an unchanged list was copied")
	}
}

func TestRenderRecursesIntoContainersButNotKeys(t *testing.T) {
	e := New()
	in := map[string]any{"{{ k }}": []any{"{{ n }}", map[string]any{"x": "a{{ n }}"}}, "plain": "p"}
	got, err := e.Render(in, map[string]any{"n": 2})
	want := map[string]any{"{{ k }}": []any{2, map[string]any{"x": "a2"}}, "plain": "p"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Render = %#v, %v; want %#v", got, err, want)
	}
	if in["{{ k }}"].([]any)[0] != "{{ n }}" {
		t.Error("Render modified its input")
	}
}

func TestRenderNormalizesGoTypes(t *testing.T) {
	e := New()
	vars := map[string]any{
		"i64":   int64(7),
		"strs":  []string{"b", "a"},
		"m":     map[string]string{"k": "v"},
		"u8":    uint8(3),
		"f32":   float32(0.5),
		"ifmap": map[any]any{"x": 1},
	}
	for src, want := range map[string]any{
		"{{ i64 + 1 }}":            "8",
		"{{ strs | sort }}":        []any{"a", "b"},
		"{{ m.k }}":                "v",
		"{{ u8 * 2 }}":             "6",
		"{{ f32 }}":                0.5,
		"{{ ifmap.x is integer }}": true,
	} {
		got, err := e.Render(src, vars)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Render(%q) = %#v, %v; want %#v", src, got, err, want)
		}
	}
}

func TestEvalReturnsNativeValues(t *testing.T) {
	e := New()
	vars := map[string]any{"r": map[string]any{"rc": 0, "stdout": "x"}, "n": 3, "lazy": "{{ n * 2 }}"}
	for expr, want := range map[string]any{
		"r.rc":                    0,
		"r.rc == 0":               true,
		"n + 1":                   4,
		"[n, 'a']":                []any{3, "a"},
		"r | dict2items | length": 2,
		"missing | default(1.5)":  1.5,
		"lazy":                    "6",
		"'a' if n > 1 else 'b'":   "a",
		"none":                    nil,
	} {
		got, err := e.Eval(expr, vars)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Eval(%q) = %#v, %v; want %#v", expr, got, err, want)
		}
	}
}

// TestIntegerPowerIsExactOrAnError pins ** on integers: exact within 64 bits, an error past
// them, and quick for any exponent (the fuzzer's 10**(10**56) once looped for good).
func TestIntegerPowerIsExactOrAnError(t *testing.T) {
	e := New()
	for expr, want := range map[string]any{"2 ** 10": 1024, "(-3) ** 3": -27, "2 ** 62": 1 << 62, "1 ** 1000000000000": 1,
		"(-1) ** 1000000000001": -1, "0 ** 0": 1, "2 ** -1": 0.5} {
		if got, err := e.Eval(expr, nil); err != nil || got != want {
			t.Errorf("Eval(%q) = %#v, %v; want %#v", expr, got, err, want)
		}
	}
	for _, expr := range []string{"2 ** 63", "10 ** 100000000000000000", "(-2) ** 64"} {
		if got, err := e.Eval(expr, nil); err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("Eval(%q) = %#v, %v; want a too-large error", expr, got, err)
		}
	}
}

func TestEvalKeepsBackslashesInLiterals(t *testing.T) {
	got, err := New().Eval(`'a1b' | regex_replace('\d', '-')`, nil)
	if err != nil || got != "a-b" {
		t.Errorf("got %#v, %v", got, err)
	}
}

func TestUndefinedErrors(t *testing.T) {
	e := New()
	vars := map[string]any{"d": map[string]any{"a": 1}, "l": []any{1}}
	for _, c := range []struct{ expr, msg string }{
		{"foo", "'foo' is undefined"},
		{"foo.bar.baz", "'foo' is undefined"},
		{"d.bar", "'dict object' has no attribute 'bar'"},
		{"d['bar']", "'dict object' has no attribute 'bar'"},
		{"l[5]", "list object has no element 5"},
		{"[foo]", "'foo' is undefined"},
		{"foo | upper", "'foo' is undefined"},
		{"foo == 1", "'foo' is undefined"},
	} {
		_, err := e.Eval(c.expr, vars)
		var u *UndefinedError
		if !errors.As(err, &u) || err.Error() != c.msg {
			t.Errorf("Eval(%q) error = %v, want *UndefinedError %q", c.expr, err, c.msg)
		}
	}
}

func TestSyntaxErrorNamesTheTemplate(t *testing.T) {
	_, err := New().Render("x {{ 1 + }}", nil)
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "String: x {{ 1 + }}") {
		t.Errorf("error = %v", err)
	}
	for _, src := range []string{"{{ 'unterminated }}", "{% if x %}no end", "{% include 'x' %}", "{{ x | nofilter }}"} {
		if _, err := New().RenderString(src, map[string]any{"x": 1}); err == nil || !strings.Contains(err.Error(), src) {
			t.Errorf("RenderString(%q) error = %v, want one naming the template", src, err)
		}
	}
}

// TestUnknownFilterOrTestFailsAsAnsiblesPluginLoader pins Ansible's messages for a filter or
// test that does not exist: written in the template it is a syntax error; named by select and
// the like it is a LoadError while the template runs, its name checked as a plugin name.
func TestUnknownFilterOrTestFailsAsAnsiblesPluginLoader(t *testing.T) {
	for _, c := range []struct{ src, msg string }{
		{"{{ 1 | asdf }}", `template error while templating string: Could not load "asdf": 'asdf'. String: {{ 1 | asdf }}. Could not load "asdf": 'asdf'`},
		{"{{ 1 is asdf }}", `template error while templating string: Could not load "asdf": 'asdf'. String: {{ 1 is asdf }}. Could not load "asdf": 'asdf'`},
	} {
		_, err := New().RenderString(c.src, nil)
		var se *SyntaxError
		if !errors.As(err, &se) || err.Error() != c.msg {
			t.Errorf("RenderString(%q) error = %v, want SyntaxError %q", c.src, err, c.msg)
		}
	}
	for _, c := range []struct{ src, msg string }{
		{`{{ [1] | select('asdf') | list }}`, `Could not load "asdf": 'asdf'`},
		{`{{ [{"a": 1}] | selectattr("a", "asdf ", 1) | list }}`, `Could not load "asdf ": 'invalid plugin name: ansible.builtin.asdf '`},
		{`{{ [1] | map('nofilter') | list }}`, `Could not load "nofilter": 'nofilter'`},
	} {
		_, err := New().RenderString(c.src, nil)
		var le *LoadError
		if !errors.As(err, &le) || le.Error() != c.msg {
			t.Errorf("RenderString(%q) error = %v, want LoadError %q", c.src, err, c.msg)
		}
	}
}

func TestLazyVariables(t *testing.T) {
	e := New()
	vars := map[string]any{
		"a":         "{{ b }}-a",
		"b":         "{{ c | upper }}",
		"c":         "c",
		"list":      []any{"{{ c }}", "{{ n }}"},
		"n":         1,
		"self":      "{{ self }}",
		"ping":      "{{ pong }}",
		"pong":      "{{ ping }}",
		"broken":    "output with {{ braces",
		"undefined": "{{ nope }}",
		"unsafe":    Unsafe(map[string]any{"stdout": "{{ nope }}", "n": int64(2)}),
		"result":    map[string]any{"rc": 0, "stdout": "{{ nope }}"},
	}
	for src, want := range map[string]any{
		"{{ a }}":                        "C-a",
		"{{ list }}":                     []any{"c", 1},
		"{{ broken }}":                   "output with {{ braces",
		"{{ undefined is defined }}":     false,
		"{{ undefined | default('d') }}": "d",
		"{{ unsafe.stdout }}":            "{{ nope }}",
		"{{ unsafe.n + 1 }}":             "3",
	} {
		got, err := e.Render(src, vars)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Render(%q) = %#v, %v; want %#v", src, got, err, want)
		}
	}
	for src, want := range map[string]string{
		"{{ self }}":                  "variable 'self' refers to itself (self -> self)",
		"{{ ping }}":                  "variable 'ping' refers to itself (ping -> pong -> ping)",
		"{{ undefined }}":             "{{ nope }}: 'nope' is undefined",
		"{{ lookup('env', 'HOME') }}": "lookup plugin (env) not found",
	} {
		if _, err := e.Render(src, vars); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Render(%q) error = %v, want it to contain %q", src, err, want)
		}
	}
}

func TestLazyVariablesNestTooDeeply(t *testing.T) {
	vars := map[string]any{}
	for i := range maxDepth + 2 {
		vars[fmt.Sprintf("v%d", i)] = fmt.Sprintf("{{ v%d }}", i+1)
	}
	_, err := New().Render("{{ v0 }}", vars)
	if err == nil || !strings.Contains(err.Error(), "nesting deeper than") {
		t.Errorf("error = %v", err)
	}
}

func TestRenderStringIsAlwaysAString(t *testing.T) {
	e := New()
	for src, want := range map[string]string{
		"{{ l }}":                        "[1, 'a']",
		"{{ n }}":                        "1",
		"{{ t }}":                        "True",
		"{{ z }}|":                       "|",
		"no template\n":                  "no template\n",
		"{{ 'a\\nb' }}":                  "a\nb",
		"{% if t %}\nyes\n{% endif %}\n": "yes\n",
	} {
		got, err := e.RenderString(src, map[string]any{"l": []any{1, "a"}, "n": 1, "t": true, "z": nil})
		if err != nil || got != want {
			t.Errorf("RenderString(%q) = %q, %v; want %q", src, got, err, want)
		}
	}
}

func TestCond(t *testing.T) {
	e := New()
	vars := map[string]any{"n": 3, "r": map[string]any{"rc": 1, "failed": true}, "flag": "{{ n > 1 }}"}
	for _, c := range []struct {
		conds []string
		want  bool
	}{
		{nil, true},
		{[]string{""}, true},
		{[]string{"yes"}, true},
		{[]string{"OFF"}, false},
		{[]string{"True"}, true},
		{[]string{"n > 1", "n < 5"}, true},
		{[]string{"n > 1", "n > 5"}, false},
		{[]string{"n > 5", "undefined_var"}, false},
		{[]string{"r is failed"}, true},
		{[]string{"r.rc != 0 and r is not success"}, true},
		{[]string{"{{ n }} == 3"}, true},
		{[]string{"{{ n > 1 }}"}, true},
		{[]string{"flag"}, true},
		{[]string{"x is undefined"}, true},
		{[]string{"n is divisibleby(3)"}, true},
		{[]string{"'ab' is match('A', ignorecase=true)"}, true},
	} {
		got, err := e.Cond(c.conds, vars)
		if err != nil || got != c.want {
			t.Errorf("Cond(%q) = %v, %v; want %v", c.conds, got, err, c.want)
		}
	}
	_, err := e.Cond([]string{"missing.attr"}, vars)
	var u *UndefinedError
	if !errors.As(err, &u) || err.Error() != "error while evaluating conditional (missing.attr): 'missing' is undefined" {
		t.Errorf("Cond error = %v", err)
	}
}

func TestIsTemplate(t *testing.T) {
	for s, want := range map[string]bool{
		"{{ x }}": true, "{% if %}": true, "a {# c #}": true, "{x}": false, "{ {": false, "": false, "{": false, "x{": false, "{{": true,
	} {
		if IsTemplate(s) != want {
			t.Errorf("IsTemplate(%q) = %v", s, !want)
		}
	}
}

func TestTruthy(t *testing.T) {
	for _, c := range []struct {
		v    any
		want bool
	}{
		{nil, false}, {false, false}, {0, false}, {0.0, false}, {"", false}, {[]any{}, false}, {map[string]any{}, false},
		{[]string{}, false}, {int64(0), false}, {true, true}, {-1, true}, {"0", true}, {[]any{nil}, true}, {map[string]int{"a": 0}, true},
	} {
		if Truthy(c.v) != c.want {
			t.Errorf("Truthy(%#v) = %v", c.v, !c.want)
		}
	}
}

func TestBool(t *testing.T) {
	for _, v := range []any{true, "yes", "Y", " on ", "1", "TRUE", "t", 1, 1.0} {
		if b, err := Bool(v); err != nil || !b {
			t.Errorf("Bool(%#v) = %v, %v; want true", v, b, err)
		}
	}
	for _, v := range []any{false, "no", "N", "off", "0", "False", "f", 0, 0.0} {
		if b, err := Bool(v); err != nil || b {
			t.Errorf("Bool(%#v) = %v, %v; want false", v, b, err)
		}
	}
	for _, v := range []any{"maybe", 2, nil, "", []any{}} {
		if _, err := Bool(v); err == nil {
			t.Errorf("Bool(%#v) succeeded, want an error", v)
		}
	}
}

func TestParallelRenders(t *testing.T) {
	e := New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vars := map[string]any{"g": g, "lazy": "{{ g * 10 }}", "items": []any{1, 2, 3}}
			for i := range 200 {
				src := fmt.Sprintf("{{ lazy }}-{{ items | map('string') | join(',') }}-%d", i%20)
				got, err := e.Render(src, vars)
				if want := fmt.Sprintf("%d-1,2,3-%d", g*10, i%20); err != nil || got != want {
					t.Errorf("Render = %#v, %v; want %q", got, err, want)
					return
				}
				if ok, err := e.Cond([]string{"g >= 0", "lazy | int == g * 10"}, vars); err != nil || !ok {
					t.Errorf("Cond = %v, %v", ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCacheStaysBounded(t *testing.T) {
	e := New()
	for i := range cacheEntries + 10 {
		if _, err := e.Render(fmt.Sprintf("{{ %d }}", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.cache); n > cacheEntries {
		t.Errorf("cache holds %d entries, bound is %d", n, cacheEntries)
	}
}

func BenchmarkRenderVar(b *testing.B) {
	e := New()
	vars := map[string]any{"x": "value", "n": 1}
	for b.Loop() {
		if _, err := e.Render("{{ x }}", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCondWhen(b *testing.B) {
	e := New()
	vars := map[string]any{"result": map[string]any{"rc": 0, "changed": true}, "enabled": true}
	conds := []string{"result.rc == 0", "enabled and result is changed"}
	for b.Loop() {
		if ok, err := e.Cond(conds, vars); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// FuzzRender checks that no template text makes the engine panic.
func FuzzRender(f *testing.F) {
	for _, seed := range []string{"{{ x }}", "{% for i in l %}{{ i }}{% endfor %}", "{{ 'a\\\\' ~ x | default(1) }}",
		"{% set a %}{{ x }}{% endset %}{{ a }}", "{{ x is version('1', '<') }}", "{% raw %}{{{% endraw %}", "{{ {'a': [1, (2, 3)]}['a'][1:] }}"} {
		f.Add(seed)
	}
	e := New()
	vars := map[string]any{"x": "1", "l": []any{1, "a"}}
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = e.Render(src, vars)
		_, _ = e.RenderString(src, vars)
		_, _ = e.Cond([]string{src}, vars)
	})
}
