package inventory

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/internal/pytext"
	"gopkg.in/yaml.v3"
)

// This file reads JSON and YAML files as Ansible's DataLoader does: JSON first, then YAML
// with PyYAML's YAML 1.1 rules (yes/no/on/off are booleans, 0777 is octal, 1:20 is
// sexagesimal, 2001-01-01 is a date), merge keys, Ansible's !unsafe tag and its handling of
// duplicate keys (the last value wins, with a warning).

// omap is a mapping as loaded (from YAML, JSON or a Python literal), in document order so
// that inventory groups and hosts keep the order they were written in. Keys equal to
// Python appear once: the first one, with the last value.
type omap struct {
	line  int
	keys  []any
	vals  []any
	lines []int
	index map[string]int // hashKey -> position
}

// find returns the position of the string key k, or -1.
func (m *omap) find(k string) int {
	h, _ := hashKey(k)
	if i, ok := m.index[h]; ok {
		return i
	}
	return -1
}

// set stores v under k, keeping the position of an equal earlier key, and reports whether
// there was one.
func (m *omap) set(k, v any, line int) (dup bool, err error) {
	h, err := hashKey(k)
	if err != nil {
		return false, err
	}
	if m.index == nil {
		m.index = map[string]int{}
	}
	if i, ok := m.index[h]; ok {
		m.vals[i] = v
		return true, nil
	}
	m.index[h] = len(m.keys)
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
	m.lines = append(m.lines, line)
	return false, nil
}

// plain converts a loaded value to tally's plain values: map[string]any for a mapping,
// []any for a tuple.
func plain(v any) any {
	switch v := v.(type) {
	case *omap:
		out := pytext.NewDict(len(v.keys))
		for i, k := range v.keys {
			switch k.(type) {
			case string, int, float64, bool, nil:
			default:
				k = keyString(k)
			}
			out.Set(k, plain(v.vals[i]))
		}
		return out.Map()
	case []any:
		return plainList(v)
	case pytext.Tuple:
		return plainList(v)
	default:
		return v
	}
}

func plainList(v []any) []any {
	out := make([]any, len(v))
	for i, e := range v {
		out[i] = plain(e)
	}
	return out
}

// loadData parses a JSON or YAML document, decrypting it first when it is vault text.
// Mappings come back as *omap; !vault values as *vault.Value, opened by keys when used.
func loadData(file string, data []byte, warn func(string), keys *vault.Keyring) (any, error) {
	data, err := keys.Plain(data, file)
	if err != nil {
		return nil, err
	}
	if v, err := loadJSON(data); err == nil {
		return v, nil
	}
	return loadYAML(file, data, warn, keys)
}

// loadJSON parses data as Python's json.loads would (int or float by the number's form,
// duplicate keys: last wins), or fails.
func loadJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("extra data")
	}
	return v, nil
}

func jsonValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := &omap{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				if _, err := m.set(k.(string), v, 0); err != nil {
					return nil, err
				}
			}
			_, err := dec.Token()
			return m, err
		case '[':
			out := []any{}
			for dec.More() {
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		s := string(t)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, err
			}
			return f, nil
		}
		n, _ := new(big.Int).SetString(s, 10)
		return intValue(n), nil
	default:
		return t, nil
	}
}

// loadYAML parses a single YAML document (none gives nil).
func loadYAML(file string, data []byte, warn func(string), keys *vault.Keyring) (any, error) {
	doc, err := parseYAML(data)
	if err != nil {
		return nil, &ParseError{File: file, Line: yamlErrorLine(data, err), Err: errors.New(yamlMessage(err))}
	}
	if doc == nil {
		return nil, nil
	}
	if err := checkAnchors(file, doc, map[string]bool{}); err != nil {
		return nil, err
	}
	c := &constructor{file: file, warn: warn, vault: keys, expanding: map[*yaml.Node]bool{}, flat: map[*yaml.Node][][2]*yaml.Node{}}
	return c.construct(doc)
}

