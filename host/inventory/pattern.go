package inventory

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tallyrun/tally/internal/pytext"
)

// This file ports host pattern matching from ansible/inventory/manager.py.

// Select returns the hosts matching a host pattern, in Ansible's order and without
// duplicates, restricted by Limit. A pattern is a list of terms separated by commas (or
// colons): a group or host name, a wildcard (web*, *.example.com), a regular expression
// (~web[0-9]+), any of them with a subscript (web[0], web[1:3], web[-1]); a term starting
// with & keeps only hosts also matching it, one starting with ! removes the hosts
// matching it. "all" and "*" match every host. A term matching nothing is a warning, not
// an error, as in Ansible; localhost, 127.0.0.1 and ::1 give the implicit localhost when
// the inventory lacks them.
func (inv *Inventory) Select(pattern string) ([]*Host, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	hosts, err := inv.evaluate(splitHostPattern(pattern))
	if err != nil {
		return nil, err
	}
	if len(inv.subset) > 0 {
		allowed, err := inv.evaluate(inv.subset)
		if err != nil {
			return nil, err
		}
		in := map[*Host]bool{}
		for _, h := range allowed {
			in[h] = true
		}
		hosts = keep(hosts, func(h *Host) bool { return in[h] })
	}
	seen := map[*Host]bool{}
	return keep(hosts, func(h *Host) bool {
		dup := seen[h]
		seen[h] = true
		return !dup
	}), nil
}

// Limit restricts every later Select to the hosts matching pattern, as --limit does; an
// "@file" term reads one pattern per line from file. An empty pattern removes the limit.
// Call it before using the Inventory concurrently.
func (inv *Inventory) Limit(pattern string) error {
	var subset []string
	for _, p := range splitHostPattern(pattern) {
		if !strings.HasPrefix(p, "@") {
			subset = append(subset, p)
			continue
		}
		file := p[1:]
		fi, err := os.Stat(file)
		if err != nil {
			return fmt.Errorf("unable to find limit file %s: %w", file, err)
		}
		if fi.IsDir() {
			return fmt.Errorf("limit starting with \"@\" must be a file, not a directory: %s", file)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("limit file: %w", err)
		}
		// As in Ansible each line is a pattern as is, and a trailing newline gives an
		// empty one.
		for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
			subset = append(subset, pytext.Strip(line))
		}
	}
	inv.mu.Lock()
	inv.subset = subset
	inv.mu.Unlock()
	return nil
}

func keep(hosts []*Host, f func(*Host) bool) []*Host {
	out := make([]*Host, 0, len(hosts))
	for _, h := range hosts {
		if f(h) {
			out = append(out, h)
		}
	}
	return out
}

