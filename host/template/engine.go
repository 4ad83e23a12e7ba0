package template

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/nodes"
)

// UndefinedError reports the use of an undefined variable or attribute.
// Its message is Ansible's: "'foo' is undefined", "'dict object' has no
// attribute 'bar'".
type UndefinedError struct {
	Msg string
}

func (e *UndefinedError) Error() string { return e.Msg }

func asUndefinedError(err error) (*UndefinedError, bool) {
	var u *UndefinedError
	ok := errors.As(err, &u)
	return u, ok
}

// Cache bounds: parsed templates are kept by source text until either is
// exceeded, then arbitrary entries are dropped.
const (
	cacheEntries = 4096
	cacheBytes   = 32 << 20
)

type cacheKey struct {
	src  string
	mode stringMode
	d    dialect
}

// Engine renders templates. It is safe for concurrent use and caches parsed
// templates and expressions by their source text.
type Engine struct {
	lookups Lookups // nil: lookup() and query() fail

	mu    sync.RWMutex
	cache map[cacheKey]*program
	bytes int
}

// New returns an Engine with an empty cache.
func New() *Engine {
	return &Engine{cache: map[cacheKey]*program{}}
}

func (e *Engine) program(src string, mode stringMode) *program {
	return e.programWith(src, mode, ansibleDialect)
}

func (e *Engine) programWith(src string, mode stringMode, d dialect) *program {
	k := cacheKey{src: src, mode: mode, d: d}
	e.mu.RLock()
	p := e.cache[k]
	e.mu.RUnlock()
	if p != nil {
		return p
	}
	p = compile(src, mode, d)
	e.mu.Lock()
	defer e.mu.Unlock()
	for old := range e.cache {
		if len(e.cache) < cacheEntries && e.bytes+len(src) <= cacheBytes {
			break
		}
		delete(e.cache, old)
		e.bytes -= len(old.src)
	}
	if _, dup := e.cache[k]; !dup {
		e.cache[k] = p
		e.bytes += len(src)
	}
	return p
}

func (e *Engine) newState(vars map[string]any) *state {
	return &state{e: e, vars: vars}
}

// IsTemplate reports whether s contains a Jinja marker: {{, {% or {#.
func IsTemplate(s string) bool {
	i := strings.IndexByte(s, '{')
	for i >= 0 && i+1 < len(s) {
		switch s[i+1] {
		case '{', '%', '#':
			return true
		}
		next := strings.IndexByte(s[i+1:], '{')
		if next < 0 {
			return false
		}
		i += next + 1
	}
	return false
}

// Render templates v with vars as Ansible's Templar.template does. Strings
// inside lists and maps are rendered too (map keys are not); a string
// without template markers is returned unchanged, as are numbers, bools and
// nil. A string that is a single {{ expr }} yields a list, dict or bool
// natively; a bare {{ name }} of a number or None yields it as it is; other
// results are strings built from Python's str() of each part, converted
// back to a list, dict or bool when they read as a Python literal
// ("[{{ a }}, {{ b }}]" is a list). Note that, as in Ansible, "{{ 1 + 1 }}"
// is the string "2".
func (e *Engine) Render(v any, vars map[string]any) (any, error) {
	return e.newState(vars).template(v, false)
}

// RenderString renders a whole template file, as Ansible's template module
// does: the result is always a string, and string literals read Python
// escapes ('\n' is a newline).
func (e *Engine) RenderString(s string, vars map[string]any) (string, error) {
	if !IsTemplate(s) {
		return s, nil
	}
	prog := e.program(s, fileStrings)
	if prog.err != nil {
		return "", prog.err
	}
	st := e.newState(vars)
	parts, err := st.run(prog)
	if err == nil {
		var out string
		if out, err = join(parts); err == nil {
			return keepTrailingNewlines(s, out, "\n"), nil
		}
	}
	return "", st.wrap(err, s, false)
}

// Eval evaluates a bare Jinja expression ("x.y | default(1)") and returns
// its native value.
func (e *Engine) Eval(expr string, vars map[string]any) (any, error) {
	st := e.newState(vars)
	v, err := st.evalExpr(expr, playbookStrings)
	if err != nil {
		return nil, err
	}
	if err := checkDefined(v); err != nil {
		return nil, err
	}
	return v, nil
}

// evalExpr parses expr as one {{ }} expression and evaluates it.
func (st *state) evalExpr(expr string, mode stringMode) (any, error) {
	src := "{{ " + expr + " }}"
	prog := st.e.program(src, mode)
	if prog.err != nil {
		return nil, prog.err
	}
	out, ok := prog.body[0].(*nodes.Output)
	if !ok || len(prog.body) != 1 {
		return nil, &SyntaxError{Template: expr, Msg: "not a single expression"}
	}
	v, err := st.evalOutput(out, &scope{})
	if err != nil {
		return nil, st.wrap(err, expr, false)
	}
	return v, nil
}

// Cond evaluates Ansible conditionals (when, changed_when, failed_when,
// until, assert's that) and reports whether all of them hold, stopping at
// the first false one. Each is a bare expression whose truth is Python's;
// an empty condition is true, and the YAML 1.1 booleans (yes, no, on, off,
// true, false in lower, title or upper case) are literals. As in Ansible, a
// condition containing {{ }} is rendered first and its result evaluated
// (unless that is not a string, or empty, when its truth is used). Errors
// read "error while evaluating conditional (COND): ..." and wrap an
// *UndefinedError when a variable is undefined; Ansible prefixes them with
// "The conditional check 'COND' failed. The error was: ".
func (e *Engine) Cond(conds []string, vars map[string]any) (bool, error) {
	st := e.newState(vars)
	for _, c := range conds {
		ok, err := st.cond(c)
		if err != nil {
			return false, fmt.Errorf("error while evaluating conditional (%s): %w", c, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func (st *state) cond(c string) (bool, error) {
	if b, ok := yamlBool(strings.TrimSpace(c)); ok {
		return b, nil
	}
	if IsTemplate(c) {
		v, err := st.template(c, false)
		if err != nil {
			return false, err
		}
		s, isStr := v.(string)
		if !isStr || s == "" {
			return truthy(v)
		}
		c = s
	}
	if strings.TrimSpace(c) == "" {
		return true, nil
	}
	v, err := st.evalExpr(c, fileStrings)
	if err != nil {
		return false, err
	}
	return truthy(v)
}

// yamlBool recognizes the booleans of YAML 1.1, which Ansible's parser
// would have turned into bools before the condition reached Jinja.
func yamlBool(s string) (bool, bool) {
	switch s {
	case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, true
	case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}
