package template

import (
	"strconv"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

// LiteralEval is Python's ast.literal_eval (see literalEval), for the modules that apply it
// to their arguments (a role argument of type dict written as a Python dict).
func LiteralEval(s string) (any, bool) { return literalEval(s) }

// literalEval is Python's ast.literal_eval as Ansible applies it to
// rendered text (JSON's true, false and null are accepted too). It handles
// strings, numbers, True/False/None, lists, tuples (as lists) and dicts;
// ok is false when s is not exactly one such literal.
func literalEval(s string) (any, bool) {
	p := &litParser{s: s}
	v, ok := p.value()
	if !ok {
		return nil, false
	}
	p.space()
	return v, p.i == len(p.s)
}

type litParser struct {
	s string
	i int
}

func (p *litParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r\f\v", p.s[p.i]) >= 0 {
		p.i++
	}
}

// eat consumes c after optional whitespace.
func (p *litParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *litParser) value() (any, bool) {
	p.space()
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '[':
		p.i++
		return p.items(']')
	case c == '(':
		p.i++
		return p.paren()
	case c == '{':
		p.i++
		return p.dict()
	case c == '\'' || c == '"' || c == 'u' && p.i+1 < len(p.s) && (p.s[p.i+1] == '\'' || p.s[p.i+1] == '"'):
		return p.strings()
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		return p.number()
	}
	start := p.i
	for p.i < len(p.s) && (isWordByte(p.s[p.i])) {
		p.i++
	}
	switch p.s[start:p.i] {
	case "True", "true":
		return true, true
	case "False", "false":
		return false, true
	case "None", "null":
		return nil, true
	}
	return nil, false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// items parses comma-separated values up to end (a trailing comma allowed).
func (p *litParser) items(end byte) ([]any, bool) {
	out := []any{}
	for {
		if p.eat(end) {
			return out, true
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if !p.eat(',') {
			return out, p.eat(end)
		}
	}
}

// paren parses a tuple, or a parenthesized single value.
func (p *litParser) paren() (any, bool) {
	if p.eat(')') {
		return []any{}, true
	}
	v, ok := p.value()
	if !ok {
		return nil, false
	}
	if p.eat(')') {
		return v, true
	}
	if !p.eat(',') {
		return nil, false
	}
	rest, ok := p.items(')')
	return append([]any{v}, rest...), ok
}

func (p *litParser) dict() (any, bool) {
	out := pytext.NewDict(0)
	for {
		if p.eat('}') {
			return out.Map(), true
		}
		k, ok := p.value()
		if !ok || !p.eat(':') {
			return nil, false
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		if _, err := py.Str(k); err != nil {
			return nil, false
		}
		out.Set(k, v)
		if !p.eat(',') {
			return out.Map(), p.eat('}')
		}
	}
}

// strings parses one or more adjacent string literals.
func (p *litParser) strings() (any, bool) {
	var b strings.Builder
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == 'u' {
			p.i++
		}
		if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
			return nil, false
		}
		quote := p.s[p.i]
		start := p.i + 1
		j := start
		for ; j < len(p.s) && p.s[j] != quote; j++ {
			if p.s[j] == '\\' {
				j++
			} else if p.s[j] == '\n' {
				return nil, false
			}
		}
		if j >= len(p.s) {
			return nil, false
		}
		b.WriteString(pytext.Unescape(p.s[start:j], false))
		p.i = j + 1
		save := p.i
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' && p.s[p.i] != 'u' {
			p.i = save
			return b.String(), true
		}
	}
}

func (p *litParser) number() (any, bool) {
	start := p.i
	if p.s[p.i] == '-' || p.s[p.i] == '+' {
		p.i++
		p.space()
	}
	numStart := p.i
	for p.i < len(p.s) && (isWordByte(p.s[p.i]) || p.s[p.i] == '.' ||
		(p.s[p.i] == '-' || p.s[p.i] == '+') && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E')) {
		p.i++
	}
	text := strings.ReplaceAll(p.s[numStart:p.i], "_", "")
	sign := 1
	if p.s[start] == '-' {
		sign = -1
	}
	lower := strings.ToLower(text)
	switch {
	case strings.HasPrefix(lower, "0x"), strings.HasPrefix(lower, "0o"), strings.HasPrefix(lower, "0b"):
		n, err := strconv.ParseInt(lower, 0, 64)
		return sign * int(n), err == nil
	case text != "" && strings.Trim(text, "0123456789") == "":
		if len(text) > 1 && text[0] == '0' && strings.Trim(text, "0") != "" {
			return nil, false // Python rejects leading zeros
		}
		n, err := strconv.ParseInt(text, 10, 64)
		return sign * int(n), err == nil
	case strings.Trim(lower, "0123456789.e+-") != "":
		return nil, false
	}
	f, err := strconv.ParseFloat(text, 64)
	return float64(sign) * f, err == nil
}