// splitHostPattern is Ansible's split_host_pattern: commas separate terms; without a comma,
// colons and whitespace do, except inside brackets and in a pattern that parses as an
// address (an IPv6 address, host:port, a range).
func splitHostPattern(pattern string) []string {
	var terms []string
	switch {
	case strings.Contains(pattern, ","):
		terms = strings.Split(pattern, ",")
	default:
		if _, _, err := parseAddress(pattern, true); err == nil {
			terms = []string{pattern}
		} else {
			terms = splitColons(pattern)
		}
	}
	out := terms[:0]
	for _, t := range terms {
		if t = pytext.Strip(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// splitColons returns the runs of characters other than whitespace, ':', '[' and ']', with
// complete [...] expressions kept inside them.
func splitColons(s string) []string {
	var terms []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			terms = append(terms, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] == '[' {
			if j := strings.IndexByte(s[i:], ']'); j >= 0 {
				cur.WriteString(s[i : i+j+1])
				i += j + 1
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == ':' || r == '[' || r == ']' || pytext.IsSpace(r) {
			flush()
		} else {
			cur.WriteString(s[i : i+size])
		}
		i += size
	}
	flush()
	return terms
}

// orderPatterns puts plain terms first, then & terms, then ! terms; with no plain term,
// "all" is assumed.
func orderPatterns(patterns []string) []string {
	var regular, and, not []string
	for _, p := range patterns {
		switch {
		case p == "":
		case p[0] == '!':
			not = append(not, p)
		case p[0] == '&':
			and = append(and, p)
		default:
			regular = append(regular, p)
		}
	}
	if len(regular) == 0 {
		regular = []string{"all"}
	}
	return append(append(regular, and...), not...)
}

// evaluate is _evaluate_patterns; mu is held.
func (inv *Inventory) evaluate(patterns []string) ([]*Host, error) {
	var hosts []*Host
	for _, p := range orderPatterns(patterns) {
		if h := inv.hostIndex[p]; h != nil {
			hosts = append(hosts, h)
			continue
		}
		that, err := inv.matchOne(p)
		if err != nil {
			return nil, err
		}
		in := map[*Host]bool{}
		for _, h := range that {
			in[h] = true
		}
		switch p[0] {
		case '!':
			hosts = keep(hosts, func(h *Host) bool { return !in[h] })
		case '&':
			hosts = keep(hosts, func(h *Host) bool { return in[h] })
		default:
			existing := map[string]bool{}
			for _, h := range hosts {
				existing[h.Name] = true
			}
			for _, h := range that {
				if !existing[h.Name] {
					hosts = append(hosts, h)
				}
			}
		}
	}
	return hosts, nil
}

// matchOne is _match_one_pattern: the hosts matching one term (without its & or !), with
// its subscript applied. Results are cached, so a term warns only once.
func (inv *Inventory) matchOne(pattern string) ([]*Host, error) {
	if pattern[0] == '&' || pattern[0] == '!' {
		pattern = pattern[1:]
	}
	if hosts, ok := inv.patterns[pattern]; ok {
		return hosts, nil
	}
	if pattern == "" {
		return nil, errors.New("invalid host pattern: '&' or '!' must be followed by a pattern")
	}
	expr, sub := inv.splitSubscript(pattern)
	hosts, err := inv.enumerate(expr)
	if err != nil {
		return nil, err
	}
	if hosts, err = sub.apply(hosts); err != nil {
		return nil, fmt.Errorf("no hosts matched the subscripted pattern '%s'", pattern)
	}
	inv.patterns[pattern] = hosts
	return hosts, nil
}

// patternWithSubscript matches "expr[i]", "expr[i:j]", "expr[i:]" (and the old "expr[i-j]").
var patternWithSubscript = regexp.MustCompile(`^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]` + pyEOL)

// subscript is a [start] or [start:end] selection; end -1 means to the end, and an end of 0
// selects hosts[start] alone, as in Ansible.
type subscript struct {
	start, end int
	isRange    bool
}

func (inv *Inventory) splitSubscript(pattern string) (string, *subscript) {
	if pattern[0] == '~' {
		return pattern, nil
	}
	m := patternWithSubscript.FindStringSubmatch(pattern)
	if m == nil {
		return pattern, nil
	}
	if m[2] != "" {
		return m[1], &subscript{start: atoiSat(m[2])}
	}
	end := -1
	if m[5] != "" {
		end = atoiSat(m[5])
	}
	if m[4] == "-" {
		inv.warnf("Use [x:y] inclusive subscripts instead of [x-y] which has been removed")
	}
	return m[1], &subscript{start: atoiSat(m[3]), end: end, isRange: true}
}

// atoiSat converts a string of digits (maybe signed) to an int, saturating on overflow.
func atoiSat(s string) int {
	n, _ := new(big.Int).SetString(s, 10)
	return smallInt(n)
}

// apply is _apply_subscript; an index out of range is an error.
func (s *subscript) apply(hosts []*Host) ([]*Host, error) {
	if len(hosts) == 0 || s == nil {
		return hosts, nil
	}
	if s.isRange && s.end != 0 {
		end := s.end
		if end == -1 {
			end = len(hosts) - 1
		}
		start, stop := min(s.start, len(hosts)), min(end+1, len(hosts))
		if start >= stop {
			return nil, nil
		}
		return hosts[start:stop], nil
	}
	i := s.start
	if i < 0 {
		i += len(hosts)
	}
	if i < 0 || i >= len(hosts) {
		return nil, errors.New("index out of range")
	}
	return []*Host{hosts[i]}, nil
}

// enumerate is _enumerate_matches: the hosts of every group the term matches, then, if no
// group matched or the term is a regex or a wildcard, the hosts it matches by name.
func (inv *Inventory) enumerate(pattern string) ([]*Host, error) {
	match, err := compileHostPattern(pattern)
	if err != nil {
		return nil, err
	}
	var results []*Host
	matchedGroups := false
	for _, g := range inv.groups {
		if match(g.Name) {
			matchedGroups = true
			results = append(results, g.allHosts...)
		}
	}
	if !matchedGroups || pattern[0] == '~' || strings.ContainsAny(pattern, ".?*[") {
		for _, h := range inv.hosts {
			if match(h.Name) {
				results = append(results, h)
			}
		}
	}
	if len(results) == 0 && isLocalhostName(pattern) {
		results = append(results, inv.getHost(pattern))
	}
	if len(results) == 0 && !matchedGroups && pattern != "all" {
		inv.warnf("Could not match supplied host pattern, ignoring: %s", pattern)
	}
	return results, nil
}

// compileHostPattern returns a matcher for a term: "~regex" (Python re.match, anchored at
// the start only), else a shell wildcard (fnmatch).
func compileHostPattern(pattern string) (func(string) bool, error) {
	if pattern[0] != '~' && !strings.ContainsAny(pattern, "*?[") {
		return func(s string) bool { return s == pattern }, nil
	}
	expr := "^(?:" + pattern[1:] + ")"
	if pattern[0] != '~' {
		expr = pytext.FnmatchRegexp(pattern)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid host list pattern: %s", pattern)
	}
	return re.MatchString, nil
}
