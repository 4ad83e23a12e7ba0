package template

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/nodes"
)

// template is Ansible's Templar.template: strings holding templates are
// rendered, lists and dicts recursively (dict keys are left alone), Unsafe
// values are unwrapped untouched. Inside a variable's value (nested) a
// string that does not parse is kept as it is, and one that uses an
// undefined variable becomes undefined itself, as in Ansible, so that
// "is defined" and default() work on it. (Ansible makes the whole variable
// undefined; here only the failing string is, so the rest of a registered
// result stays usable.)
func (st *state) template(v any, nested bool) (any, error) {
	out, _, err := transform(v, func(s string) (any, bool, error) {
		if !IsTemplate(s) {
			return s, false, nil
		}
		r, err := st.renderValue(s, nested)
		if u, ok := asUndefinedError(err); ok && nested {
			return &undefined{msg: s + ": " + u.Msg}, true, nil
		}
		return r, true, err
	})
	return out, err
}

// singleVar matches Ansible's SINGLE_VAR, "{{ name }}", whose value is
// returned as it is when it is a number, a bool or None.
func singleVar(s string) (string, bool) {
	inner, ok := strings.CutPrefix(s, "{{")
	if !ok {
		return "", false
	}
	if inner, ok = strings.CutSuffix(inner, "}}"); !ok {
		return "", false
	}
	name := strings.TrimSpace(inner)
	for _, r := range name {
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return "", false
		}
	}
	return name, name != ""
}

// renderValue renders a template string to the value Ansible's Templar
// gives (see ansible_eval_concat): a single output keeps its type when it is
// a list, dict or bool; otherwise the parts are joined as Python's str()
// would, and a result that reads as a Python list, dict or bool literal is
// converted back to one.
func (st *state) renderValue(s string, nested bool) (any, error) {
	if name, ok := singleVar(s); ok {
		if raw, ok := st.vars[name]; ok {
			switch v := norm(raw).(type) {
			case nil, bool, int, float64:
				return v, nil
			}
		}
	}
	prog := st.e.program(s, playbookStrings)
	if prog.err != nil {
		if nested {
			return s, nil
		}
		return nil, prog.err
	}
	parts, err := st.run(prog)
	if err != nil {
		return nil, st.wrap(err, s, nested)
	}
	if len(parts) == 1 {
		switch v := parts[0].(type) {
		case []any, map[string]any, bool:
			return v, nil
		case nativeText:
			// a str to Templar, which gives back the trailing newlines Jinja dropped
			return keepTrailingNewlines(s, string(v), "\n"), nil
		}
	}
	out, err := join(parts)
	if err != nil {
		return nil, st.wrap(err, s, nested)
	}
	if v, ok := readsAsLiteral(out); ok {
		return v, nil
	}
	return keepTrailingNewlines(s, out, "\n"), nil
}

// ConvertData is what Ansible's Templar makes of rendered text with convert_data: the list,
// dict or bool that the text reads as, else the text itself.
func ConvertData(text string) any {
	if v, ok := readsAsLiteral(text); ok {
		return v
	}
	return text
}

// readsAsLiteral converts text that starts as a list or dict literal, or is True or False, as
// ansible_eval_concat does.
func readsAsLiteral(text string) (any, bool) {
	if strings.HasPrefix(text, "[") || strings.HasPrefix(text, "{") || text == "True" || text == "False" {
		return literalEval(text)
	}
	return nil, false
}

// wrap names the template in a runtime error, once, at the outermost level;
// undefined errors keep Ansible's wording unwrapped.
func (st *state) wrap(err error, src string, nested bool) error {
	var u *UndefinedError
	if nested || errors.As(err, &u) {
		return err
	}
	if syn, ok := err.(*SyntaxError); ok {
		if syn.Template == "" {
			syn.Template = src
		}
		return syn
	}
	return fmt.Errorf("error while templating %q: %w", src, err)
}

