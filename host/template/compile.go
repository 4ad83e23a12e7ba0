package template

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
	"github.com/tallyrun/tally/internal/pytext"
)

// SyntaxError reports a template that does not compile: it does not parse, or names a filter
// or test that does not exist.
type SyntaxError struct {
	Template string // the template text
	Msg      string // the parser's message
}

// Error is Ansible's message, which repeats the parser's after its own.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("template error while templating string: %s. String: %s. %s", e.Msg, e.Template, e.Msg)
}

// LoadError is a filter or test name that Ansible's plugin loader cannot load. Written in a
// template, the name fails it when Jinja compiles it (compileTime makes it a SyntaxError);
// named by select, reject, selectattr, rejectattr or map, it is Jinja's TemplateSyntaxError
// raised while the template runs.
type LoadError struct{ Name string }

func (e *LoadError) Error() string {
	reason := e.Name
	if !pytext.IsIdentifier(e.Name) {
		reason = "invalid plugin name: ansible.builtin." + e.Name
	}
	return fmt.Sprintf("Could not load \"%s\": %s", e.Name, pytext.Repr(reason))
}

// compileTime turns a LoadError of a filter or test written in the template into the
// SyntaxError Jinja raises when it compiles the template; wrap adds the template's text.
func compileTime(err error) error {
	if le, ok := err.(*LoadError); ok {
		return &SyntaxError{Msg: le.Error()}
	}
	return err
}

// program is a parsed template, shared read-only by concurrent renders.
type program struct {
	body []nodes.Node
	err  error // a *SyntaxError, cached like a success
}

// stringMode says how backslashes in string literals are read.
type stringMode int

const (
	// playbookStrings keeps backslashes in literals inside {{ }} as written,
	// as Ansible's escape_backslashes does for playbook values, so that
	// regex_replace('\d', ...) means what it says.
	playbookStrings stringMode = iota
	// fileStrings reads Python escapes everywhere, as the template module does.
	fileStrings
)

// dialect is a Jinja environment's syntax: its delimiters, line statement and line comment
// prefixes ("" for none), and block whitespace control.
type dialect struct {
	blockStart, blockEnd, varStart, varEnd, commentStart, commentEnd string
	lineStatement, lineComment                                       string
	trimBlocks, lstripBlocks                                         bool
}

// ansibleDialect mirrors Ansible's Jinja environment: Jinja's delimiters, trim_blocks on,
// lstrip_blocks off; Templar re-adds trailing newlines itself. The template module and
// lookup may change all of them.
var ansibleDialect = dialect{blockStart: "{%", blockEnd: "%}", varStart: "{{", varEnd: "}}",
	commentStart: "{#", commentEnd: "#}", trimBlocks: true}

// config is gonja's configuration for d.
func (d dialect) config() *config.Config {
	cfg := config.New()
	cfg.BlockStartString, cfg.BlockEndString = d.blockStart, d.blockEnd
	cfg.VariableStartString, cfg.VariableEndString = d.varStart, d.varEnd
	cfg.CommentStartString, cfg.CommentEndString = d.commentStart, d.commentEnd
	cfg.LineStatementPrefix, cfg.LineCommentPrefix = d.lineStatement, d.lineComment
	cfg.TrimBlocks, cfg.LeftStripBlocks = d.trimBlocks, d.lstripBlocks
	return cfg
}

var noLoader = loaders.MustNewMemoryLoader(nil)

// statements are the {% %} tags the engine renders; tags not listed here
// (include, macro, ...) are syntax errors.
type statements map[string]parser.ControlStructureParser

func (s statements) Get(name string) (parser.ControlStructureParser, bool) {
	p, ok := s[name]
	return p, ok
}

var knownStatements = func() statements {
	ifParser, _ := controlStructures.All.Get("if")
	forParser, _ := controlStructures.All.Get("for")
	macroParser, _ := controlStructures.All.Get("macro")
	return statements{"if": ifParser, "for": forParser, "set": parseSet, "raw": parseRaw, "macro": macroParser,
		"include": parseInclude, "import": parseImport, "from": parseFrom}
}()

