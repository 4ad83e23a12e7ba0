package template

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

type testFunc func(st *state, in any, args []any, kw map[string]any) (bool, error)

// tests are Jinja's and Ansible's tests by name.
var tests map[string]testFunc

// testsAcceptingUndefined may test an undefined value; the others fail on
// one, as they do with Ansible's strict undefined.
var testsAcceptingUndefined = map[string]bool{
	"defined": true, "undefined": true, "none": true, "boolean": true, "true": true, "false": true,
	"integer": true, "float": true, "number": true, "string": true, "mapping": true, "callable": true,
	"sameas": true, "escaped": true,
}

// is adapts a type check.
func is(fn func(v any) bool) testFunc {
	return testSig(nil, nil, func(in any, _ []any) (bool, error) { return fn(in), nil })
}

func testSig(names []string, defaults []any, fn func(in any, a []any) (bool, error)) testFunc {
	return func(_ *state, in any, args []any, kw map[string]any) (bool, error) {
		a, err := bindArgs("test", args, kw, names, defaults...)
		if err != nil {
			return false, err
		}
		return fn(in, a)
	}
}

func compareTest(op string) testFunc {
	return testSig([]string{"other"}, nil, func(in any, a []any) (bool, error) {
		if op == "==" || op == "!=" {
			eq, err := pyEqual(in, a[0])
			return eq == (op == "=="), err
		}
		c, err := pyCompare(in, a[0], op)
		return map[string]bool{"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op], err
	})
}

// resultTest checks a registered task result's boolean key.
func resultTest(name, key string, want bool) testFunc {
	return testSig(nil, nil, func(in any, _ []any) (bool, error) {
		d, ok := in.(map[string]any)
		if !ok {
			return false, fmt.Errorf("the '%s' test expects a dictionary", name)
		}
		t, err := truthy(d[key])
		return t == want, err
	})
}

// asyncTest checks an async result's started/finished flag (1 when set).
func asyncTest(name string) testFunc {
	return testSig(nil, nil, func(in any, _ []any) (bool, error) {
		d, ok := in.(map[string]any)
		if !ok {
			return false, fmt.Errorf("the '%s' test expects a dictionary", name)
		}
		v, ok := d[name]
		return !ok || equal(v, 1), nil
	})
}

func regexTest(matchType string) testFunc {
	return testSig([]string{"pattern", "ignorecase", "multiline", "match_type"}, []any{"", false, false, matchType},
		func(in any, a []any) (bool, error) {
			s, err := py.Str(in)
			if err != nil {
				return false, err
			}
			re, err := compileRegex(a[0], a[1] == true, a[2] == true)
			if err != nil {
				return false, err
			}
			loc := re.FindStringIndex(s)
			if a[3] == "match" {
				return loc != nil && loc[0] == 0, nil
			}
			return loc != nil, nil
		})
}

func pathTest(fn func(os.FileInfo) bool, follow bool) testFunc {
	return testSig(nil, nil, func(in any, _ []any) (bool, error) {
		p, err := text(in, "path")
		if err != nil {
			return false, err
		}
		stat := os.Lstat
		if follow {
			stat = os.Stat
		}
		fi, err := stat(p)
		return err == nil && fn(fi), nil
	})
}

func init() {
	isDict := func(v any) bool { _, ok := v.(map[string]any); return ok }
	isIterable := func(v any) bool {
		switch v.(type) {
		case string, []any, map[string]any:
			return true
		}
		return false
	}
	truthTest := func(want bool) testFunc {
		return testSig([]string{"convert_bool"}, []any{false}, func(in any, a []any) (bool, error) {
			if a[0] == true {
				if b, err := Bool(in); err == nil {
					in = b
				}
			}
			t, err := truthy(in)
			return t == want, err
		})
	}
	tests = map[string]testFunc{
		"defined":   is(func(v any) bool { _, u := v.(*undefined); return !u }),
		"undefined": is(func(v any) bool { _, u := v.(*undefined); return u }),
		"none":      is(func(v any) bool { return v == nil }),
		"boolean":   is(func(v any) bool { _, ok := v.(bool); return ok }),
		"true":      is(func(v any) bool { return v == true }),
		"false":     is(func(v any) bool { return v == false }),
		"integer":   is(func(v any) bool { _, ok := v.(int); return ok }),
		"float":     is(func(v any) bool { _, ok := v.(float64); return ok }),
		"number":    is(func(v any) bool { _, ok := number(v); return ok }),
		"string":    is(func(v any) bool { _, ok := v.(string); return ok }),
		"mapping":   is(isDict),
		"sequence":  is(isIterable),
		"iterable":  is(isIterable),
		"callable":  is(func(v any) bool { _, ok := v.(*function); return ok }),
		"escaped":   is(func(any) bool { return false }),
		"lower": is(func(v any) bool {
			s := pyStrLenient(v)
			return strings.ToLower(s) == s && strings.ToUpper(s) != s
		}),
		"upper": is(func(v any) bool {
			s := pyStrLenient(v)
			return strings.ToUpper(s) == s && strings.ToLower(s) != s
		}),
		"sameas": testSig([]string{"other"}, nil, func(in any, a []any) (bool, error) { return sameAs(in, a[0]), nil }),
		"eq":     compareTest("=="), "equalto": compareTest("=="), "==": compareTest("=="),
		"ne": compareTest("!="), "!=": compareTest("!="),
		"lt": compareTest("<"), "<": compareTest("<"), "lessthan": compareTest("<"),
		"le": compareTest("<="), "<=": compareTest("<="),
		"gt": compareTest(">"), ">": compareTest(">"), "greaterthan": compareTest(">"),
		"ge": compareTest(">="), ">=": compareTest(">="),
		"in": testSig([]string{"seq"}, nil, func(in any, a []any) (bool, error) { return contains(a[0], in) }),
		"contains": testSig([]string{"value"}, nil, func(in any, a []any) (bool, error) {
			return contains(in, a[0])
		}),
		"divisibleby": testSig([]string{"num"}, nil, func(in any, a []any) (bool, error) {
			r, err := arith("%", in, a[0])
			return err == nil && equal(r, 0), err
		}),
		"even": testSig(nil, nil, func(in any, _ []any) (bool, error) {
			n, err := intArg(in, "value")
			return n%2 == 0, err
		}),
		"odd": testSig(nil, nil, func(in any, _ []any) (bool, error) {
			n, err := intArg(in, "value")
			return n%2 != 0, err
		}),
		"nan": testSig(nil, nil, func(in any, _ []any) (bool, error) {
			f, ok := in.(float64)
			return ok && math.IsNaN(f), nil
		}),
		"match":           regexTest("match"),
		"search":          regexTest("search"),
		"regex":           regexTest("search"),
		"failed":          resultTest("failed", "failed", true),
		"failure":         resultTest("failure", "failed", true),
		"succeeded":       resultTest("succeeded", "failed", false),
		"success":         resultTest("success", "failed", false),
		"successful":      resultTest("successful", "failed", false),
		"unreachable":     resultTest("unreachable", "unreachable", true),
		"reachable":       resultTest("reachable", "unreachable", false),
		"skipped":         resultTest("skipped", "skipped", true),
		"skip":            resultTest("skip", "skipped", true),
		"changed":         changedTest("changed"),
		"change":          changedTest("change"),
		"started":         asyncTest("started"),
		"finished":        asyncTest("finished"),
		"truthy":          truthTest(true),
		"falsy":           truthTest(false),
		"version":         testSig([]string{"version", "operator", "strict", "version_type"}, []any{"eq", nil, nil}, versionTest),
		"version_compare": testSig([]string{"version", "operator", "strict", "version_type"}, []any{"eq", nil, nil}, versionTest),
		"any":             testSig(nil, nil, func(in any, _ []any) (bool, error) { return anyAll(in, true) }),
		"all":             testSig(nil, nil, func(in any, _ []any) (bool, error) { return anyAll(in, false) }),
		"subset":          testSig([]string{"superset"}, nil, func(in any, a []any) (bool, error) { return subset(in, a[0]) }),
		"superset":        testSig([]string{"subset"}, nil, func(in any, a []any) (bool, error) { return subset(a[0], in) }),
		"vault_encrypted": is(func(v any) bool { _, ok := v.(Secret); return ok }), // a variable's: evalTest
		"abs":             testSig(nil, nil, func(in any, _ []any) (bool, error) { return strings.HasPrefix(pyStrLenient(in), "/"), nil }),
		"exists":          pathTest(func(os.FileInfo) bool { return true }, true),
		"file":            pathTest(func(fi os.FileInfo) bool { return fi.Mode().IsRegular() }, true),
		"directory":       pathTest(func(fi os.FileInfo) bool { return fi.IsDir() }, true),
		"link":            pathTest(func(fi os.FileInfo) bool { return fi.Mode()&os.ModeSymlink != 0 }, false),
	}
}

// changedTest is Ansible's changed: the changed key, or any changed item of
// a looped result's results.
func changedTest(name string) testFunc {
	return testSig(nil, nil, func(in any, _ []any) (bool, error) {
		d, ok := in.(map[string]any)
		if !ok {
			return false, fmt.Errorf("the '%s' test expects a dictionary", name)
		}
		if v, ok := d["changed"]; ok {
			return truthy(v)
		}
		results, _ := d["results"].([]any)
		for _, r := range results {
			if rd, ok := r.(map[string]any); ok {
				if t, err := truthy(rd["changed"]); err != nil || t {
					return t, err
				}
			}
		}
		return false, nil
	})
}

// sameAs approximates Python's "is": equal scalars of one type, or the very
// same list or dict.
func sameAs(a, b any) bool {
	switch x := a.(type) {
	case []any, map[string]any:
		if reflect.TypeOf(a) != reflect.TypeOf(b) {
			return false
		}
		ra, rb := reflect.ValueOf(x), reflect.ValueOf(b)
		return ra.Pointer() == rb.Pointer() && ra.Len() == rb.Len()
	}
	return reflect.TypeOf(a) == reflect.TypeOf(b) && equal(a, b)
}

func anyAll(in any, anyMode bool) (bool, error) {
	items, err := iterate(in)
	if err != nil {
		return false, err
	}
	for _, it := range items {
		t, err := truthy(it)
		if err != nil {
			return false, err
		}
		if t == anyMode {
			return anyMode, nil
		}
	}
	return !anyMode, nil
}

func subset(small, big any) (bool, error) {
	a, err := iterate(small)
	if err != nil {
		return false, err
	}
	b, err := iterate(big)
	if err != nil {
		return false, err
	}
	return len(keep(a, b, false)) == 0, nil
}

var versionOps = map[string]string{
	"==": "==", "=": "==", "eq": "==", "<": "<", "lt": "<", "<=": "<=", "le": "<=",
	">": ">", "gt": ">", ">=": ">=", "ge": ">=", "!=": "!=", "<>": "!=", "ne": "!=",
}

// versionTest is Ansible's version test with loose (default), strict and
// semver comparison.
func versionTest(in any, a []any) (bool, error) {
	if a[2] != nil && a[3] != nil {
		return false, errors.New("cannot specify both 'strict' and 'version_type'")
	}
	value, err := py.Str(in)
	if err != nil {
		return false, err
	}
	other, err := py.Str(a[0])
	if err != nil {
		return false, err
	}
	if value == "" {
		return false, errors.New("input version value cannot be empty")
	}
	if other == "" {
		return false, errors.New("version parameter to compare against cannot be empty")
	}
	op, ok := versionOps[pyStrLenient(a[1])]
	if !ok {
		return false, fmt.Errorf("invalid operator type (%s)", pyStrLenient(a[1]))
	}
	kind := "loose"
	if t, _ := truthy(a[2]); t {
		kind = "strict"
	} else if a[3] != nil {
		kind = pyStrLenient(a[3])
	}
	parse := map[string]func(string) ([]any, error){
		"loose": looseVersion, "strict": strictVersion, "semver": semVersion, "semantic": semVersion, "pep440": pep440Version,
	}[kind]
	if parse == nil {
		return false, fmt.Errorf("invalid version type (%s); must be one of 'loose', 'strict', 'semver', 'semantic', 'pep440'", kind)
	}
	x, err := parse(value)
	if err != nil {
		return false, err
	}
	y, err := parse(other)
	if err != nil {
		return false, err
	}
	c, err := pyCompare(x, y, op)
	if err != nil {
		return false, fmt.Errorf("version comparison failed: %w", err)
	}
	return map[string]bool{"==": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op], nil
}

var looseComponent = regexp.MustCompile(`\d+|[a-z]+|\.`)

// looseVersion splits like distutils' LooseVersion: numbers, lowercase
// runs and whatever lies between, dots dropped.
func looseVersion(s string) ([]any, error) {
	var out []any
	add := func(part string) {
		if part == "" || part == "." {
			return
		}
		if n, err := strconv.Atoi(part); err == nil {
			out = append(out, n)
		} else {
			out = append(out, part)
		}
	}
	last := 0
	for _, m := range looseComponent.FindAllStringIndex(s, -1) {
		add(s[last:m[0]])
		add(s[m[0]:m[1]])
		last = m[1]
	}
	add(s[last:])
	return out, nil
}

var strictRe = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$`)

// strictVersion parses like distutils' StrictVersion; a release sorts
// after its pre-releases.
func strictVersion(s string) ([]any, error) {
	m := strictRe.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("invalid version number '%s'", s)
	}
	num := func(x string) int { n, _ := strconv.Atoi(x); return n }
	pre := []any{"~"} // sorts after "a" and "b"
	if m[4] != "" {
		pre = []any{m[4], num(m[5])}
	}
	return []any{num(m[1]), num(m[2]), num(m[3]), pre}, nil
}

var semverRe = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$`)

