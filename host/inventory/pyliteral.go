package inventory

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tallyrun/tally/internal/pytext"
)

// iniValue is the INI plugin's _parse_value: the value of Python's ast.literal_eval(v) when v
// is a Python literal (number, string, True/False/None, tuple, list, set, dict), v itself
// otherwise. The only error is Python's TypeError for an unhashable dict key or set member,
// which Ansible does not catch.
func iniValue(v string) (any, error) {
	val, err := literalEval(v)
	var te unhashableError
	if errors.As(err, &te) {
		return nil, err
	}
	if err != nil {
		return v, nil
	}
	return plain(val), nil
}

// errNotLiteral stands for the SyntaxError or ValueError of literal_eval: the INI plugin
// keeps the text as it is.
var errNotLiteral = errors.New("not a python literal")

// maxLiteralNesting is CPython's limit on nested brackets (the tokenizer's MAXLEVEL).
const maxLiteralNesting = 200

// maxIntDigits is CPython 3.11's int_max_str_digits: longer decimal literals do not parse.
const maxIntDigits = 4300

// literalEval is Python's ast.literal_eval(s), with dicts as *omap and tuples as pytext.Tuple.
// It fails with errNotLiteral where Python raises SyntaxError or ValueError.
func literalEval(s string) (any, error) {
	// Source with NUL bytes or bytes that are not UTF-8 (surrogate escapes in Python) is
	// refused before parsing.
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return nil, errNotLiteral
	}
	p := &litParser{src: strings.TrimLeft(s, " \t")}
	if err := p.next(); err != nil {
		return nil, err
	}
	n, err := p.exprList(func() bool { return p.tok.kind == tokEOF })
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, errNotLiteral
	}
	return n.convert()
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokNum
	tokStr
	tokName
	tokOp
)

type token struct {
	kind  tokKind
	text  string // name or operator
	value any    // number or string value
	bytes bool   // a bytes literal
	fstr  bool   // an f-string, never a literal
}

type litParser struct {
	src   string
	pos   int
	tok   token
	depth int
}