// compile lexes and parses src.
func compile(src string, mode stringMode, d dialect) (prog *program) {
	cfg := d.config()
	fail := func(msg string) *program {
		return &program{err: &SyntaxError{Template: src, Msg: msg}}
	}
	defer func() {
		// gonja's parser can read past the end of malformed input.
		if r := recover(); r != nil {
			prog = fail(fmt.Sprintf("malformed template (%v)", r))
		}
	}()
	stream := tokens.LexAll(prepareSource(src, d), cfg)
	var toks []*tokens.Token
	inVar := false
	for {
		t := stream.Current()
		switch t.Type {
		case tokens.Error:
			return fail("unexpected end of template or unterminated construct near " + strconv.Quote(t.Val))
		case tokens.VariableBegin:
			inVar = true
		case tokens.VariableEnd:
			inVar = false
		case tokens.String:
			t.Val = literal(t.Val, mode == fileStrings || !inVar)
			// Adjacent literals concatenate, as in Python.
			if n := len(toks); n > 0 && toks[n-1].Type == tokens.String {
				toks[n-1].Val += t.Val
				stream.Next()
				continue
			}
		}
		if t.Type == tokens.LeftParenthesis && isTestName(toks) {
			// "x is test(a, k=v)": gonja reads test arguments as one
			// literal, so make them a call it can parse (see testArgs).
			toks = append(toks, &tokens.Token{Type: tokens.Name, Val: testArgsMarker, Pos: t.Pos, Line: t.Line, Col: t.Col})
		}
		toks = append(toks, t)
		if t.Type == tokens.EOF {
			break
		}
		stream.Next()
	}
	p := parser.NewParser("template", tokens.NewStream(groupInOperands(markSplats(toks))), cfg, noLoader, knownStatements)
	root, err := p.Parse()
	if err != nil {
		return fail(err.Error())
	}
	return &program{body: root.Nodes}
}

// testArgsMarker names the call compile wraps test arguments in.
const testArgsMarker = "__test_args__"

// isTestName reports whether toks end with "is [not] name".
func isTestName(toks []*tokens.Token) bool {
	n := len(toks)
	if n < 2 || toks[n-1].Type != tokens.Name {
		return false
	}
	if toks[n-2].Type == tokens.Not {
		n--
	}
	return n >= 2 && toks[n-2].Type == tokens.Is
}

