package template

import "github.com/nikolalohinski/gonja/v2/tokens"

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
