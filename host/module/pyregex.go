package module

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dlclark/regexp2/v2"
)

// pyRegexp is a Python regular expression: Go's RE2 where it accepts the pattern, else
// regexp2 (backtracking, .NET syntax, which has Python's backreferences and lookarounds).
type pyRegexp struct {
	re2 *regexp.Regexp
	bt  *regexp2.Regexp
	// multiline is Python's re.MULTILINE flag, set by a leading (?m) (Python takes global
	// flags only at the start): blockinfile then searches the whole file, not line by line.
	multiline bool
}

// pyGlobalFlags is a Python pattern's leading inline flags.
var pyGlobalFlags = regexp.MustCompile(`^\(\?[aiLmsux]+\)`)

// pyNamedBackref is Python's (?P=name), which .NET writes \k<name>; .NET names a group
// (?<name>...) where Python writes (?P<name>...).
var pyNamedBackref = regexp.MustCompile(`\(\?P=(\w+)\)`)

// compilePython compiles a Python regular expression, with \Z meaning the end of the text.
// Patterns are matched against lines without their \n (see chomp).
func compilePython(expr string) (*pyRegexp, error) {
	expr = strings.ReplaceAll(expr, `\Z`, `\z`)
	multiline := strings.Contains(pyGlobalFlags.FindString(expr), "m")
	re, err := regexp.Compile(expr)
	if err == nil {
		return &pyRegexp{re2: re, multiline: multiline}, nil
	}
	bt, btErr := regexp2.Compile(strings.ReplaceAll(pyNamedBackref.ReplaceAllString(expr, `\k<$1>`), "(?P<", "(?<"), regexp2.None, regexp2.OptionMaintainCaptureOrder())
	if btErr != nil {
		return nil, fmt.Errorf("%w (and as a backtracking pattern: %v)", err, btErr)
	}
	return &pyRegexp{bt: bt, multiline: multiline}, nil
}

// FindSubmatchIndex returns the byte offsets of the first match in b and of its groups
// (-1 for a group that did not take part), or nil.
func (r *pyRegexp) FindSubmatchIndex(b []byte) []int {
	if r.re2 != nil {
		return r.re2.FindSubmatchIndex(b)
	}
	m, err := r.bt.FindStringMatch(string(b))
	if err != nil || m == nil {
		return nil
	}
	return groupIndexes(m)
}

// groupIndexes are a regexp2 match's byte offsets, as FindSubmatchIndex gives them.
func groupIndexes(m *regexp2.Match) []int {
	groups := m.Groups()
	out := make([]int, 0, 2*len(groups))
	for _, g := range groups {
		if len(g.Captures) == 0 {
			out = append(out, -1, -1)
			continue
		}
		i, n := g.ByteRange()
		out = append(out, i, i+n)
	}
	return out
}

// Match reports whether b holds a match.
func (r *pyRegexp) Match(b []byte) bool {
	if r.re2 != nil {
		return r.re2.Match(b)
	}
	ok, err := r.bt.MatchString(string(b))
	return err == nil && ok
}

// SubexpIndex returns the number of the group called name, or -1.
func (r *pyRegexp) SubexpIndex(name string) int {
	if r.re2 != nil {
		return r.re2.SubexpIndex(name)
	}
	return r.bt.GroupNumberFromName(name)
}

// FindAllSubmatchIndex returns the submatch indexes of each successive non-overlapping match
// in b, as FindSubmatchIndex gives them for one.
func (r *pyRegexp) FindAllSubmatchIndex(b []byte) [][]int {
	if r.re2 != nil {
		return r.re2.FindAllSubmatchIndex(b, -1)
	}
	var all [][]int
	m, err := r.bt.FindStringMatch(string(b))
	for err == nil && m != nil {
		all = append(all, groupIndexes(m))
		m, err = r.bt.FindNextMatch(m)
	}
	return all
}

// subn replaces each match of r in src by the Python template tmpl (see expandPython) and
// returns the result with the number of replacements, as Python's re.subn.
func (r *pyRegexp) subn(src, tmpl []byte) ([]byte, int) {
	matches := r.FindAllSubmatchIndex(src)
	var out []byte
	last := 0
	for _, m := range matches {
		out = append(append(out, src[last:m[0]]...), expandPython(r, tmpl, src, m)...)
		last = m[1]
	}
	return append(out, src[last:]...), len(matches)
}
