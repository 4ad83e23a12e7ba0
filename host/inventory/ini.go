package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

// This file ports Ansible's ini inventory plugin (ansible/plugins/inventory/ini.py).

// pySpace is Python's Unicode \s, for use inside a character class.
const pySpace = `\t\n\v\f\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

var (
	// A section header: [group] or [group:kind], then an optional comment.
	iniSection = regexp.MustCompile(`^\[([^:\]` + pySpace + `]+)(?::([\p{L}\p{N}_]+))?\][` + pySpace + `]*(?:#.*)?$`)
	// A line of a [group:children] section.
	iniGroupName = regexp.MustCompile(`^([^:\]` + pySpace + `]+)[` + pySpace + `]*(?:#.*)?$`)
)

// pendingDecl is a group referred to before it is declared.
type pendingDecl struct {
	line    int
	state   string // "vars" or "children"
	parents []string
	seq     int // insertion order, for reporting the first one
}

type iniParser struct {
	inv     *Inventory
	file    string
	lineno  int
	pending map[string]*pendingDecl
	seq     int
}

func (p *iniParser) errorf(format string, args ...any) error {
	return &ParseError{File: p.file, Line: p.lineno, Err: fmt.Errorf(format, args...)}
}

// at gives err the current line, unless it already names one.
func (p *iniParser) at(err error) error {
	var pe *ParseError
	if err == nil || errors.As(err, &pe) {
		return err
	}
	return &ParseError{File: p.file, Line: p.lineno, Err: err}
}

// parseINI reads an INI inventory. Before the first section, lines are hosts of ungrouped.
func (inv *Inventory) parseINI(file string, data []byte) error {
	p := &iniParser{inv: inv, file: file, pending: map[string]*pendingDecl{}}
	group, state := "ungrouped", "hosts"
	for _, raw := range pytext.SplitLines(string(data)) {
		p.lineno++
		line := pytext.Strip(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := iniSection.FindStringSubmatch(line); m != nil {
			group, state = m[1], m[2]
			if state == "" {
				state = "hosts"
			}
			if err := p.section(group, state, m[1]+":"+m[2]); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			return p.errorf("invalid section entry: '%s'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters", line)
		}
		var err error
		switch state {
		case "hosts":
			err = p.hostLine(line, group)
		case "vars":
			err = p.varLine(line, group)
		case "children":
			err = p.childLine(line, group)
		}
		if err != nil {
			return p.at(err)
		}
	}
	return p.checkPending()
}

// section handles a [group:state] header. [group] and [group:children] declare a group;
// [group:vars] creates it too but it must be declared somewhere in the file.
func (p *iniParser) section(group, state, title string) error {
	switch state {
	case "hosts", "children", "vars":
	default:
		return p.errorf("section [%s] has unknown type: %s", title, state)
	}
	if p.inv.groupIndex[group] == nil {
		if _, ok := p.pending[group]; state == "vars" && !ok {
			p.addPending(group, "vars", "")
		}
		if _, err := p.inv.addGroup(group); err != nil {
			return p.at(err)
		}
	}
	if d, ok := p.pending[group]; ok && state != "vars" {
		switch d.state {
		case "children":
			return p.at(p.addPendingChildren(group))
		case "vars":
			delete(p.pending, group)
		}
	}
	return nil
}

func (p *iniParser) addPending(group, state, parent string) {
	if d, ok := p.pending[group]; ok {
		d.parents = append(d.parents, parent)
		return
	}
	p.seq++
	d := &pendingDecl{line: p.lineno, state: state, seq: p.seq}
	if parent != "" {
		d.parents = []string{parent}
	}
	p.pending[group] = d
}

// addPendingChildren links a group declared late to the parents that listed it.
func (p *iniParser) addPendingChildren(group string) error {
	for _, parent := range p.pending[group].parents {
		if err := p.inv.addChild(p.inv.groupIndex[parent], group); err != nil {
			return err
		}
		if d, ok := p.pending[parent]; ok && d.state == "children" {
			if err := p.addPendingChildren(parent); err != nil {
				return err
			}
		}
	}
	delete(p.pending, group)
	return nil
}

// checkPending reports the first group still referred to but never declared.
func (p *iniParser) checkPending() error {
	var name string
	var d *pendingDecl
	for n, x := range p.pending {
		if d == nil || x.seq < d.seq {
			name, d = n, x
		}
	}
	if d == nil {
		return nil
	}
	p.lineno = d.line
	if d.state == "vars" {
		return p.errorf("section [%s:vars] not valid for undefined group: %s", name, name)
	}
	return p.errorf("section [%s:children] includes undefined group: %s", d.parents[len(d.parents)-1], name)
}

// hostLine handles "name[:port] [key=value ...]" where name may be a range pattern and
// values are Python literals.
func (p *iniParser) hostLine(line, group string) error {
	tokens, err := pytext.ShlexSplit(line, true)
	if err != nil {
		return p.errorf("error parsing host definition '%s': %v", line, err)
	}
	if len(tokens) == 0 {
		return p.errorf("expected a host definition, got: %s", line)
	}
	pattern := tokens[0]
	names, port, err := expandHostPattern(pattern)
	if err != nil {
		return err
	}
	if strings.HasSuffix(pytext.Strip(pattern), ":") && port < 0 {
		return fmt.Errorf("invalid host pattern '%s' supplied, ending in ':' is not allowed, this character is reserved to provide a port", pattern)
	}
	for _, n := range names {
		if pytext.Strip(n) == "---" {
			return fmt.Errorf("invalid host pattern '%s' supplied, '---' is normally a sign this is a YAML file", pattern)
		}
	}
	vars := map[string]any{}
	for _, t := range tokens[1:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return fmt.Errorf("expected key=value host variable assignment, got: %s", t)
		}
		if vars[k], err = iniValue(v); err != nil {
			return err
		}
	}
	g := p.inv.groupIndex[group]
	for _, n := range names {
		h, err := p.inv.addHost(n, g, port)
		if err != nil {
			return err
		}
		for k, v := range vars {
			if err := p.inv.setHostVar(h, k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// varLine handles "key=value" in a [group:vars] section: everything after the first "="
// is the value, a Python literal or else text.
func (p *iniParser) varLine(line, group string) error {
	k, v, ok := strings.Cut(line, "=")
	if !ok {
		return fmt.Errorf("expected key=value, got: %s", line)
	}
	val, err := iniValue(pytext.Strip(v))
	if err != nil {
		return err
	}
	return p.inv.groupIndex[group].setVar(pytext.Strip(k), val)
}

// childLine handles a group name in a [group:children] section; it may be declared later.
func (p *iniParser) childLine(line, group string) error {
	m := iniGroupName.FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("expected group name, got: %s", line)
	}
	child := m[1]
	if p.inv.groupIndex[child] == nil {
		p.addPending(child, "children", group)
		return nil
	}
	return p.inv.addChild(p.inv.groupIndex[group], child)
}
