package playbook

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/internal/pytext"
	"gopkg.in/yaml.v3"
)

const (
	// maxNodes bounds the YAML nodes one Load visits, counting each alias expansion anew, so
	// that a "billion laughs" document fails instead of exhausting memory.
	maxNodes = 1 << 20
	// maxDepth bounds nesting, which also stops an anchor that contains an alias to itself.
	maxDepth = 256
)

// doc is one YAML file being read.
type doc struct {
	file string
	ld   *loader
}

// pair is one entry of a YAML mapping, after merge keys are applied.
type pair struct {
	key  string
	kv   any // the key as PyYAML reads it: a str, int, float, bool or None
	k, v *yaml.Node
}

func (d *doc) errorf(n *yaml.Node, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{Pos: Pos{File: d.file, Line: line}, Msg: fmt.Sprintf(format, args...)}
}

func (d *doc) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line} }

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// readYAML reads and parses file. from is the import that names it (zero for the file Load
// or LoadTasks was given). The returned node is nil for a file with no document.
func (ld *loader) readYAML(file string, from Pos) (*doc, *yaml.Node, error) {
	d := &doc{file: file, ld: ld}
	data, err := readRegular(file)
	if err != nil {
		reason := err
		if pe, ok := err.(*fs.PathError); ok {
			reason = pe.Err // the path is in the message already
		}
		if from.File == "" {
			return nil, nil, &Error{Pos: Pos{File: file}, Msg: reason.Error(), Err: err}
		}
		return nil, nil, &Error{Pos: from, Msg: fmt.Sprintf("cannot read imported file %s: %v", file, reason), Err: err}
	}
	if data, err = ld.opts.Vault.Plain(data, file); err != nil {
		return nil, nil, err // Ansible's message names the file; an AnsibleVaultError, not a parse error
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root, next yaml.Node
	if err := decode(dec, &root); err != nil {
		if errors.Is(err, io.EOF) {
			return d, nil, nil
		}
		return nil, nil, d.syntaxError(err)
	}
	switch err := decode(dec, &next); {
	case err == nil:
		return nil, nil, d.errorf(&next, "expected a single YAML document, found another one")
	case !errors.Is(err, io.EOF):
		return nil, nil, d.syntaxError(err)
	}
	if len(root.Content) == 0 {
		return d, nil, nil
	}
	n, err := d.resolve(root.Content[0], 0)
	if err != nil {
		return nil, nil, err
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return d, nil, nil
	}
	return d, n, nil
}

// readRegular reads a regular file: a device or a FIFO could block or never end.
func readRegular(file string) ([]byte, error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return os.ReadFile(file)
}

// decode reads the next document, turning a panic of the YAML library into an error: a
// playbook, however malformed, must never crash tally.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

// syntaxError turns a yaml.v3 error into an *Error at the line it names.
func (d *doc) syntaxError(err error) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Pos: Pos{File: d.file, Line: line}, Msg: "YAML syntax error: " + m[2], Err: err}
	}
	return &Error{Pos: Pos{File: d.file}, Msg: "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: "), Err: err}
}

// resolve follows an alias and charges the node against the load's budget.
func (d *doc) resolve(n *yaml.Node, depth int) (*yaml.Node, error) {
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, d.errorf(n, "unknown YAML anchor %q", n.Value)
		}
		n = n.Alias
	}
	d.ld.nodes++
	if d.ld.nodes > maxNodes {
		return nil, d.errorf(n, "YAML document too large: more than %d nodes after alias expansion", maxNodes)
	}
	if depth > maxDepth {
		return nil, d.errorf(n, "YAML nested more than %d levels deep", maxDepth)
	}
	return n, nil
}

// kindName names a node's kind in messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	if n.Style != 0 {
		return "string"
	}
	switch resolve11(n.Value).(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int, float64:
		return "number"
	}
	return "string"
}

// pairs returns the entries of mapping n in order, with merge keys ("<<") applied and a
// repeated key keeping its first place and last value, as PyYAML builds a dict.
func (d *doc) pairs(n *yaml.Node, depth int) ([]pair, error) {
	var merged, own []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := d.resolve(n.Content[i], depth+1)
		if err != nil {
			return nil, err
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			m, err := d.mergeValue(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			merged = append(merged, m...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, d.errorf(k, "a mapping key must be a scalar, got a %s", kindName(k))
		}
		kv, err := d.scalar(k)
		if err != nil {
			return nil, err
		}
		key := pytext.Str(kv)
		switch kv.(type) {
		case string, int, float64, bool, nil:
		default:
			kv = key // a !vault or !unsafe key: its text
		}
		own = append(own, pair{key: key, kv: kv, k: k, v: n.Content[i+1]})
	}
	all := append(merged, own...)
	out := make([]pair, 0, len(all))
	index := make(map[string]int, len(all))
	for _, p := range all {
		if i, ok := index[p.key]; ok {
			out[i].v = p.v
			continue
		}
		index[p.key] = len(out)
		out = append(out, p)
	}
	return out, nil
}

// mergeValue returns the pairs a merge key brings: those of one mapping, or of a list of
// mappings where earlier ones win.
func (d *doc) mergeValue(v *yaml.Node, depth int) ([]pair, error) {
	v, err := d.resolve(v, depth)
	if err != nil {
		return nil, err
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, depth)
	case yaml.SequenceNode:
		var out []pair
		for i := len(v.Content) - 1; i >= 0; i-- {
			m, err := d.resolve(v.Content[i], depth+1)
			if err != nil {
				return nil, err
			}
			if m.Kind != yaml.MappingNode {
				return nil, d.errorf(m, "a merge key (<<) must refer to a mapping or a list of mappings")
			}
			p, err := d.pairs(m, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, p...)
		}
		return out, nil
	}
	return nil, d.errorf(v, "a merge key (<<) must refer to a mapping or a list of mappings")
}

