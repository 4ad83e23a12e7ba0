package playbook

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

// lookupCall finds a call of a lookup plugin in a template or a bare condition: lookup('env',
// ...), query("file", ...), q('x'). Lookups are not implemented yet: the template engine fails
// such a call when it runs, and this finds it when the playbook is read (--syntax-check
// included), naming the file and line, instead of a task failing half-way through the run.
var lookupCall = regexp.MustCompile(`\b(lookup|query|q)\s*\(\s*['"]([^'"]*)['"]`)

// noLookup returns an error if the scalar n, whose value is s, calls a lookup plugin.
func (d *doc) noLookup(n *yaml.Node, s string) error {
	if m := lookupCall.FindStringSubmatch(s); m != nil {
		return d.errorf(n, "tally does not support lookup plugins yet: %s('%s', ...)", m[1], m[2])
	}
	return nil
}
