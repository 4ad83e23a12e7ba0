package template

import (
	"fmt"

	"github.com/nikolalohinski/gonja/v2/tokens"
)

// gonja's parser reads the right operand of "in" as a single variable or literal, so
// "a in b + c" fails and "a in b | union(c)" filters the test's result. Jinja parses that
// operand as an arithmetic expression with its filters and tests (parse_math1), up to the
// next comparison, boolean operator or the end of the enclosing construct.
// groupInOperands puts parentheses around each such operand so that gonja reads it whole.
func groupInOperands(toks []*tokens.Token) []*tokens.Token {
	var out []*tokens.Token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		out = append(out, t)
		if t.Type != tokens.In {
			continue
		}
		end := operandEnd(toks, i+1)
		if end <= i+1 {
			continue
		}
		out = append(out, &tokens.Token{Type: tokens.LeftParenthesis, Val: "(", Pos: t.Pos, Line: t.Line, Col: t.Col})
		out = append(out, groupInOperands(toks[i+1:end])...)
		last := toks[end-1]
		out = append(out, &tokens.Token{Type: tokens.RightParenthesis, Val: ")", Pos: last.Pos, Line: last.Line, Col: last.Col})
		i = end - 1
	}
	return out
}

// operandEnd returns the index after the operand that starts at toks[start].
func operandEnd(toks []*tokens.Token, start int) int {
	depth := 0
	end := start
	for j := start; j < len(toks); j++ {
		t := toks[j]
		switch t.Type {
		case tokens.LeftParenthesis, tokens.LeftBracket, tokens.LeftBrace:
			depth++
		case tokens.RightParenthesis, tokens.RightBracket, tokens.RightBrace:
			if depth == 0 {
				return end
			}
			depth--
		case tokens.Equals, tokens.Ne, tokens.GreaterThan, tokens.GreaterThanOrEqual, tokens.LowerThan,
			tokens.LowerThanOrEqual, tokens.In, tokens.Not, tokens.And, tokens.Or, tokens.Comma, tokens.Colon,
			tokens.Assign, tokens.VariableEnd, tokens.BlockEnd, tokens.EOF:
			if depth == 0 {
				return end
			}
		case tokens.Name:
			if depth == 0 && (t.Val == "if" || t.Val == "else" || t.Val == "recursive") {
				return end
			}
		}
		if t.Type != tokens.Whitespace {
			end = j + 1
		}
	}
	return end
}

// splatMarker names the call markSplats wraps a "*args" argument in; evalArgs spreads its
// items among the positional arguments.
const splatMarker = "__splat__"

// markSplats rewrites Python's "f(a, *rest)", which gonja cannot parse, as
// "f(a, __splat__(rest))": a "*" right after "(" or "," is never multiplication.
func markSplats(toks []*tokens.Token) []*tokens.Token {
	var out []*tokens.Token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		prev := lastSolid(out)
		if t.Type != tokens.Multiply || prev == nil || (prev.Type != tokens.Comma && prev.Type != tokens.LeftParenthesis) {
			out = append(out, t)
			continue
		}
		end := operandEnd(toks, i+1)
		if end <= i+1 {
			out = append(out, t)
			continue
		}
		out = append(out, &tokens.Token{Type: tokens.Name, Val: splatMarker, Pos: t.Pos, Line: t.Line, Col: t.Col},
			&tokens.Token{Type: tokens.LeftParenthesis, Val: "(", Pos: t.Pos, Line: t.Line, Col: t.Col})
		out = append(out, markSplats(toks[i+1:end])...)
		last := toks[end-1]
		out = append(out, &tokens.Token{Type: tokens.RightParenthesis, Val: ")", Pos: last.Pos, Line: last.Line, Col: last.Col})
		i = end - 1
	}
	return out
}

// lastSolid is the last token of toks that is not whitespace, or nil.
func lastSolid(toks []*tokens.Token) *tokens.Token {
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].Type != tokens.Whitespace {
			return toks[i]
		}
	}
	return nil
}

// splat is the value of __splat__(x): x's items, to spread among a call's arguments.
type splat []any

func init() {
	globals[splatMarker] = &function{name: "*", call: func(_ *state, args []any, _ map[string]any) (any, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("* takes one iterable")
		}
		items, err := iterate(args[0])
		if err != nil {
			return nil, fmt.Errorf("Value after * must be an iterable, not %s", typeName(args[0]))
		}
		return splat(items), nil
	}}
}