// next reads the next token into p.tok.
func (p *litParser) next() error {
	for p.pos < len(p.src) && strings.IndexByte(" \t\f", p.src[p.pos]) >= 0 {
		p.pos++
	}
	if p.pos >= len(p.src) || p.src[p.pos] == '#' {
		p.tok = token{kind: tokEOF}
		return nil
	}
	c := p.src[p.pos]
	switch {
	case c >= '0' && c <= '9', c == '.' && p.pos+1 < len(p.src) && isDigit(p.src[p.pos+1]):
		return p.number()
	case strings.HasPrefix(p.src[p.pos:], "..."):
		p.pos += 3
		p.tok = token{kind: tokOp, text: "..."}
		return nil
	case strings.IndexByte("()[]{},:+-", c) >= 0:
		p.pos++
		p.tok = token{kind: tokOp, text: string(c)}
		return nil
	case c == '\'' || c == '"':
		return p.str("")
	}
	start := p.pos
	for p.pos < len(p.src) && isNameByte(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return errNotLiteral
	}
	name := p.src[start:p.pos]
	if p.pos < len(p.src) && (p.src[p.pos] == '\'' || p.src[p.pos] == '"') {
		switch strings.ToLower(name) {
		case "r", "u", "b", "f", "br", "rb", "fr", "rf":
			return p.str(strings.ToLower(name))
		}
	}
	p.tok = token{kind: tokName, text: name}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lower lower-cases an ASCII letter.
func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isNameByte accepts the bytes of an identifier; any non-ASCII byte is taken too, since a
// name other than True, False, None or set fails either way.
func isNameByte(c byte) bool {
	return c == '_' || c >= 0x80 || isDigit(c) || (lower(c) >= 'a' && lower(c) <= 'z')
}

// digitRun consumes digits from set with single underscores between them, as Python's
// tokenizer allows, and returns them without underscores ("" when there are none).
func (p *litParser) digitRun(set string, leadingUnderscore bool) string {
	var b strings.Builder
	for p.pos < len(p.src) {
		i := p.pos
		if p.src[i] == '_' && (b.Len() > 0 || leadingUnderscore) {
			i++
		}
		if i >= len(p.src) || strings.IndexByte(set, lower(p.src[i])) < 0 {
			break
		}
		b.WriteByte(p.src[i])
		p.pos = i + 1
	}
	return b.String()
}

func (p *litParser) number() error {
	const dec = "0123456789"
	if p.src[p.pos] == '0' && p.pos+1 < len(p.src) {
		var base int
		var set string
		switch lower(p.src[p.pos+1]) {
		case 'x':
			base, set = 16, "0123456789abcdef"
		case 'o':
			base, set = 8, "01234567"
		case 'b':
			base, set = 2, "01"
		}
		if base != 0 {
			p.pos += 2
			digits := p.digitRun(set, true)
			if digits == "" {
				return errNotLiteral
			}
			n, _ := new(big.Int).SetString(digits, base)
			p.tok = token{kind: tokNum, value: n}
			return nil
		}
	}
	intPart := p.digitRun(dec, false)
	text := intPart
	isFloat := false
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		isFloat = true
		text += "." + p.digitRun(dec, false)
	}
	if p.pos < len(p.src) && lower(p.src[p.pos]) == 'e' {
		save := p.pos
		p.pos++
		sign := ""
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			sign = p.src[p.pos : p.pos+1]
			p.pos++
		}
		exp := p.digitRun(dec, false)
		if exp == "" {
			p.pos = save // "1e" is a number followed by a name: not a literal either way
		} else {
			isFloat = true
			text += "e" + sign + exp
		}
	}
	if p.pos < len(p.src) && lower(p.src[p.pos]) == 'j' {
		p.pos++
		f, _ := strconv.ParseFloat(text, 64)
		p.tok = token{kind: tokNum, value: complex(0, f)}
		return nil
	}
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return errNotLiteral
		}
		p.tok = token{kind: tokNum, value: f}
		return nil
	}
	// A decimal integer may not have leading zeros, unless it is all zeros.
	if len(intPart) > 1 && intPart[0] == '0' && strings.Trim(intPart, "0") != "" || len(intPart) > maxIntDigits {
		return errNotLiteral
	}
	n, _ := new(big.Int).SetString(intPart, 10)
	p.tok = token{kind: tokNum, value: n}
	return nil
}