// checkAnchors refuses an anchor defined twice, as PyYAML does (YAML 1.2 and yaml.v3 let
// the second one win).
func checkAnchors(file string, n *yaml.Node, seen map[string]bool) error {
	if n.Anchor != "" && n.Kind != yaml.AliasNode {
		if seen[n.Anchor] {
			return &ParseError{File: file, Line: n.Line, Err: fmt.Errorf("found duplicate anchor '%s'", n.Anchor)}
		}
		seen[n.Anchor] = true
	}
	for _, c := range n.Content {
		if err := checkAnchors(file, c, seen); err != nil {
			return err
		}
	}
	return nil
}

var errSecondDocument = errors.New("expected a single document in the stream, but found another document")

// parseYAML parses the document data holds (nil for none) with yaml.v3.
func parseYAML(data []byte) (doc *yaml.Node, err error) {
	// yaml.v3 is third-party code: a panic in it on odd input must not crash tally.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("yaml parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, next yaml.Node
	if err := dec.Decode(&first); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, err
	}
	switch err := dec.Decode(&next); err {
	case io.EOF:
		return &first, nil
	case nil:
		return nil, errSecondDocument
	default:
		return nil, err
	}
}

// yamlMessage is a yaml.v3 error without its "yaml: line N:" prefix.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if _, after, found := strings.Cut(rest, ": "); found {
			return after
		}
	}
	return msg
}

// yamlErrorLine finds the line of a YAML syntax error. yaml.v3 reports the line where the
// construct at fault starts (and that only sometimes); Ansible, through PyYAML, the line
// of the offending token. That is the first line whose addition makes the document fail
// the same way, found by bisection.
func yamlErrorLine(data []byte, err error) int {
	msg := yamlMessage(err)
	ends := []int{} // offset after each line
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	lo, hi := 0, len(ends)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if _, err := parseYAML(data[:ends[mid]]); err != nil && yamlMessage(err) == msg {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo + 1
}

// constructor builds values from a yaml.v3 node tree with PyYAML's SafeConstructor rules
// and Ansible's additions. Aliases are expanded into copies, bounded as yaml.v3 bounds them.
type constructor struct {
	file                   string
	warn                   func(string)
	vault                  *vault.Keyring
	expanding              map[*yaml.Node]bool
	flat                   map[*yaml.Node][][2]*yaml.Node
	decoded, aliased, deep int
}

func (c *constructor) errorf(n *yaml.Node, format string, args ...any) error {
	return &ParseError{File: c.file, Line: n.Line, Err: fmt.Errorf(format, args...)}
}

// count accounts for one node built, failing on excessive aliasing with yaml.v3's rule, so
// that a "billion laughs" document cannot exhaust memory.
func (c *constructor) count(n *yaml.Node) error {
	c.decoded++
	if c.deep > 0 {
		c.aliased++
	}
	if c.aliased > 100 && c.decoded > 1000 && float64(c.aliased)/float64(c.decoded) > allowedAliasRatio(c.decoded) {
		return c.errorf(n, "document contains excessive aliasing")
	}
	return nil
}

func allowedAliasRatio(decoded int) float64 {
	const low, high = 400000, 4000000
	switch {
	case decoded <= low:
		return 0.99
	case decoded >= high:
		return 0.10
	default:
		return 0.99 - 0.89*(float64(decoded-low)/float64(high-low))
	}
}

// deref follows an alias, checking it does not refer to a node that contains it.
func (c *constructor) deref(n *yaml.Node) (*yaml.Node, error) {
	if n.Kind != yaml.AliasNode {
		return n, nil
	}
	if n.Alias == nil || c.expanding[n.Alias] {
		return nil, c.errorf(n, "anchor '%s' value contains itself", n.Value)
	}
	return n.Alias, nil
}

func (c *constructor) construct(n *yaml.Node) (any, error) {
	if err := c.count(n); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.construct(n.Content[0])
	case yaml.AliasNode:
		target, err := c.deref(n)
		if err != nil {
			return nil, err
		}
		c.deep++
		defer func() { c.deep-- }()
		return c.construct(target)
	}
	if n.Anchor != "" {
		c.expanding[n] = true
		defer delete(c.expanding, n)
	}
	tag := ""
	if n.Style&yaml.TaggedStyle != 0 {
		tag = n.Tag
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return c.scalar(n, tag)
	case yaml.SequenceNode:
		return c.sequence(n, tag)
	case yaml.MappingNode:
		return c.mapping(n, tag)
	}
	return nil, c.errorf(n, "unexpected yaml node kind %d", n.Kind)
}

