package inventory

import (
	"errors"
	"fmt"

	"github.com/tallyrun/tally/internal/pytext"
)

// This file ports Ansible's yaml inventory plugin (ansible/plugins/inventory/yaml.py).

type yamlParser struct {
	inv  *Inventory
	file string
}

func (p *yamlParser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Err: fmt.Errorf(format, args...)}
}

// parseYAML reads a YAML (or JSON) inventory: top-level keys are groups, each a mapping
// with hosts, vars and children (children are groups in turn). shaped reports whether the
// data was a YAML mapping at all, to tell a broken YAML inventory from another format.
func (inv *Inventory) parseYAML(file string, data []byte) (shaped bool, err error) {
	p := &yamlParser{inv: inv, file: file}
	v, err := loadData(file, data, func(msg string) { inv.warnf("%s", msg) }, inv.vault)
	if err != nil {
		return false, err
	}
	if !truthy(v) {
		return false, p.errorf(0, "parsed empty YAML file")
	}
	m, ok := v.(*omap)
	if !ok {
		return false, p.errorf(0, "YAML inventory has invalid structure, it should be a dictionary, got: %s", pytext.TypeName(plain(v)))
	}
	if i := m.find("plugin"); i >= 0 && truthy(m.vals[i]) {
		return true, p.errorf(m.line, "plugin configuration YAML file, not YAML inventory (tally does not support inventory plugins)")
	}
	for i, name := range m.keys {
		if _, err := p.group(name, m.vals[i], m.lines[i]); err != nil {
			return true, err
		}
	}
	return true, nil
}

// group is _parse_group: it returns the group's name as written, which the caller adds as
// a child even when the definition was skipped (it may name an existing group or host).
func (p *yamlParser) group(name, data any, line int) (any, error) {
	m, isMap := data.(*omap)
	if !isMap && data != nil {
		p.inv.warnf("Skipping '%s' as this is not a valid group definition", keyString(name))
		return name, nil
	}
	if !truthy(name) {
		return nil, p.errorf(line, "unable to add group %s: invalid empty/false group name provided", keyString(name))
	}
	gname, ok := name.(string)
	if !ok {
		return nil, p.errorf(line, "unable to add group %s: invalid group name supplied, expected a string but got %s", keyString(name), pytext.TypeName(name))
	}
	g, err := p.inv.addGroup(gname)
	if err != nil {
		return nil, p.errorf(line, "%v", err)
	}
	if m == nil {
		return gname, nil
	}
	for _, section := range []string{"vars", "children", "hosts"} {
		i := m.find(section)
		if i < 0 {
			continue
		}
		switch v := m.vals[i].(type) {
		case string:
			// A single name may stand for a mapping of it to nothing.
			one := &omap{line: m.lines[i]}
			_, _ = one.set(v, nil, m.lines[i])
			m.vals[i] = one
		case *omap, nil:
		default:
			return nil, p.errorf(m.lines[i], "invalid \"%s\" entry for \"%s\" group, requires a dictionary, found \"%s\" instead", section, gname, pytext.TypeName(plain(v)))
		}
	}
	for i, key := range m.keys {
		sub, ok := m.vals[i].(*omap)
		if !ok {
			if m.vals[i] != nil {
				p.inv.warnf("Skipping key (%s) in group (%s) as it is not a mapping, it is a %s", keyString(key), gname, pytext.TypeName(plain(m.vals[i])))
			}
			continue
		}
		var err error
		switch key {
		case "vars":
			err = p.vars(g, sub)
		case "children":
			err = p.children(g, sub)
		case "hosts":
			err = p.hosts(g, sub)
		default:
			p.inv.warnf("Skipping unexpected key (%s) in group (%s), only \"vars\", \"children\" and \"hosts\" are valid", keyString(key), gname)
		}
		if err != nil {
			return nil, err
		}
	}
	return gname, nil
}

func (p *yamlParser) vars(g *Group, m *omap) error {
	for i, k := range m.keys {
		if err := g.setVar(keyString(k), plain(m.vals[i])); err != nil {
			return p.errorf(m.lines[i], "%v", err)
		}
	}
	return nil
}

func (p *yamlParser) children(g *Group, m *omap) error {
	for i, k := range m.keys {
		child, err := p.group(k, m.vals[i], m.lines[i])
		if err != nil {
			return err
		}
		name, ok := child.(string)
		if !ok {
			err = fmt.Errorf("%s is not a known host nor group", keyString(child))
		} else {
			err = p.inv.addChild(g, name)
		}
		if err != nil {
			return p.errorf(m.lines[i], "%v", err)
		}
	}
	return nil
}

var errHostVars = errors.New("invalid data from file, expected dictionary")

func (p *yamlParser) hosts(g *Group, m *omap) error {
	for i, k := range m.keys {
		pattern, ok := k.(string)
		if !ok {
			return p.errorf(m.lines[i], "host pattern %s must be a string. Enclose integers/floats in quotation marks", keyString(k))
		}
		names, port, err := expandHostPattern(pattern)
		if err != nil {
			return p.errorf(m.lines[i], "%v", err)
		}
		var vars *omap
		switch v := m.vals[i].(type) {
		case *omap:
			vars = v
		default:
			if truthy(v) {
				return p.errorf(m.lines[i], "%w and got: %v", errHostVars, keyString(plain(v)))
			}
			vars = &omap{}
		}
		values := make([]any, len(vars.keys))
		for j, v := range vars.vals {
			values[j] = plain(v)
		}
		for _, n := range names {
			h, err := p.inv.addHost(n, g, port)
			if err != nil {
				return p.errorf(m.lines[i], "%v", err)
			}
			for j, k := range vars.keys {
				if err := p.inv.setHostVar(h, keyString(k), values[j]); err != nil {
					return p.errorf(vars.lines[j], "%v", err)
				}
			}
		}
	}
	return nil
}