// value converts a node to Go values: map[string]any, []any, string, int, float64, bool or
// nil, resolving plain scalars by YAML 1.1 rules as Ansible's PyYAML does ("yes" is true,
// 0644 is octal).
func (d *doc) value(n *yaml.Node, depth int) (any, error) {
	n, err := d.resolve(n, depth)
	if err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.MappingNode:
		ps, err := d.pairs(n, depth)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(ps))
		keys := make([]any, len(ps))
		for i, p := range ps {
			if m[p.key], err = d.value(p.v, depth+1); err != nil {
				return nil, err
			}
			keys[i] = p.kv
		}
		pytext.SetKeys(m, keys)
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			if s[i], err = d.value(c, depth+1); err != nil {
				return nil, err
			}
		}
		return s, nil
	case yaml.ScalarNode:
		return d.scalar(n)
	}
	return nil, d.errorf(n, "unexpected YAML node")
}

// scalar converts a scalar node, honouring an explicit standard tag.
func (d *doc) scalar(n *yaml.Node) (any, error) {
	if n.Style&yaml.TaggedStyle == 0 {
		if n.Style != 0 || n.Tag == "!!merge" {
			return n.Value, nil
		}
		return resolve11(n.Value), nil
	}
	v := n.Value
	var out any
	ok := true
	switch n.Tag {
	case "!!str":
		return v, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		out, ok = bools[v]
	case "!!int":
		out, ok = parseInt11(v)
	case "!!float":
		out, ok = parseFloat11(v)
	case "!!timestamp":
		out, ok = v, timestampRE.MatchString(v)
	case "!!binary":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
		out, ok = string(b), err == nil
	case "!vault", "!vault-encrypted":
		return vault.NewValue(v, d.ld.opts.Vault), nil
	case "!unsafe":
		// Ansible's AnsibleUnsafeText: the string is data, never templated.
		return template.Unsafe(v), nil
	default:
		return nil, d.errorf(n, "unknown YAML tag %s", n.Tag)
	}
	if !ok {
		return nil, d.errorf(n, "cannot read %q as %s", v, n.Tag)
	}
	return out, nil
}

var bools = map[string]bool{
	"yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true, "on": true, "On": true, "ON": true,
	"no": false, "No": false, "NO": false, "false": false, "False": false, "FALSE": false, "off": false, "Off": false, "OFF": false,
}

// The implicit resolvers of PyYAML (YAML 1.1).
var (
	intRE       = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	floatRE     = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	timestampRE = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// resolve11 gives a plain scalar its YAML 1.1 type. Timestamps stay strings: templates
// render them the same.
func resolve11(s string) any {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	}
	if b, ok := bools[s]; ok {
		return b
	}
	if intRE.MatchString(s) {
		if v, ok := parseInt11(s); ok {
			return v
		}
		return s
	}
	if floatRE.MatchString(s) {
		if v, ok := parseFloat11(s); ok {
			return v
		}
	}
	return s
}

// sign splits a leading sign off s.
func sign(s string) (neg bool, rest string) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		return s[0] == '-', s[1:]
	}
	return false, s
}

// parseInt11 is PyYAML's construct_yaml_int; false when s is not an int or overflows.
func parseInt11(s string) (int, bool) {
	neg, s := sign(strings.ReplaceAll(s, "_", ""))
	var v int64
	var err error
	switch {
	case s == "":
		return 0, false
	case strings.HasPrefix(s, "0b"):
		v, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case s[0] == '0':
		v, err = strconv.ParseInt(s, 8, 64)
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			p, perr := strconv.ParseInt(part, 10, 64)
			if perr != nil || v > math.MaxInt64/60-p {
				return 0, false
			}
			v = v*60 + p
		}
	default:
		v, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return int(v), true
}

// parseFloat11 is PyYAML's construct_yaml_float.
func parseFloat11(s string) (float64, bool) {
	neg, s := sign(strings.ToLower(strings.ReplaceAll(s, "_", "")))
	var v float64
	switch {
	case s == ".inf":
		v = math.Inf(1)
	case s == ".nan":
		return math.NaN(), true
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			p, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return 0, false
			}
			v = v*60 + p
		}
	default:
		var err error
		if v, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	return v, true
}