func (c *constructor) sequence(n *yaml.Node, tag string) (any, error) {
	switch tag {
	case "", "!!seq", "!unsafe":
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.construct(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "!!omap", "!!pairs":
		// A list of [key, value] pairs.
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			e, err := c.deref(e)
			if err != nil {
				return nil, err
			}
			if e.Kind != yaml.MappingNode || len(e.Content) != 2 {
				return nil, c.errorf(e, "while constructing an ordered map: expected a single mapping item")
			}
			k, err := c.construct(e.Content[0])
			if err != nil {
				return nil, err
			}
			v, err := c.construct(e.Content[1])
			if err != nil {
				return nil, err
			}
			out = append(out, []any{k, v})
		}
		return out, nil
	}
	return nil, c.unknownTag(n, tag)
}

func (c *constructor) unknownTag(n *yaml.Node, tag string) error {
	switch tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary",
		"!!map", "!!seq", "!!set", "!!omap", "!!pairs":
		kinds := map[yaml.Kind]string{yaml.ScalarNode: "scalar", yaml.SequenceNode: "sequence", yaml.MappingNode: "mapping"}
		return c.errorf(n, "%s cannot be applied to a %s", tag, kinds[n.Kind])
	}
	return c.errorf(n, "could not determine a constructor for the tag '%s'", strings.Replace(tag, "!!", "tag:yaml.org,2002:", 1))
}

// flatten is PyYAML's flatten_mapping: the pairs of a mapping with its merge keys ("<<")
// replaced by the pairs they merge, which come first so the mapping's own keys override.
func (c *constructor) flatten(n *yaml.Node) ([][2]*yaml.Node, error) {
	if pairs, ok := c.flat[n]; ok {
		return pairs, nil
	}
	var merged, own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!merge" {
			own = append(own, [2]*yaml.Node{k, v})
			continue
		}
		v, err := c.deref(v)
		if err != nil {
			return nil, err
		}
		var sources []*yaml.Node
		switch v.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{v}
		case yaml.SequenceNode:
			// The first mapping listed wins, so they are merged last to first.
			for j := len(v.Content) - 1; j >= 0; j-- {
				s, err := c.deref(v.Content[j])
				if err != nil {
					return nil, err
				}
				if s.Kind != yaml.MappingNode {
					return nil, c.errorf(s, "while constructing a mapping: expected a mapping for merging")
				}
				sources = append(sources, s)
			}
		default:
			return nil, c.errorf(v, "while constructing a mapping: expected a mapping or list of mappings for merging")
		}
		for _, s := range sources {
			if c.expanding[s] {
				return nil, c.errorf(s, "anchor '%s' value contains itself", s.Anchor)
			}
			c.expanding[s] = true
			pairs, err := c.flatten(s)
			delete(c.expanding, s)
			if err != nil {
				return nil, err
			}
			for range pairs {
				c.deep++
				err := c.count(s)
				c.deep--
				if err != nil {
					return nil, err
				}
			}
			merged = append(merged, pairs...)
		}
	}
	pairs := append(merged, own...)
	c.flat[n] = pairs
	return pairs, nil
}