// literal turns the lexer's text of a string literal into what gonja's
// parser must see to produce the intended value: gonja re-reads Go escapes,
// so every backslash is doubled to arrive as a single one.
func literal(raw string, escapes bool) string {
	if !strings.Contains(raw, `\`) && !strings.Contains(raw, escapedBackslash) {
		return raw
	}
	raw = strings.ReplaceAll(raw, escapedBackslash, `\\`)
	if escapes {
		raw = pytext.Unescape(raw, false)
	}
	return strings.ReplaceAll(raw, `\`, `\\`)
}

// escapedBackslash stands in for "\\" inside string literals while lexing:
// gonja's lexer takes the quote in '\\' for an escaped one.
const escapedBackslash = "\U0010FFFD"

// prepareSource works around gonja's lexer inside the variable and block tags of d: line
// breaks outside string literals become spaces (Jinja treats them as whitespace, gonja does
// not) and escaped backslashes in literals are replaced by escapedBackslash. Text, comments
// and raw blocks are kept.
func prepareSource(src string, d dialect) string {
	if !strings.ContainsAny(src, "\n\r\\") {
		return src
	}
	starts := d.commentStart[:1] + d.varStart[:1] + d.blockStart[:1]
	var b strings.Builder
	b.Grow(len(src))
	for i := 0; i < len(src); {
		open := strings.IndexAny(src[i:], starts)
		if open < 0 {
			b.WriteString(src[i:])
			break
		}
		open += i
		b.WriteString(src[i:open])
		rest := src[open:]
		switch d.startAt(rest) {
		case commentTag:
			end := strings.Index(rest[len(d.commentStart):], d.commentEnd)
			if end < 0 {
				b.WriteString(rest)
				return b.String()
			}
			end += len(d.commentStart) + len(d.commentEnd)
			b.WriteString(rest[:end])
			i = open + end
		case varTag:
			i = prepareTag(&b, src, open, d.varStart, d.varEnd)
		case blockTag:
			i = prepareTag(&b, src, open, d.blockStart, d.blockEnd)
			if isRawTag(src[open:i], d) {
				end := strings.Index(src[i:], "endraw")
				if end < 0 {
					b.WriteString(src[i:])
					return b.String()
				}
				b.WriteString(src[i : i+end])
				i += end
			}
		default:
			b.WriteByte(src[open])
			i = open + 1
		}
	}
	return b.String()
}

type tagKind int

const (
	noTag tagKind = iota
	commentTag
	varTag
	blockTag
)

// startAt says which tag of d starts s; as in Jinja's lexer, the longest start string wins.
func (d dialect) startAt(s string) tagKind {
	kind, n := noTag, 0
	for _, t := range [...]struct {
		start string
		kind  tagKind
	}{{d.commentStart, commentTag}, {d.varStart, varTag}, {d.blockStart, blockTag}} {
		if len(t.start) > n && strings.HasPrefix(s, t.start) {
			kind, n = t.kind, len(t.start)
		}
	}
	return kind
}

// prepareTag copies the tag from start at open to b, as prepareSource describes, and returns
// the index after it. The tag ends at end found outside brackets and string literals.
func prepareTag(b *strings.Builder, src string, open int, start, end string) int {
	b.WriteString(start)
	depth := 0
	var quote byte
	for i := open + len(start); i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			switch {
			case c == '\\' && i+1 < len(src) && src[i+1] == '\\':
				b.WriteString(escapedBackslash)
				i++
				continue
			case c == '\\' && i+1 < len(src):
				b.WriteByte(c)
				i++
				c = src[i]
			case c == quote:
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '\n' || c == '\r':
			c = ' '
		case c == '(' || c == '[' || c == '{':
			depth++
		case depth > 0 && (c == ')' || c == ']' || c == '}'):
			depth--
		case strings.HasPrefix(src[i:], end):
			b.WriteString(end)
			return i + len(end)
		}
		b.WriteByte(c)
	}
	return len(src)
}

// isRawTag reports whether tag, a block tag of d, is {% raw %}.
func isRawTag(tag string, d dialect) bool {
	tag = strings.TrimSuffix(strings.TrimPrefix(tag, d.blockStart), d.blockEnd)
	return strings.TrimSpace(strings.Trim(tag, "-+")) == "raw"
}

// setStmt is {% set name = expr %}, {% set ns.attr = expr %} or the block
// form {% set name %}...{% endset %}.
type setStmt struct {
	location *tokens.Token
	name     string
	attr     string // set on a namespace
	expr     nodes.Expression
	body     *nodes.Wrapper
}

func (s *setStmt) Position() *tokens.Token { return s.location }
func (s *setStmt) String() string          { return "set " + s.name }

func parseSet(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	name := args.Match(tokens.Name)
	if name == nil {
		return nil, args.Error("expected a variable name after 'set'", args.Current())
	}
	st := &setStmt{location: name, name: name.Val}
	if args.Match(tokens.Dot) != nil {
		attr := args.Match(tokens.Name)
		if attr == nil {
			return nil, args.Error("expected an attribute name", args.Current())
		}
		st.attr = attr.Val
	}
	if args.Match(tokens.Assign) == nil {
		if !args.End() {
			return nil, args.Error("expected '=' or the end of the tag", args.Current())
		}
		body, end, err := p.WrapUntil("endset")
		if err != nil {
			return nil, err
		}
		if !end.End() {
			return nil, end.Error("endset takes no arguments", end.Current())
		}
		st.body = body
		return st, nil
	}
	expr, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	cond, alt, err := args.ParseCondition()
	if err != nil {
		return nil, err
	}
	if cond != nil {
		expr = &condExpr{expr: expr, cond: cond, alt: alt}
	}
	if !args.End() {
		return nil, args.Error("unexpected tokens at the end of 'set'", args.Current())
	}
	st.expr = expr
	return st, nil
}

// rawStmt is {% raw %}...{% endraw %}.
type rawStmt struct {
	location *tokens.Token
	text     string
}

func (r *rawStmt) Position() *tokens.Token { return r.location }
func (r *rawStmt) String() string          { return "raw" }

func parseRaw(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	st := &rawStmt{location: p.Current()}
	body, _, err := p.WrapUntil("endraw")
	if err != nil {
		return nil, err
	}
	for _, n := range body.Nodes {
		d, ok := n.(*nodes.Data)
		if !ok {
			return nil, errors.New("unexpected content in raw block")
		}
		st.text += d.Data.Val
	}
	return st, nil
}

// condExpr is Jinja's "expr if cond else alt"; alt may be nil.
type condExpr struct {
	expr, cond, alt nodes.Expression
}

func (c *condExpr) Position() *tokens.Token { return c.expr.Position() }
func (c *condExpr) String() string          { return fmt.Sprintf("%s if %s", c.expr, c.cond) }
