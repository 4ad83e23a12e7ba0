package config

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"
)

// Sink is one output of the sinks setting (docs/sinks.md): its type and the type's settings.
type Sink struct {
	// Type is sqlite, postgres, http or file.
	Type string
	// Params are the other settings, as YAML decodes them; a path is made absolute (relative
	// to the configuration file's directory, ~ expanded).
	Params map[string]any
	// Source is the file:line the sink is declared at, for errors.
	Source string
}

// SinkLimits bound what one plugin may append to sinks in one run (sink_limits). Zero fields
// are unset.
type SinkLimits struct {
	// RecordSize is the largest record, its document encoded as JSON, in bytes.
	RecordSize int64
	// Records is the most records.
	Records int64
	// Bytes is the most bytes of records in all.
	Bytes int64
}

// sinkName is what a sink may be called: it names a spool directory.
var sinkName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// pathParams are the settings that are paths on the operator's machine.
var pathParams = map[string]bool{"path": true}

func (p *parser) sinks(n *yaml.Node) (map[string]Sink, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "sinks: want a mapping of sink names to their settings")
	}
	out := map[string]Sink{}
	for k, v := range pairs(n) {
		if !sinkName.MatchString(k.Value) {
			return nil, p.errorf(k, "sinks: name %q: want a lower-case letter, then lower-case letters, digits, _ and -", k.Value)
		}
		if v.Kind != yaml.MappingNode {
			return nil, p.errorf(v, "sinks: %s: want a mapping with a type and its settings", k.Value)
		}
		s := Sink{Params: map[string]any{}, Source: fmt.Sprintf("%s:%d", p.path, k.Line)}
		for sk, sv := range pairs(v) {
			if sk.Value == "type" {
				var err error
				if s.Type, err = p.str(sv); err != nil {
					return nil, err
				}
				continue
			}
			var value any
			if err := sv.Decode(&value); err != nil {
				return nil, p.errorf(sv, "sinks: %s: %s: %v", k.Value, sk.Value, err)
			}
			if path, ok := value.(string); ok && pathParams[sk.Value] {
				value = p.resolve(path)
			}
			s.Params[sk.Value] = value
		}
		if s.Type == "" {
			return nil, p.errorf(v, "sinks: %s: type is required", k.Value)
		}
		out[k.Value] = s
	}
	return out, nil
}

func (p *parser) sinkLimits(n *yaml.Node) (SinkLimits, error) {
	var l SinkLimits
	if n.Kind != yaml.MappingNode {
		return l, p.errorf(n, "sink_limits: want a mapping of record_size, records and bytes")
	}
	for k, v := range pairs(n) {
		var err error
		switch k.Value {
		case "record_size":
			l.RecordSize, err = ParseSize(v.Value)
		case "bytes":
			l.Bytes, err = ParseSize(v.Value)
		case "records":
			l.Records, err = ParseSize(v.Value)
		default:
			return l, p.errorf(k, "sink_limits: unknown limit %q (want record_size, records or bytes)", k.Value)
		}
		if err != nil || v.Kind != yaml.ScalarNode {
			return l, p.errorf(v, "sink_limits: %s %q: %v", k.Value, v.Value, err)
		}
	}
	return l, nil
}
