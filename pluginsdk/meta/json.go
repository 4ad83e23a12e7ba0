package meta

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// JSON returns m as tally_describe returns it: the JSON form the struct tags describe, which
// encoding/json reads back. It is written by hand because encoding/json would make every
// plugin 400 KB larger, and slower to load.
func (m *Metadata) JSON() ([]byte, error) {
	b := []byte{'{'}
	b = appendField(b, "name", m.Name)
	b = appendField(append(b, ','), "version", m.Version)
	b = appendField(append(b, ','), "type", string(m.Type))
	if m.Description != "" {
		b = appendField(append(b, ','), "description", m.Description)
	}
	b = strconv.AppendInt(append(b, `,"event_schema":`...), int64(m.EventSchema), 10)
	b = appendList(append(b, `,"events":`...), m.Events)
	if len(m.Options) > 0 {
		b = append(b, `,"options":[`...)
		for i, o := range m.Options {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = o.appendJSON(b); err != nil {
				return nil, fmt.Errorf("option %q: %w", o.Name, err)
			}
		}
		b = append(b, ']')
	}
	if len(m.Capabilities) > 0 {
		b = appendList(append(b, `,"capabilities":`...), m.Capabilities)
	}
	if m.Results {
		b = append(b, `,"results":true`...)
	}
	if m.Progress != 0 {
		b = strconv.AppendUint(append(b, `,"progress":`...), uint64(m.Progress), 10)
	}
	return append(b, '}'), nil
}

// ErrorJSON returns the describe document of a module that cannot describe itself: the host
// reports err instead of loading the module.
func ErrorJSON(err error) []byte {
	return append(appendField([]byte{'{'}, "error", err.Error()), '}')
}

func (o *Option) appendJSON(b []byte) ([]byte, error) {
	b = appendField(append(b, '{'), "name", o.Name)
	b = appendField(append(b, ','), "type", string(o.Type))
	if o.Default != nil {
		var err error
		if b, err = appendValue(append(b, `,"default":`...), o.Default); err != nil {
			return nil, err
		}
	}
	if len(o.Env) > 0 {
		b = appendList(append(b, `,"env":`...), o.Env)
	}
	if o.Description != "" {
		b = appendField(append(b, ','), "description", o.Description)
	}
	if o.Required {
		b = append(b, `,"required":true`...)
	}
	return append(b, '}'), nil
}

func appendField(b []byte, key, value string) []byte {
	return appendString(append(appendString(b, key), ':'), value)
}

func appendList[S ~string](b []byte, items []S) []byte {
	b = append(b, '[')
	for i, s := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, string(s))
	}
	return append(b, ']')
}

// appendValue appends a default value: the JSON types an option's value can have.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case []string:
		return appendList(b, x), nil
	case []any:
		b = append(b, '[')
		for i, item := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, item); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return nil, fmt.Errorf("default of type %T: want a string, a boolean, a number or a list", v)
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