func join(parts []any) (string, error) {
	if len(parts) == 1 {
		return py.Str(parts[0])
	}
	var b strings.Builder
	for _, p := range parts {
		if err := py.Write(&b, p, false); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// keepTrailingNewlines restores the trailing newlines Jinja drops, as
// Templar's preserve_trailing_newlines does: each as the environment's newline sequence nl.
func keepTrailingNewlines(src, out, nl string) string {
	want := len(src) - len(strings.TrimRight(src, "\n"))
	have := len(out) - len(strings.TrimRight(out, "\n"))
	if want > have {
		out += strings.Repeat(nl, want-have)
	}
	return out
}

// run executes a template and returns its output parts: text and the
// finalized values of {{ }} expressions.
func (st *state) run(prog *program) ([]any, error) {
	var out []any
	err := st.exec(prog.body, &scope{names: map[string]any{}}, &out)
	return out, err
}

// finalize is Ansible's finalize for a {{ }} value: undefined values fail
// (also inside lists and dicts), None prints as nothing.
func finalize(v any) (any, error) {
	if err := checkDefined(v); err != nil {
		return nil, err
	}
	if v == nil {
		return "", nil
	}
	return v, nil
}

// nativeText is the output of a filter Ansible lists in
// STRING_TYPE_FILTERS: alone in a template it stays a string, never
// converted to a list or dict.
type nativeText string

var stringTypeFilters = map[string]bool{
	"string": true, "to_json": true, "to_nice_json": true, "to_yaml": true, "to_nice_yaml": true,
}

func stringTyped(o *nodes.Output) bool {
	f, ok := o.Expression.(*nodes.FilteredExpression)
	return ok && o.Condition == nil && stringTypeFilters[f.Filters[len(f.Filters)-1].Name]
}

func (st *state) evalOutput(o *nodes.Output, sc *scope) (any, error) {
	if o.Condition != nil {
		return st.evalCond(o.Expression, o.Condition, o.Alternative, sc)
	}
	return st.eval(o.Expression, sc)
}

func (st *state) exec(body []nodes.Node, sc *scope, out *[]any) error {
	for _, node := range body {
		switch n := node.(type) {
		case *nodes.Data:
			text := dataText(n)
			if st.file != nil && st.file.newline != "" {
				text = strings.ReplaceAll(text, "\n", st.file.newline)
			}
			if text != "" {
				*out = append(*out, text)
			}
		case *nodes.Comment:
		case *nodes.Output:
			v, err := st.evalOutput(n, sc)
			if err != nil {
				return err
			}
			if v, err = finalize(v); err != nil {
				return err
			}
			if s, ok := v.(string); ok && stringTyped(n) {
				v = nativeText(s)
			}
			*out = append(*out, v)
		case *nodes.ControlStructureBlock:
			if err := st.execStatement(n, sc, out); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unsupported template node %s", node)
		}
	}
	return nil
}

// dataText applies whitespace control to literal text, as gonja's renderer does.
func dataText(n *nodes.Data) string {
	text := n.Data.Val
	if n.RemoveFirstLineReturn {
		text = strings.TrimPrefix(strings.TrimPrefix(text, "\r\n"), "\n")
	}
	if n.Trim.Left {
		text = strings.TrimLeft(text, " \r\n\t")
	}
	if n.Trim.Right {
		text = strings.TrimRight(text, " \r\n\t")
	}
	if n.RemoveTrailingWhiteSpaceFromLastLine {
		i := strings.LastIndex(text, "\n") + 1
		text = text[:i] + strings.TrimRight(text[i:], " \n\t\r")
	}
	return text
}

func (st *state) execStatement(block *nodes.ControlStructureBlock, sc *scope, out *[]any) error {
	switch s := block.ControlStructure.(type) {
	case *controlStructures.IfControlStructure:
		for i, cond := range s.Conditions {
			v, err := st.eval(cond, sc)
			if err != nil {
				return err
			}
			t, err := truthy(v)
			if err != nil {
				return err
			}
			if t {
				return st.exec(s.Wrappers[i].Nodes, sc, out)
			}
		}
		if len(s.Wrappers) > len(s.Conditions) {
			return st.exec(s.Wrappers[len(s.Conditions)].Nodes, sc, out)
		}
		return nil
	case *controlStructures.ForControlStructure:
		return st.execFor(s, sc, out)
	case *setStmt:
		return st.execSet(s, sc)
	case *rawStmt:
		*out = append(*out, s.text)
		return nil
	case *controlStructures.MacroControlStructure:
		st.defineMacro(s.Macro, sc)
		return nil
	case *includeStmt:
		return st.execInclude(s, sc, out)
	case *importStmt:
		return st.execImport(s, sc)
	}
	return fmt.Errorf("unsupported statement %s", block.Name)
}

func (st *state) execSet(s *setStmt, sc *scope) error {
	var v any
	if s.body != nil {
		var parts []any
		if err := st.exec(s.body.Nodes, sc, &parts); err != nil {
			return err
		}
		text, err := join(parts)
		if err != nil {
			return err
		}
		v = text
	} else {
		var err error
		if v, err = st.eval(s.expr, sc); err != nil {
			return err
		}
	}
	if s.attr == "" {
		sc.names[s.name] = v
		return nil
	}
	target, err := st.lookup(s.name, sc)
	if err != nil {
		return err
	}
	ns, ok := target.(*namespace)
	if !ok {
		return fmt.Errorf("cannot assign attribute on non-namespace object '%s'", s.name)
	}
	ns.attrs[s.attr] = v
	return nil
}

func (st *state) execFor(s *controlStructures.ForControlStructure, sc *scope, out *[]any) error {
	if s.Recursive {
		return errors.New("recursive for loops are not supported")
	}
	obj, err := st.eval(s.ObjectEvaluator, sc)
	if err != nil {
		return err
	}
	items, err := iterate(obj)
	if err != nil {
		return err
	}
	bind := func(inner *scope, item any) error {
		if s.Value == "" {
			inner.names[s.Key] = item
			return nil
		}
		pair, ok := item.([]any)
		if !ok || len(pair) != 2 {
			return fmt.Errorf("cannot unpack %s into %s, %s", pyStrLenient(item), s.Key, s.Value)
		}
		inner.names[s.Key], inner.names[s.Value] = pair[0], pair[1]
		return nil
	}
	if s.IfCondition != nil {
		var kept []any
		for _, item := range items {
			inner := sc.child()
			if err := bind(inner, item); err != nil {
				return err
			}
			v, err := st.eval(s.IfCondition, inner)
			if err != nil {
				return err
			}
			t, err := truthy(v)
			if err != nil {
				return err
			}
			if t {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		if s.EmptyWrapper != nil {
			return st.exec(s.EmptyWrapper.Nodes, sc.child(), out)
		}
		return nil
	}
	changed := &loopChanged{}
	for i, item := range items {
		inner := sc.child()
		if err := bind(inner, item); err != nil {
			return err
		}
		inner.names["loop"] = &loopInfo{index0: i, length: len(items), items: items, changed: changed}
		if err := st.exec(s.BodyWrapper.Nodes, inner, out); err != nil {
			return err
		}
	}
	return nil
}

// loopInfo is Jinja's loop variable inside {% for %}.
type loopInfo struct {
	index0, length int
	items          []any
	changed        *loopChanged
}

// loopChanged remembers loop.changed()'s last argument across iterations.
type loopChanged struct {
	last any
	set  bool
}

func (l *loopInfo) attr(name string) (any, bool) {
	switch name {
	case "index":
		return l.index0 + 1, true
	case "index0":
		return l.index0, true
	case "revindex":
		return l.length - l.index0, true
	case "revindex0":
		return l.length - l.index0 - 1, true
	case "first":
		return l.index0 == 0, true
	case "last":
		return l.index0 == l.length-1, true
	case "length":
		return l.length, true
	case "depth":
		return 1, true
	case "depth0":
		return 0, true
	case "previtem":
		if l.index0 == 0 {
			return &undefined{msg: "there is no previous item"}, true
		}
		return l.items[l.index0-1], true
	case "nextitem":
		if l.index0 == l.length-1 {
			return &undefined{msg: "there is no next item"}, true
		}
		return l.items[l.index0+1], true
	case "cycle":
		return &function{name: "cycle", call: func(_ *state, args []any, _ map[string]any) (any, error) {
			if len(args) == 0 {
				return nil, errors.New("no items for cycling given")
			}
			return args[l.index0%len(args)], nil
		}}, true
	case "changed":
		return &function{name: "changed", call: func(_ *state, args []any, _ map[string]any) (any, error) {
			cur := any(args)
			if l.changed.set && equal(l.changed.last, cur) {
				return false, nil
			}
			l.changed.last, l.changed.set = cur, true
			return true, nil
		}}, true
	}
	return nil, false
}