func (c *constructor) mapping(n *yaml.Node, tag string) (any, error) {
	switch tag {
	case "", "!!map", "!!python/dict", "!unsafe", "!!set":
	default:
		return nil, c.unknownTag(n, tag)
	}
	pairs, err := c.flatten(n)
	if err != nil {
		return nil, err
	}
	m := &omap{line: n.Line}
	for _, p := range pairs {
		k, err := c.key(p[0])
		if err != nil {
			return nil, err
		}
		if _, err := hashKey(k); err != nil {
			return nil, c.errorf(p[0], "while constructing a mapping: found unacceptable key (%v)", err)
		}
		v, err := c.construct(p[1])
		if err != nil {
			return nil, err
		}
		dup, _ := m.set(k, v, p[0].Line)
		if dup && c.warn != nil {
			c.warn(fmt.Sprintf("While constructing a mapping from %s, line %d, column %d, found a duplicate dict key (%s). Using last defined value only.",
				c.file, n.Line, n.Column, keyString(k)))
		}
	}
	if tag == "!!set" {
		return append([]any{}, m.keys...), nil
	}
	return m, nil
}

// key builds a mapping key: as PyYAML does, a plain "=" (the YAML 1.1 value key) is the
// string "=" there, while it is an error anywhere else.
func (c *constructor) key(n *yaml.Node) (any, error) {
	if n.Kind == yaml.ScalarNode && n.Style == 0 && n.Value == "=" {
		return n.Value, c.count(n)
	}
	return c.construct(n)
}

// PyYAML's implicit resolvers for plain scalars (YAML 1.1).
var (
	yamlBool      = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yamlFloat     = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yamlInt       = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yamlNull      = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	yamlTimestamp = regexp.MustCompile(`^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?$`)
	// The implicit timestamp form: a date alone needs two-digit month and day.
	yamlTimestampImplicit = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// implicitTag resolves a plain scalar as PyYAML's Resolver does.
func implicitTag(v string) string {
	switch {
	case yamlBool.MatchString(v):
		return "!!bool"
	case yamlFloat.MatchString(v):
		return "!!float"
	case yamlInt.MatchString(v):
		return "!!int"
	case v == "<<":
		return "!!merge"
	case yamlNull.MatchString(v):
		return "!!null"
	case yamlTimestampImplicit.MatchString(v):
		return "!!timestamp"
	case v == "=":
		return "!!value"
	}
	return "!!str"
}

// scalar builds a scalar with its explicit tag, or the tag PyYAML resolves for it.
func (c *constructor) scalar(n *yaml.Node, tag string) (any, error) {
	v := n.Value
	if tag == "" {
		tag = "!!str"
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			tag = implicitTag(v)
		}
	}
	switch tag {
	case "!!str", "!!python/unicode", "!unsafe":
		return v, nil
	case "!vault", "!vault-encrypted":
		return vault.NewValue(v, c.vault), nil
	case "!!null":
		return nil, nil
	case "!!bool":
		switch strings.ToLower(v) {
		case "yes", "true", "on":
			return true, nil
		case "no", "false", "off":
			return false, nil
		}
		return nil, c.errorf(n, "invalid boolean %q", v)
	case "!!int":
		i, err := yamlIntValue(v)
		if err != nil {
			return nil, c.errorf(n, "invalid integer %q", v)
		}
		return intValue(i), nil
	case "!!float":
		f, err := yamlFloatValue(v)
		if err != nil {
			return nil, c.errorf(n, "invalid float %q", v)
		}
		return f, nil
	case "!!timestamp":
		s, err := yamlTimestampValue(v)
		if err != nil {
			return nil, c.errorf(n, "invalid timestamp %q: %v", v, err)
		}
		return s, nil
	case "!!binary":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
		if err != nil {
			return nil, c.errorf(n, "failed to decode base64 data: %v", err)
		}
		return string(b), nil
	}
	return nil, c.unknownTag(n, tag)
}

// signed splits a sign off s (PyYAML removes underscores and one sign first).
func signed(s string) (string, int) {
	s = strings.ReplaceAll(s, "_", "")
	switch {
	case strings.HasPrefix(s, "-"):
		return s[1:], -1
	case strings.HasPrefix(s, "+"):
		return s[1:], 1
	}
	return s, 1
}

