package template

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// FileOptions are the template module's settings for rendering one template file.
type FileOptions struct {
	// Dirs are where {% include %}, {% import %} and {% from %} look for templates, first
	// match wins.
	Dirs []string
	// TrimBlocks and LstripBlocks are Jinja's block whitespace control (nil: Ansible's
	// defaults, true and false).
	TrimBlocks, LstripBlocks *bool
	// Delimiters replace Jinja's {% %}, {{ }} and {# #}, by the names of Jinja's settings
	// (block_start_string, block_end_string, variable_start_string, variable_end_string,
	// comment_start_string, comment_end_string); "" keeps the default.
	Delimiters map[string]string
	// NewlineSequence replaces the line breaks of the template's text ("" means "\n").
	NewlineSequence string
	// Path is the template as the task names it, FullPath where it was found, and Dest where
	// the result goes ("" for none). With a FullPath, RenderFile adds FileVars over the vars.
	Path, FullPath, Dest string
	// Managed is the ansible_managed setting, before FileVars expands it.
	Managed string
}

// fileContext is what rendering a template file adds to a state.
type fileContext struct {
	dirs    []string
	d       dialect
	newline string
	depth   int // nested includes, against include cycles
}

// maxIncludeDepth bounds nested includes and imports.
const maxIncludeDepth = 32

// jinjaOverride starts a template's first line that changes its environment
// ("#jinja2: trim_blocks: False, lstrip_blocks: True"), as Ansible's JINJA2_OVERRIDE.
const jinjaOverride = "#jinja2:"

// RenderFile renders the text of a template file as the template module does (see
// RenderString), with o's settings, the #jinja2: header's overrides, and include, import,
// from and macro.
func (e *Engine) RenderFile(text string, vars map[string]any, o FileOptions) (string, error) {
	fc := &fileContext{dirs: o.Dirs, d: ansibleDialect, newline: o.NewlineSequence}
	if o.TrimBlocks != nil {
		fc.d.trimBlocks = *o.TrimBlocks
	}
	if o.LstripBlocks != nil {
		fc.d.lstripBlocks = *o.LstripBlocks
	}
	for key, val := range o.Delimiters {
		if val != "" {
			if err := fc.setDelimiter(key, val); err != nil {
				return "", err
			}
		}
	}
	if strings.HasPrefix(text, jinjaOverride) {
		line, rest, _ := strings.Cut(text, "\n")
		if err := fc.override(strings.TrimPrefix(line, jinjaOverride)); err != nil {
			return "", err
		}
		text = rest
	}
	if fc.newline == "\n" {
		fc.newline = ""
	}
	prog := e.programWith(text, fileStrings, fc.d)
	if prog.err != nil {
		return "", prog.err
	}
	if o.FullPath != "" {
		fv, err := FileVars(o.Path, o.FullPath, o.Dest, o.Managed)
		if err != nil {
			return "", err
		}
		vars = maps.Clone(vars)
		maps.Copy(vars, fv)
	}
	st := e.newState(vars)
	st.file = fc
	parts, err := st.run(prog)
	if err != nil {
		return "", st.wrap(err, text, false)
	}
	out, err := join(parts)
	if err != nil {
		return "", st.wrap(err, text, false)
	}
	nl := fc.newline
	if nl == "" {
		nl = "\n"
	}
	return keepTrailingNewlines(text, out, nl), nil
}

