package template

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
	"github.com/tallyrun/tally/internal/pytext"
)

// maxDepth bounds how deeply variables may refer to other templated
// variables before templating gives up.
const maxDepth = 10

// state is one call into the engine: the variables, the lazily templated
// values already resolved, and the chain of variables being resolved.
type state struct {
	e         *Engine
	vars      map[string]any
	resolved  map[string]any
	resolving []string
	file      *fileContext // rendering a template file (RenderFile); nil otherwise
}

// scope holds template-local names ({% set %}, loop variables).
type scope struct {
	names  map[string]any
	parent *scope
}

func (s *scope) child() *scope { return &scope{names: map[string]any{}, parent: s} }

func (s *scope) lookup(name string) (any, bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.names[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// lookup resolves a name: template locals, then variables (templated on
// first use and remembered, as Ansible's AnsibleJ2Vars does), then globals.
func (st *state) lookup(name string, sc *scope) (any, error) {
	if v, ok := sc.lookup(name); ok {
		return v, nil
	}
	if v, ok := st.resolved[name]; ok {
		return v, nil
	}
	raw, ok := st.vars[name]
	if !ok {
		if g, ok := globals[name]; ok {
			return g, nil
		}
		return undefinedName(name), nil
	}
	if slices.Contains(st.resolving, name) {
		return nil, fmt.Errorf("recursive loop detected in template: variable '%s' refers to itself (%s -> %s)",
			name, strings.Join(st.resolving, " -> "), name)
	}
	if len(st.resolving) >= maxDepth {
		return nil, fmt.Errorf("template nesting deeper than %d levels while templating variable '%s'", maxDepth, name)
	}
	st.resolving = append(st.resolving, name)
	v, err := st.template(raw, true)
	st.resolving = st.resolving[:len(st.resolving)-1]
	if err != nil {
		return nil, err
	}
	if st.resolved == nil {
		st.resolved = map[string]any{}
	}
	st.resolved[name] = v
	return v, nil
}

func (st *state) eval(node nodes.Node, sc *scope) (any, error) {
	switch n := node.(type) {
	case *nodes.None:
		return nil, nil
	case *nodes.Bool:
		return n.Val, nil
	case *nodes.Integer:
		return n.Val, nil
	case *nodes.Float:
		return n.Val, nil
	case *nodes.String:
		return n.Val, nil
	case *nodes.List:
		return st.evalAll(n.Val, sc)
	case *nodes.Tuple:
		return st.evalAll(n.Val, sc)
	case *nodes.Dict:
		return st.evalDict(n, sc)
	case *nodes.Name:
		if n.Name.Val == "none" {
			return nil, nil // a Jinja keyword, unlike gonja
		}
		return st.lookup(n.Name.Val, sc)
	case *nodes.GetAttribute:
		obj, err := st.eval(n.Node, sc)
		if err != nil {
			return nil, err
		}
		if n.Attribute == "" {
			return getItem(obj, n.Index), nil
		}
		return getAttr(obj, n.Attribute), nil
	case *nodes.GetItem:
		return st.evalGetItem(n, sc)
	case *nodes.GetSlice:
		return st.evalSlice(n, sc)
	case *nodes.Call:
		return st.evalCall(n, sc)
	case *nodes.Negation:
		v, err := st.eval(n.Term, sc)
		if err != nil {
			return nil, err
		}
		t, err := truthy(v)
		return !t, err
	case *nodes.UnaryExpression:
		return st.evalUnary(n, sc)
	case *nodes.BinaryExpression:
		return st.evalBinary(n, sc)
	case *nodes.FilteredExpression:
		return st.evalFiltered(n, sc)
	case *nodes.TestExpression:
		return st.evalTest(n, sc)
	case *condExpr:
		return st.evalCond(n.expr, n.cond, n.alt, sc)
	case *nodes.Error:
		return nil, n.Error
	}
	return nil, fmt.Errorf("unsupported expression %s", node)
}

func (st *state) evalAll(exprs []nodes.Expression, sc *scope) ([]any, error) {
	out := make([]any, len(exprs))
	for i, x := range exprs {
		v, err := st.eval(x, sc)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (st *state) evalDict(n *nodes.Dict, sc *scope) (any, error) {
	out := pytext.NewDict(len(n.Pairs))
	for _, p := range n.Pairs {
		k, err := st.eval(p.Key, sc)
		if err != nil {
			return nil, err
		}
		v, err := st.eval(p.Value, sc)
		if err != nil {
			return nil, err
		}
		if _, err := py.Str(k); err != nil {
			return nil, err
		}
		out.Set(k, v)
	}
	return out.Map(), nil
}

// evalCond evaluates "expr if cond else alt"; without alt a false condition
// yields Jinja's lenient Undefined, which prints as nothing even in Ansible.
func (st *state) evalCond(expr, cond, alt nodes.Expression, sc *scope) (any, error) {
	c, err := st.eval(cond, sc)
	if err != nil {
		return nil, err
	}
	t, err := truthy(c)
	switch {
	case err != nil:
		return nil, err
	case t:
		return st.eval(expr, sc)
	case alt != nil:
		return st.eval(alt, sc)
	}
	return "", nil
}

// getAttr is Jinja's getattr: a method or loop/namespace attribute first,
// then a dict key.
func getAttr(obj any, name string) any {
	switch o := obj.(type) {
	case *undefined:
		return o
	case *loopInfo:
		if v, ok := o.attr(name); ok {
			return v
		}
	case *namespace:
		if v, ok := o.attrs[name]; ok {
			return v
		}
	case *datetime:
		if v, ok := o.attr(name); ok {
			return v
		}
	case *timedelta:
		if v, ok := o.attr(name); ok {
			return v
		}
	}
	if m, ok := boundMethod(obj, name); ok {
		return m
	}
	if d, ok := obj.(map[string]any); ok {
		if v, ok := dictGet(d, name); ok {
			return v
		}
	}
	return &undefined{msg: fmt.Sprintf("'%s' has no attribute '%s'", objectRepr(obj), name), name: name}
}

// getItem is Jinja's getitem: obj[key], falling back to an attribute for
// string keys.
func getItem(obj any, key any) any {
	switch o := obj.(type) {
	case *undefined:
		return o
	case map[string]any:
		if v, ok := dictGet(o, key); ok {
			return v
		}
	case []any:
		if i, ok := integer(key); ok {
			if i < 0 {
				i += len(o)
			}
			if i >= 0 && i < len(o) {
				return o[i]
			}
		}
	case string:
		if i, ok := integer(key); ok {
			r := []rune(o)
			if i < 0 {
				i += len(r)
			}
			if i >= 0 && i < len(r) {
				return string(r[i])
			}
		}
	}
	if k, ok := key.(string); ok {
		return getAttr(obj, k)
	}
	return &undefined{msg: fmt.Sprintf("%s has no element %s", objectRepr(obj), pyReprLenient(key)), name: pyStrLenient(key)}
}

func pyReprLenient(v any) string {
	s, err := py.Repr(v)
	if err != nil {
		return err.Error()
	}
	return s
}

func (st *state) evalGetItem(n *nodes.GetItem, sc *scope) (any, error) {
	obj, err := st.eval(n.Node, sc)
	if err != nil {
		return nil, err
	}
	if n.Arg == nil {
		return nil, fmt.Errorf("missing subscript in %s", n)
	}
	key, err := st.eval(n.Arg, sc)
	if err != nil {
		return nil, err
	}
	if u, ok := key.(*undefined); ok {
		return nil, u.err()
	}
	return getItem(obj, key), nil
}

func (st *state) evalSlice(n *nodes.GetSlice, sc *scope) (any, error) {
	obj, err := st.eval(n.Node, sc)
	if err != nil {
		return nil, err
	}
	bounds := make([]*int, 3)
	for i, b := range []nodes.Node{n.Start, n.End, n.Step} {
		if b == nil {
			continue
		}
		v, err := st.eval(b, sc)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		iv, ok := integer(v)
		if !ok {
			return nil, fmt.Errorf("slice indices must be integers or None, not %s", typeName(v))
		}
		bounds[i] = &iv
	}
	switch o := obj.(type) {
	case []any:
		idx, err := sliceIndices(len(o), bounds[0], bounds[1], bounds[2])
		if err != nil {
			return nil, err
		}
		out := make([]any, len(idx))
		for i, j := range idx {
			out[i] = o[j]
		}
		return out, nil
	case string:
		r := []rune(o)
		idx, err := sliceIndices(len(r), bounds[0], bounds[1], bounds[2])
		if err != nil {
			return nil, err
		}
		out := make([]rune, len(idx))
		for i, j := range idx {
			out[i] = r[j]
		}
		return string(out), nil
	case *undefined:
		return nil, o.err()
	}
	return nil, fmt.Errorf("'%s' object is not subscriptable", typeName(obj))
}

// sliceIndices lists the indices Python's seq[start:stop:step] selects.
func sliceIndices(n int, start, stop, step *int) ([]int, error) {
	st := 1
	if step != nil {
		st = *step
	}
	if st == 0 {
		return nil, fmt.Errorf("slice step cannot be zero")
	}
	clamp := func(p *int, def, lo, hi int) int {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += n
		}
		return max(lo, min(v, hi))
	}
	var idx []int
	if st > 0 {
		for i := clamp(start, 0, 0, n); i < clamp(stop, n, 0, n); i += st {
			idx = append(idx, i)
		}
	} else {
		for i := clamp(start, n-1, -1, n-1); i > clamp(stop, -1, -1, n-1); i += st {
			idx = append(idx, i)
		}
	}
	return idx, nil
}

func (st *state) evalArgs(args []nodes.Expression, kwargs map[string]nodes.Expression, sc *scope) ([]any, map[string]any, error) {
	pos, err := st.evalAll(args, sc)
	if err != nil {
		return nil, nil, err
	}
	if slices.ContainsFunc(pos, func(v any) bool { _, ok := v.(splat); return ok }) {
		var spread []any
		for _, v := range pos {
			if s, ok := v.(splat); ok {
				spread = append(spread, s...)
			} else {
				spread = append(spread, v)
			}
		}
		pos = spread
	}
	var kw map[string]any
	if len(kwargs) > 0 {
		kw = make(map[string]any, len(kwargs))
		for k, x := range kwargs {
			v, err := st.eval(x, sc)
			if err != nil {
				return nil, nil, err
			}
			kw[k] = v
		}
	}
	return pos, kw, nil
}

func (st *state) evalCall(n *nodes.Call, sc *scope) (any, error) {
	fn, err := st.eval(n.Func, sc)
	if err != nil {
		return nil, err
	}
	args, kw, err := st.evalArgs(n.Args, n.Kwargs, sc)
	if err != nil {
		return nil, err
	}
	switch f := fn.(type) {
	case *function:
		return f.call(st, args, kw)
	case *undefined:
		return nil, f.err()
	}
	return nil, fmt.Errorf("'%s' object is not callable", typeName(fn))
}

func (st *state) evalUnary(n *nodes.UnaryExpression, sc *scope) (any, error) {
	v, err := st.eval(n.Term, sc)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case int:
		if n.Negative {
			return -x, nil
		}
		return x, nil
	case float64:
		if n.Negative {
			return -x, nil
		}
		return x, nil
	case bool:
		i, _ := integer(x)
		if n.Negative {
			return -i, nil
		}
		return i, nil
	case *undefined:
		return nil, x.err()
	}
	return nil, fmt.Errorf("bad operand type for unary %s: '%s'", n.Operator.Val, typeName(v))
}

var comparisons = map[tokens.Type]string{
	tokens.Equals: "==", tokens.Ne: "!=", tokens.LowerThan: "<", tokens.LowerThanOrEqual: "<=",
	tokens.GreaterThan: ">", tokens.GreaterThanOrEqual: ">=",
}

func (st *state) evalBinary(n *nodes.BinaryExpression, sc *scope) (any, error) {
	op := n.Operator.Token
	if _, ok := comparisons[op.Type]; ok {
		res, _, err := st.evalComparison(n, sc)
		return res, err
	}
	left, err := st.eval(n.Left, sc)
	if err != nil {
		return nil, err
	}
	switch op.Type {
	case tokens.And, tokens.Or:
		t, err := truthy(left)
		if err != nil {
			return nil, err
		}
		if t == (op.Type == tokens.Or) {
			return left, nil
		}
		return st.eval(n.Right, sc)
	}
	right, err := st.eval(n.Right, sc)
	if err != nil {
		return nil, err
	}
	return arith(op.Val, left, right)
}

// evalComparison evaluates a comparison, treating a comparison nested on
// the left as a Python chain (a < b < c), and returns its right operand
// for the next link.
func (st *state) evalComparison(n *nodes.BinaryExpression, sc *scope) (bool, any, error) {
	var left any
	if l, ok := n.Left.(*nodes.BinaryExpression); ok && comparisons[l.Operator.Token.Type] != "" {
		res, last, err := st.evalComparison(l, sc)
		if err != nil || !res {
			return false, nil, err
		}
		left = last
	} else {
		var err error
		if left, err = st.eval(n.Left, sc); err != nil {
			return false, nil, err
		}
	}
	right, err := st.eval(n.Right, sc)
	if err != nil {
		return false, nil, err
	}
	op := comparisons[n.Operator.Token.Type]
	var res bool
	switch op {
	case "==", "!=":
		eq, err := pyEqual(left, right)
		if err != nil {
			return false, nil, err
		}
		res = eq == (op == "==")
	default:
		c, err := pyCompare(left, right, op)
		if err != nil {
			return false, nil, err
		}
		res = map[string]bool{"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
	}
	return res, right, nil
}

// filtersAcceptingUndefined may receive an undefined value as input or
// argument; every other filter fails on one, as strict Jinja does.
var filtersAcceptingUndefined = map[string]bool{"default": true, "d": true, "mandatory": true, "ternary": true,
	"extract": true} // extract's container may be undefined: getitem on it is undefined too

func (st *state) evalFiltered(n *nodes.FilteredExpression, sc *scope) (any, error) {
	v, err := st.eval(n.Expression, sc)
	if err != nil {
		return nil, err
	}
	for _, f := range n.Filters {
		args, kw, err := st.evalArgs(f.Args, f.Kwargs, sc)
		if err != nil {
			return nil, err
		}
		if v, err = st.applyFilter(f.Name, v, args, kw); err != nil {
			return nil, compileTime(err)
		}
	}
	return v, nil
}

func (st *state) applyFilter(name string, in any, args []any, kw map[string]any) (any, error) {
	fn, ok := filters[name]
	if !ok {
		return nil, &LoadError{Name: name}
	}
	if !filtersAcceptingUndefined[name] {
		if err := firstUndefined(in, args, kw); err != nil {
			return nil, err
		}
	}
	out, err := fn(st, in, args, kw)
	if err != nil {
		return nil, fmt.Errorf("%s filter: %w", name, err)
	}
	return out, nil
}

func firstUndefined(in any, args []any, kw map[string]any) error {
	if u, ok := in.(*undefined); ok {
		return u.err()
	}
	for _, a := range args {
		if u, ok := a.(*undefined); ok {
			return u.err()
		}
	}
	for _, a := range kw {
		if u, ok := a.(*undefined); ok {
			return u.err()
		}
	}
	return nil
}

func (st *state) evalTest(n *nodes.TestExpression, sc *scope) (any, error) {
	if n.Test.Name == "vault_encrypted" {
		// A variable read is already decrypted: look at what the variable holds.
		if name, ok := n.Expression.(*nodes.Name); ok {
			if _, local := sc.lookup(name.Name.Val); !local {
				_, secret := st.vars[name.Name.Val].(Secret)
				return secret, nil
			}
		}
	}
	v, err := st.eval(n.Expression, sc)
	if err != nil {
		return nil, err
	}
	argNodes, kwNodes := testArgs(n.Test)
	args, kw, err := st.evalArgs(argNodes, kwNodes, sc)
	if err != nil {
		return nil, err
	}
	ok, err := st.applyTest(n.Test.Name, v, args, kw)
	return ok, compileTime(err)
}

// testArgs returns a test's argument expressions, unwrapping the call
// compile makes of parenthesized arguments.
func testArgs(tc *nodes.TestCall) ([]nodes.Expression, map[string]nodes.Expression) {
	if len(tc.Args) == 1 {
		if call, ok := tc.Args[0].(*nodes.Call); ok {
			if name, ok := call.Func.(*nodes.Name); ok && name.Name.Val == testArgsMarker {
				return call.Args, call.Kwargs
			}
		}
	}
	return tc.Args, tc.Kwargs
}

func (st *state) applyTest(name string, in any, args []any, kw map[string]any) (bool, error) {
	fn, ok := tests[name]
	if !ok {
		return false, &LoadError{Name: name}
	}
	if !testsAcceptingUndefined[name] {
		if err := firstUndefined(in, args, kw); err != nil {
			return false, err
		}
	}
	res, err := fn(st, in, args, kw)
	if err != nil {
		return false, fmt.Errorf("%s test: %w", name, err)
	}
	return res, nil
}
