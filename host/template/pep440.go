package template

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// pep440Re is the version scheme of PEP 440, as the packaging library reads it.
var pep440Re = regexp.MustCompile(`(?i)^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)` +
	`(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?` +
	`(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?` +
	`(?:[-_.]?(dev)[-_.]?(\d+)?)?` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

// pep440Version gives a PEP 440 version the sort key of packaging's Version: epoch,
// release without trailing zeros, pre-release, post-release, development release, local
// label. Each part is [rank, values...] so that a missing part sorts as packaging's
// Infinity (rank 2) or NegativeInfinity (rank 0).
func pep440Version(s string) ([]any, error) {
	m := pep440Re.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("Invalid version: '%s'", s)
	}
	num := func(x string) int { n, _ := strconv.Atoi(x); return n }
	release := []any{}
	for _, p := range strings.Split(m[2], ".") {
		release = append(release, num(p))
	}
	for len(release) > 1 && release[len(release)-1] == 0 {
		release = release[:len(release)-1]
	}
	hasPre, hasPost, hasDev := m[3] != "", m[5] != "" || m[6] != "", m[8] != ""
	var pre []any
	switch {
	case hasPre:
		rank := map[string]int{"a": 0, "alpha": 0, "b": 1, "beta": 1}[strings.ToLower(m[3])]
		if _, ok := map[string]bool{"a": true, "alpha": true, "b": true, "beta": true}[strings.ToLower(m[3])]; !ok {
			rank = 2 // c, rc, pre, preview
		}
		pre = []any{1, rank, num(m[4])}
	case !hasPost && hasDev:
		pre = []any{0}
	default:
		pre = []any{2}
	}
	post := []any{0}
	if hasPost {
		post = []any{1, num(m[5] + m[7])}
	}
	dev := []any{2}
	if hasDev {
		dev = []any{1, num(m[9])}
	}
	local := []any{0}
	if m[10] != "" {
		local = []any{1}
		for _, p := range regexp.MustCompile(`[-_.]`).Split(strings.ToLower(m[10]), -1) {
			if n, err := strconv.Atoi(p); err == nil {
				local = append(local, []any{1, n, ""})
			} else {
				local = append(local, []any{0, 0, p})
			}
		}
	}
	return []any{num(m[1]), release, pre, post, dev, local}, nil
}