// semVersion parses a semantic version; build metadata is ignored and a
// release sorts after its pre-releases.
func semVersion(s string) ([]any, error) {
	m := semverRe.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("invalid semantic version '%s'", s)
	}
	out := []any{}
	for _, x := range m[1:4] {
		n, _ := strconv.Atoi(x)
		out = append(out, n)
	}
	if m[4] == "" {
		return append(out, []any{[]any{1}}), nil
	}
	var pre []any
	for _, id := range strings.Split(m[4], ".") {
		if n, err := strconv.Atoi(id); err == nil {
			pre = append(pre, []any{0, n, ""})
		} else {
			pre = append(pre, []any{0, -1, id})
		}
	}
	return append(out, []any{[]any{0}, pre}), nil
}

// globals are the functions templates may call by name.
var globals = map[string]any{
	"range": &function{name: "range", call: func(_ *state, args []any, kw map[string]any) (any, error) {
		if len(kw) > 0 || len(args) == 0 || len(args) > 3 {
			return nil, errors.New("range expected 1 to 3 integer arguments")
		}
		n := make([]int, len(args))
		for i, a := range args {
			v, err := intArg(a, "range argument")
			if err != nil {
				return nil, err
			}
			n[i] = v
		}
		start, stop, step := 0, n[0], 1
		if len(n) > 1 {
			start, stop = n[0], n[1]
		}
		if len(n) > 2 {
			step = n[2]
		}
		if step == 0 {
			return nil, errors.New("range() arg 3 must not be zero")
		}
		out := []any{}
		for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
			if len(out) >= 100000 {
				return nil, errors.New("range too big, the sandbox blocks ranges larger than 100000")
			}
			out = append(out, i)
		}
		return out, nil
	}},
	"dict": &function{name: "dict", call: func(_ *state, args []any, kw map[string]any) (any, error) {
		out := pytext.NewDict(0)
		if len(args) > 1 {
			return nil, errors.New("dict expected at most 1 argument")
		}
		if len(args) == 1 {
			switch x := args[0].(type) {
			case map[string]any:
				out.Update(x)
			case []any:
				for _, p := range x {
					pair, ok := p.([]any)
					if !ok || len(pair) != 2 {
						return nil, errors.New("dictionary update sequence element has wrong length; 2 is required")
					}
					out.Set(pair[0], pair[1])
				}
			default:
				return nil, fmt.Errorf("'%s' object is not iterable", typeName(x))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(kw)) {
			out.Set(k, kw[k])
		}
		return out.Map(), nil
	}},
	"namespace": &function{name: "namespace", call: func(_ *state, args []any, kw map[string]any) (any, error) {
		ns := &namespace{attrs: map[string]any{}}
		for _, a := range args {
			if d, ok := a.(map[string]any); ok {
				for k, v := range d {
					ns.attrs[k] = v
				}
			}
		}
		for k, v := range kw {
			ns.attrs[k] = v
		}
		return ns, nil
	}},
	"undef": &function{name: "undef", call: func(_ *state, args []any, kw map[string]any) (any, error) {
		a, err := bindArgs("undef", args, kw, []string{"hint"}, nil)
		if err != nil {
			return nil, err
		}
		if a[0] == nil || a[0] == "" {
			return &undefined{msg: "Mandatory variable has not been overridden"}, nil
		}
		return &undefined{msg: pyStrLenient(a[0])}, nil
	}},
}