// str reads a string literal whose prefix (lower-cased) has been consumed.
func (p *litParser) str(prefix string) error {
	q := p.src[p.pos]
	delim := string(q)
	if strings.HasPrefix(p.src[p.pos:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	p.pos += len(delim)
	start := p.pos
	for {
		if p.pos >= len(p.src) || (len(delim) == 1 && p.src[p.pos] == '\n') {
			return errNotLiteral
		}
		if strings.HasPrefix(p.src[p.pos:], delim) {
			break
		}
		if p.src[p.pos] == '\\' {
			p.pos++
		}
		p.pos++
	}
	body := p.src[start:p.pos]
	p.pos += len(delim)
	raw := strings.Contains(prefix, "r")
	isBytes := strings.Contains(prefix, "b")
	if isBytes {
		for i := 0; i < len(body); i++ {
			if body[i] >= 0x80 {
				return errNotLiteral
			}
		}
	}
	value := body
	if !raw {
		var err error
		if value, err = unescape(body, isBytes); err != nil {
			return err
		}
	}
	p.tok = token{kind: tokStr, value: value, bytes: isBytes, fstr: strings.Contains(prefix, "f")}
	return nil
}

// unescape decodes the backslash escapes of a Python string (or bytes) literal. Unknown
// escapes stay as they are, as in Python. \N{name} is not supported: tally has no Unicode
// name table, so such a value is kept as text.
func unescape(s string, isBytes bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		c := s[i]
		if j := strings.IndexByte(`\'"abfnrtv`, c); j >= 0 {
			b.WriteByte("\\'\"\a\b\f\n\r\t\v"[j])
			continue
		}
		switch {
		case c == '\n':
		case c >= '0' && c <= '7':
			n := 0
			k := i
			for ; k < len(s) && k < i+3 && s[k] >= '0' && s[k] <= '7'; k++ {
				n = n*8 + int(s[k]-'0')
			}
			i = k - 1
			if isBytes {
				b.WriteByte(byte(n))
			} else {
				b.WriteRune(rune(n))
			}
		case c == 'x' || (!isBytes && (c == 'u' || c == 'U')):
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
			if i+1+width > len(s) {
				return "", errNotLiteral
			}
			n, err := strconv.ParseUint(s[i+1:i+1+width], 16, 32)
			if err != nil || n > 0x10ffff {
				return "", errNotLiteral
			}
			i += width
			if isBytes {
				b.WriteByte(byte(n))
			} else {
				b.WriteRune(rune(n))
			}
		case c == 'N' && !isBytes:
			return "", errNotLiteral
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// litNode is a node of the Python expression being evaluated.
type litNode struct {
	kind  string // "const", "tuple", "list", "set", "dict", "unary", "binop", or "other": valid Python, not a literal
	value any    // const: *big.Int, float64, complex128, string, bool, nil, ellipsis
	op    string // unary and binop: "+" or "-"
	elts  []*litNode
	keys  []*litNode // dict
}

// ellipsis is Python's Ellipsis constant (...).
type ellipsis struct{}

// exprList parses expressions separated by commas up to the closing token; a comma makes a
// tuple, as in Python's eval mode.
func (p *litParser) exprList(atEnd func() bool) (*litNode, error) {
	first, err := p.expr()
	if err != nil {
		return nil, err
	}
	if !p.isOp(",") {
		return first, nil
	}
	tuple := &litNode{kind: "tuple", elts: []*litNode{first}}
	for p.isOp(",") {
		if err := p.next(); err != nil {
			return nil, err
		}
		if atEnd() {
			break
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		tuple.elts = append(tuple.elts, e)
	}
	return tuple, nil
}

func (p *litParser) isOp(op string) bool { return p.tok.kind == tokOp && p.tok.text == op }

// expr parses a sum of signed terms: only number + complex sums are literals, but the
// shape is checked when converting, as literal_eval does.
func (p *litParser) expr() (*litNode, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.tok.text
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &litNode{kind: "binop", op: op, elts: []*litNode{left, right}}
	}
	return left, nil
}

// unary parses an optionally signed operand. Only one sign can make a literal, but more
// are valid Python, whose failure comes in evaluation order.
func (p *litParser) unary() (*litNode, error) {
	if !p.isOp("+") && !p.isOp("-") {
		return p.atom()
	}
	op := p.tok.text
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.next(); err != nil {
		return nil, err
	}
	operand, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &litNode{kind: "unary", op: op, elts: []*litNode{operand}}, nil
}

func (p *litParser) enter() error {
	p.depth++
	if p.depth > maxLiteralNesting {
		return errNotLiteral
	}
	return nil
}

func (p *litParser) leave() { p.depth-- }

func (p *litParser) atom() (*litNode, error) {
	t := p.tok
	switch {
	case t.kind == tokNum:
		return &litNode{kind: "const", value: t.value}, p.next()
	case t.kind == tokStr:
		return p.adjacentStrings()
	case t.kind == tokName:
		if err := p.next(); err != nil {
			return nil, err
		}
		switch t.text {
		case "True":
			return &litNode{kind: "const", value: true}, nil
		case "False":
			return &litNode{kind: "const", value: false}, nil
		case "None":
			return &litNode{kind: "const", value: nil}, nil
		}
		if pyKeywords[t.text] {
			return nil, errNotLiteral
		}
		if !p.isOp("(") {
			return &litNode{kind: "other"}, nil
		}
		return p.call(t.text)
	case p.isOp("..."):
		return &litNode{kind: "const", value: ellipsis{}}, p.next()
	case p.isOp("("), p.isOp("["), p.isOp("{"):
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.next(); err != nil {
			return nil, err
		}
		switch t.text {
		case "(":
			return p.paren()
		case "[":
			return p.sequence("list", "]")
		default:
			return p.brace()
		}
	}
	return nil, errNotLiteral
}

// adjacentStrings reads adjacent string literals, which Python joins into one constant; mixing
// bytes and str is a SyntaxError and an f-string is never a literal.
func (p *litParser) adjacentStrings() (*litNode, error) {
	var b strings.Builder
	isBytes, fstr := p.tok.bytes, false
	for p.tok.kind == tokStr {
		if p.tok.bytes != isBytes {
			return nil, errNotLiteral
		}
		fstr = fstr || p.tok.fstr
		b.WriteString(p.tok.value.(string))
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	if fstr {
		return &litNode{kind: "other"}, nil
	}
	return &litNode{kind: "const", value: b.String()}, nil
}

// call parses a call of name, whose "(" is the current token: set() is the one call
// literal_eval accepts.
func (p *litParser) call(name string) (*litNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.isOp(")") {
		kind := "other"
		if name == "set" {
			kind = "set"
		}
		return &litNode{kind: kind}, p.next()
	}
	if _, err := p.exprList(func() bool { return p.isOp(")") }); err != nil {
		return nil, err
	}
	if !p.isOp(")") {
		return nil, errNotLiteral
	}
	return &litNode{kind: "other"}, p.next()
}

// pyKeywords are Python's reserved words other than True, False and None: a name that is
// one of them is a syntax error here, any other name a valid expression but no literal.
var pyKeywords = map[string]bool{
	"and": true, "as": true, "assert": true, "async": true, "await": true, "break": true, "class": true,
	"continue": true, "def": true, "del": true, "elif": true, "else": true, "except": true, "finally": true,
	"for": true, "from": true, "global": true, "if": true, "import": true, "in": true, "is": true,
	"lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true, "raise": true, "return": true,
	"try": true, "while": true, "with": true, "yield": true,
}

func (p *litParser) paren() (*litNode, error) {
	if p.isOp(")") {
		return &litNode{kind: "tuple"}, p.next()
	}
	n, err := p.exprList(func() bool { return p.isOp(")") })
	if err != nil {
		return nil, err
	}
	if !p.isOp(")") {
		return nil, errNotLiteral
	}
	return n, p.next()
}

// sequence reads comma-separated expressions up to the closing bracket.
func (p *litParser) sequence(kind, closing string) (*litNode, error) {
	n := &litNode{kind: kind}
	for !p.isOp(closing) {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		n.elts = append(n.elts, e)
		if p.isOp(",") {
			if err := p.next(); err != nil {
				return nil, err
			}
		} else if !p.isOp(closing) {
			return nil, errNotLiteral
		}
	}
	return n, p.next()
}

func (p *litParser) brace() (*litNode, error) {
	if p.isOp("}") {
		return &litNode{kind: "dict"}, p.next()
	}
	first, err := p.expr()
	if err != nil {
		return nil, err
	}
	if !p.isOp(":") {
		if p.isOp(",") {
			if err := p.next(); err != nil {
				return nil, err
			}
		} else if !p.isOp("}") {
			return nil, errNotLiteral
		}
		n, err := p.sequence("set", "}")
		if err != nil {
			return nil, err
		}
		n.elts = append([]*litNode{first}, n.elts...)
		return n, nil
	}
	n := &litNode{kind: "dict"}
	key := first
	for {
		if !p.isOp(":") {
			return nil, errNotLiteral
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		val, err := p.expr()
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.elts = append(n.elts, val)
		if !p.isOp(",") {
			break
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.isOp("}") {
			break
		}
		if key, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if !p.isOp("}") {
		return nil, errNotLiteral
	}
	return n, p.next()
}

// convert evaluates n the way literal_eval's _convert does, in the same order, so that a
// malformed node and an unhashable key are reported as Python would report them.
func (n *litNode) convert() (any, error) {
	switch n.kind {
	case "const":
		return constValue(n.value), nil
	case "tuple", "list":
		out := make([]any, len(n.elts))
		for i, e := range n.elts {
			v, err := e.convert()
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		if n.kind == "tuple" {
			return pytext.Tuple(out), nil
		}
		return out, nil
	case "set":
		out := []any{}
		seen := map[string]bool{}
		for _, e := range n.elts {
			v, err := e.convert()
			if err != nil {
				return nil, err
			}
			k, err := hashKey(v)
			if err != nil {
				return nil, err
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, v)
			}
		}
		return out, nil
	case "dict":
		d := &omap{}
		for i, kn := range n.keys {
			k, err := kn.convert()
			if err != nil {
				return nil, err
			}
			v, err := n.elts[i].convert()
			if err != nil {
				return nil, err
			}
			if _, err := d.set(k, v, 0); err != nil {
				return nil, err
			}
		}
		return d, nil
	case "binop":
		left, err := n.elts[0].signedNum()
		if err != nil {
			return nil, err
		}
		right, err := n.elts[1].num()
		if err != nil {
			return nil, err
		}
		im, isComplex := right.(complex128)
		if _, leftComplex := left.(complex128); isComplex && !leftComplex {
			re := toFloat(left)
			if n.op == "-" {
				im = -im
			}
			return complexString(complex(re+real(im), imag(im))), nil
		}
	}
	v, err := n.signedNum()
	if err != nil {
		return nil, err
	}
	return constValue(v), nil
}

// signedNum is literal_eval's _convert_signed_num: a number with at most one sign.
func (n *litNode) signedNum() (any, error) {
	if n.kind != "unary" {
		return n.num()
	}
	v, err := n.elts[0].num()
	if err != nil || n.op == "+" {
		return v, err
	}
	switch v := v.(type) {
	case *big.Int:
		return new(big.Int).Neg(v), nil
	case float64:
		return -v, nil
	default:
		return -v.(complex128), nil
	}
}

// num is literal_eval's _convert_num: an int, float or complex constant (not a bool).
func (n *litNode) num() (any, error) {
	if n.kind == "const" {
		switch n.value.(type) {
		case *big.Int, float64, complex128:
			return n.value, nil
		}
	}
	return nil, errNotLiteral
}

func toFloat(v any) float64 {
	if n, ok := v.(*big.Int); ok {
		f, _ := new(big.Float).SetInt(n).Float64()
		return f
	}
	return v.(float64)
}

// constValue turns a Python constant into a tally value. A complex number becomes its
// Python str(), the way a template would print it; Ellipsis becomes "Ellipsis".
func constValue(v any) any {
	switch v := v.(type) {
	case *big.Int:
		return intValue(v)
	case complex128:
		return complexString(v)
	case ellipsis:
		return "Ellipsis"
	default:
		return v
	}
}

// complexString is Python's str(complex).
func complexString(c complex128) string {
	im := pytext.FormatFloat(imag(c))
	if strings.HasSuffix(im, ".0") {
		im = strings.TrimSuffix(im, ".0")
	}
	if real(c) == 0 && !math.Signbit(real(c)) {
		return im + "j"
	}
	re := pytext.FormatFloat(real(c))
	re = strings.TrimSuffix(re, ".0")
	if !strings.HasPrefix(im, "-") {
		im = "+" + im
	}
	return "(" + re + im + "j)"
}