// yamlIntValue is PyYAML's construct_yaml_int.
func yamlIntValue(s string) (*big.Int, error) {
	v, sign := signed(s)
	var n *big.Int
	var err error
	switch {
	case v == "":
		return nil, errPyInt
	case v == "0":
		n = new(big.Int)
	case strings.HasPrefix(v, "0b"):
		n, err = pyIntBase(v[2:], 2)
	case strings.HasPrefix(v, "0x"):
		n, err = pyIntBase(v[2:], 16)
	case v[0] == '0':
		n, err = pyIntBase(v, 8)
	case strings.Contains(v, ":"):
		n = new(big.Int)
		for _, part := range strings.Split(v, ":") {
			d, err := pyInt(part)
			if err != nil {
				return nil, err
			}
			n.Mul(n, big.NewInt(60)).Add(n, d)
		}
	default:
		n, err = pyInt(v)
	}
	if err != nil {
		return nil, err
	}
	return n.Mul(n, big.NewInt(int64(sign))), nil
}

// pyFloatText matches what Python's float() accepts besides inf and nan.
var pyFloatText = regexp.MustCompile(`^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$`)

// pyFloat is Python's float(s) for a str without underscores.
func pyFloat(s string) (float64, error) {
	t := strings.ToLower(pytext.Strip(s))
	switch strings.TrimLeft(t, "+-") {
	case "inf", "infinity", "nan":
		if len(t)-len(strings.TrimLeft(t, "+-")) <= 1 {
			f, err := strconv.ParseFloat(t, 64)
			return f, err
		}
	}
	if !pyFloatText.MatchString(t) {
		return 0, errors.New("could not convert string to float")
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	return f, nil
}

// yamlFloatValue is PyYAML's construct_yaml_float.
func yamlFloatValue(s string) (float64, error) {
	v, sign := signed(strings.ToLower(s))
	switch {
	case v == "":
		return 0, errors.New("empty float")
	case v == ".inf":
		return float64(sign) * math.Inf(1), nil
	case v == ".nan":
		return math.NaN(), nil
	case strings.Contains(v, ":"):
		f := 0.0
		for _, part := range strings.Split(v, ":") {
			d, err := pyFloat(part)
			if err != nil {
				return 0, err
			}
			f = f*60 + d
		}
		return float64(sign) * f, nil
	}
	f, err := pyFloat(v)
	return float64(sign) * f, err
}

// yamlTimestampValue is PyYAML's construct_yaml_timestamp, given as Python's str() of the
// date or datetime it builds, which is how a template shows it.
func yamlTimestampValue(s string) (string, error) {
	m := yamlTimestamp.FindStringSubmatch(s)
	if m == nil {
		return "", errors.New("not a timestamp")
	}
	num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	year, month, day := num(1), num(2), num(3)
	daysIn := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		daysIn[1] = 29
	}
	switch {
	case year < 1:
		return "", fmt.Errorf("year %d is out of range", year)
	case month < 1 || month > 12:
		return "", errors.New("month must be in 1..12")
	case day < 1 || day > daysIn[month-1]:
		return "", errors.New("day is out of range for month")
	}
	out := fmt.Sprintf("%04d-%02d-%02d", year, month, day)
	if m[4] == "" {
		return out, nil
	}
	hour, minute, second := num(4), num(5), num(6)
	switch {
	case hour > 23:
		return "", errors.New("hour must be in 0..23")
	case minute > 59:
		return "", errors.New("minute must be in 0..59")
	case second > 59:
		return "", errors.New("second must be in 0..59")
	}
	out += fmt.Sprintf(" %02d:%02d:%02d", hour, minute, second)
	if frac := (m[7] + "000000")[:6]; strings.Trim(frac, "0") != "" {
		out += "." + frac
	}
	switch {
	case m[9] != "":
		offset := num(10)*60 + num(11)
		if offset >= 24*60 {
			return "", errors.New("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24)")
		}
		sign := m[9]
		if offset == 0 {
			sign = "+"
		}
		out += fmt.Sprintf("%s%02d:%02d", sign, offset/60, offset%60)
	case m[8] == "Z":
		out += "+00:00"
	}
	return out, nil
}