// override applies the settings of a #jinja2: header: key: value pairs, values Python
// literals.
func (fc *fileContext) override(spec string) error {
	for _, pair := range strings.Split(spec, ",") {
		key, val, ok := strings.Cut(pair, ":")
		if !ok {
			return fmt.Errorf("failed to parse jinja2 override '%s'. Did you use something different from colon as key-value separator?", strings.TrimSpace(pair))
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		v, ok := literalEval(val)
		if !ok {
			return fmt.Errorf("invalid value %s for %s in the #jinja2: header", val, key)
		}
		switch key {
		case "trim_blocks", "lstrip_blocks":
			b, isBool := v.(bool)
			if !isBool {
				return fmt.Errorf("%s in the #jinja2: header must be True or False, got %s", key, val)
			}
			if key == "trim_blocks" {
				fc.d.trimBlocks = b
			} else {
				fc.d.lstripBlocks = b
			}
		case "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
			"comment_start_string", "comment_end_string":
			s, isStr := v.(string)
			if !isStr {
				return fmt.Errorf("%s in the #jinja2: header must be a string, got %s", key, val)
			}
			if err := fc.setDelimiter(key, s); err != nil {
				return err
			}
		case "line_statement_prefix", "line_comment_prefix":
			s, isStr := v.(string)
			if !isStr && v != nil {
				return fmt.Errorf("%s in the #jinja2: header must be a string or None, got %s", key, val)
			}
			if key == "line_statement_prefix" {
				fc.d.lineStatement = s
			} else {
				fc.d.lineComment = s
			}
		case "newline_sequence":
			s, isStr := v.(string)
			if !isStr {
				return fmt.Errorf("newline_sequence in the #jinja2: header must be a string, got %s", val)
			}
			fc.newline = s
		default:
			return fmt.Errorf("tally does not support %s in the #jinja2: header", key)
		}
	}
	return nil
}

// setDelimiter sets the delimiter that key, a Jinja environment setting, names.
func (fc *fileContext) setDelimiter(key, val string) error {
	to, ok := map[string]*string{"block_start_string": &fc.d.blockStart, "block_end_string": &fc.d.blockEnd,
		"variable_start_string": &fc.d.varStart, "variable_end_string": &fc.d.varEnd,
		"comment_start_string": &fc.d.commentStart, "comment_end_string": &fc.d.commentEnd}[key]
	switch {
	case !ok:
		return fmt.Errorf("%s is not a Jinja delimiter setting", key)
	case val == "":
		return fmt.Errorf("%s must not be empty", key)
	}
	*to = val
	return nil
}

// includeStmt is {% include name [ignore missing] [with|without context] %}.
type includeStmt struct {
	location      *tokens.Token
	name          nodes.Expression
	ignoreMissing bool
}

func (s *includeStmt) Position() *tokens.Token { return s.location }
func (s *includeStmt) String() string          { return "include" }

// importStmt is {% import name as alias %} and {% from name import a [as b], ... %}.
type importStmt struct {
	location *tokens.Token
	name     nodes.Expression
	alias    string      // import: the module's name
	names    [][2]string // from: (name, alias) pairs
}

func (s *importStmt) Position() *tokens.Token { return s.location }
func (s *importStmt) String() string          { return "import" }

// skipContext reads an optional "with context" or "without context" (Ansible's templates
// always see their variables here).
func skipContext(args *parser.Parser) {
	if args.MatchName("with", "without") != nil && args.MatchName("context") == nil {
		args.Stream().Backup()
	}
}

func parseInclude(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &includeStmt{location: p.Current()}
	var err error
	if s.name, err = args.ParseExpression(); err != nil {
		return nil, err
	}
	if args.MatchName("ignore") != nil {
		if args.MatchName("missing") == nil {
			return nil, args.Error("expected 'missing' after 'ignore'", args.Current())
		}
		s.ignoreMissing = true
	}
	skipContext(args)
	if !args.End() {
		return nil, args.Error("malformed include tag", args.Current())
	}
	return s, nil
}

func parseImport(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &importStmt{location: p.Current()}
	var err error
	if s.name, err = args.ParseExpression(); err != nil {
		return nil, err
	}
	alias := args.MatchName("as")
	name := args.Match(tokens.Name)
	if alias == nil || name == nil {
		return nil, args.Error("expected 'as' and a name", args.Current())
	}
	s.alias = name.Val
	skipContext(args)
	if !args.End() {
		return nil, args.Error("malformed import tag", args.Current())
	}
	return s, nil
}

func parseFrom(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	s := &importStmt{location: p.Current()}
	var err error
	if s.name, err = args.ParseExpression(); err != nil {
		return nil, err
	}
	if args.MatchName("import") == nil {
		return nil, args.Error("expected 'import'", args.Current())
	}
	for !args.End() {
		if args.CurrentName("with", "without") != nil {
			skipContext(args)
			continue
		}
		name := args.Match(tokens.Name)
		if name == nil {
			return nil, args.Error("expected a name to import", args.Current())
		}
		pair := [2]string{name.Val, name.Val}
		if args.MatchName("as") != nil {
			alias := args.Match(tokens.Name)
			if alias == nil {
				return nil, args.Error("expected a name after 'as'", args.Current())
			}
			pair[1] = alias.Val
		}
		s.names = append(s.names, pair)
		if args.Match(tokens.Comma) == nil && !args.End() && args.CurrentName("with", "without") == nil {
			return nil, args.Error("expected ','", args.Current())
		}
	}
	if len(s.names) == 0 {
		return nil, args.Error("expected a name to import", args.Current())
	}
	return s, nil
}

// load reads and compiles the template named by expr, from the file's directories.
func (st *state) load(expr nodes.Expression, sc *scope, what string) (*program, string, error) {
	if st.file == nil {
		return nil, "", fmt.Errorf("%s is only supported in template files", what)
	}
	if st.file.depth >= maxIncludeDepth {
		return nil, "", fmt.Errorf("%s nested more than %d levels deep", what, maxIncludeDepth)
	}
	v, err := st.eval(expr, sc)
	if err != nil {
		return nil, "", err
	}
	name, err := text(v, what)
	if err != nil {
		return nil, "", err
	}
	for _, dir := range st.file.dirs {
		path := name
		if !filepath.IsAbs(name) {
			path = filepath.Join(dir, name)
		}
		data, err := os.ReadFile(path)
		if err == nil {
			prog := st.e.programWith(string(data), fileStrings, st.file.d)
			return prog, name, prog.err
		}
	}
	return nil, name, &templateNotFound{name: name}
}

type templateNotFound struct{ name string }

func (e *templateNotFound) Error() string { return "TemplateNotFound: " + e.name }

// nested runs fn one include level deeper.
func (st *state) nested(fn func() error) error {
	st.file.depth++
	defer func() { st.file.depth-- }()
	return fn()
}

func (st *state) execInclude(s *includeStmt, sc *scope, out *[]any) error {
	prog, _, err := st.load(s.name, sc, "include")
	var nf *templateNotFound
	if errors.As(err, &nf) && s.ignoreMissing {
		return nil
	}
	if err != nil {
		return err
	}
	return st.nested(func() error { return st.exec(prog.body, sc.child(), out) })
}

// execImport runs the imported template in a scope of its own and binds its macros and
// top-level variables: all of them as a namespace (import), or the names asked for (from).
func (st *state) execImport(s *importStmt, sc *scope) error {
	prog, name, err := st.load(s.name, sc, "import")
	if err != nil {
		return err
	}
	mod := &scope{names: map[string]any{}}
	var discard []any
	if err := st.nested(func() error { return st.exec(prog.body, mod, &discard) }); err != nil {
		return err
	}
	if s.alias != "" {
		sc.names[s.alias] = &namespace{attrs: mod.names}
		return nil
	}
	for _, pair := range s.names {
		v, ok := mod.names[pair[0]]
		if !ok {
			v = &undefined{msg: fmt.Sprintf("the template %s (imported on line %d) does not export the requested name '%s'",
				strconv.Quote(name), s.location.Line, pair[0]), name: pair[0]}
		}
		sc.names[pair[1]] = v
	}
	return nil
}

// defineMacro binds a {% macro %} in sc: a function that renders its body in a scope
// below sc holding its arguments, and returns the text.
func (st *state) defineMacro(m *nodes.Macro, sc *scope) {
	sc.names[m.Name] = &function{name: m.Name, call: func(st *state, args []any, kw map[string]any) (any, error) {
		inner := sc.child()
		if len(args) > len(m.Kwargs) && m.VarArgsName == "" {
			return nil, fmt.Errorf("macro '%s' takes not more than %d argument(s)", m.Name, len(m.Kwargs))
		}
		for i, p := range m.Kwargs {
			name := p.Key.(*nodes.String).Val
			v, given := kw[name]
			if given {
				delete(kw, name)
			}
			switch {
			case i < len(args):
				if given {
					return nil, fmt.Errorf("macro '%s' got multiple values for argument '%s'", m.Name, name)
				}
				v = args[i]
			case given:
			case p.Value == nil:
				v = undefinedName(name)
			default:
				if _, isErr := p.Value.(*nodes.Error); isErr {
					v = &undefined{msg: fmt.Sprintf("parameter '%s' was not provided", name), name: name}
					break
				}
				var err error
				if v, err = st.eval(p.Value, inner); err != nil {
					return nil, err
				}
			}
			inner.names[name] = v
		}
		if m.VarArgsName != "" {
			rest := []any{}
			if len(args) > len(m.Kwargs) {
				rest = args[len(m.Kwargs):]
			}
			inner.names[m.VarArgsName] = rest
		}
		if m.KwArgsName != "" {
			inner.names[m.KwArgsName] = kw
		} else if len(kw) > 0 {
			for k := range kw {
				return nil, fmt.Errorf("macro '%s' takes no keyword argument '%s'", m.Name, k)
			}
		}
		var parts []any
		if err := st.exec(m.Wrapper.Nodes, inner, &parts); err != nil {
			return nil, err
		}
		return join(parts)
	}}
}
