package template

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/tallyrun/tally/internal/pytext"
)

// regexCache holds compiled patterns; it stops growing at regexCacheMax
// since patterns may come from data.
var (
	regexCache    sync.Map
	regexCacheLen int
	regexCacheMu  sync.Mutex
)

const regexCacheMax = 1024

// compileRegex compiles a Python pattern with Go's RE2 (no backreferences
// or lookarounds); \Z is translated.
func compileRegex(pattern any, ignorecase, multiline bool) (*regexp.Regexp, error) {
	p, err := text(pattern, "pattern")
	if err != nil {
		return nil, err
	}
	p = strings.ReplaceAll(p, `\Z`, `\z`)
	if multiline {
		p = "(?m)" + p
	}
	if ignorecase {
		p = "(?i)" + p
	}
	if re, ok := regexCache.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %s: %w", pytext.Quote(p), err)
	}
	regexCacheMu.Lock()
	if regexCacheLen < regexCacheMax {
		regexCache.Store(p, re)
		regexCacheLen++
	}
	regexCacheMu.Unlock()
	return re, nil
}

// goReplacement translates a Python re.sub template (\1, \g<name>, \n)
// into Go's Expand syntax.
func goReplacement(repl string) string {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c == '$' {
			b.WriteString("$$")
			continue
		}
		if c != '\\' || i+1 == len(repl) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := repl[i]; {
		case e >= '0' && e <= '9':
			j := i + 1
			if j < len(repl) && repl[j] >= '0' && repl[j] <= '9' {
				j++
			}
			b.WriteString("${" + repl[i:j] + "}")
			i = j - 1
		case e == 'g' && i+1 < len(repl) && repl[i+1] == '<':
			end := strings.IndexByte(repl[i:], '>')
			if end < 0 {
				b.WriteString(`\g`)
				continue
			}
			b.WriteString("${" + repl[i+2:i+end] + "}")
			i += end
		case e == 'n':
			b.WriteByte('\n')
		case e == 't':
			b.WriteByte('\t')
		case e == 'r':
			b.WriteByte('\r')
		case e == '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String()
}

func filterRegexReplace(in any, a []any) (any, error) {
	s, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	re, err := compileRegex(a[0], a[2] == true, a[3] == true)
	if err != nil {
		return nil, err
	}
	repl, err := text(a[1], "replacement")
	if err != nil {
		return nil, err
	}
	return re.ReplaceAllString(s, goReplacement(repl)), nil
}

func filterRegexSearch(_ *state, in any, args []any, kw map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("regex_search() missing required argument 'regex'")
	}
	s, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	flags, err := bindArgs("regex_search", nil, kw, []string{"ignorecase", "multiline"}, false, false)
	if err != nil {
		return nil, err
	}
	re, err := compileRegex(args[0], flags[0] == true, flags[1] == true)
	if err != nil {
		return nil, err
	}
	var groups []string
	for _, g := range args[1:] {
		ref, err := text(g, "group reference")
		if err != nil {
			return nil, err
		}
		switch {
		case strings.HasPrefix(ref, `\g<`) && strings.HasSuffix(ref, ">"):
			groups = append(groups, ref[3:len(ref)-1])
		case strings.HasPrefix(ref, `\`):
			if _, err := strconv.Atoi(ref[1:]); err != nil {
				return nil, fmt.Errorf("unknown argument %s", pytext.Quote(ref))
			}
			groups = append(groups, ref[1:])
		default:
			return nil, fmt.Errorf("unknown argument %s", pytext.Quote(ref))
		}
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	if len(groups) == 0 {
		return s[m[0]:m[1]], nil
	}
	out := make([]any, len(groups))
	for i, g := range groups {
		out[i] = string(re.ExpandString(nil, "${"+g+"}", s, m))
	}
	return out, nil
}

func filterRegexFindall(in any, a []any) (any, error) {
	s, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	re, err := compileRegex(a[0], a[2] == true, a[1] == true)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		switch len(m) {
		case 1:
			out = append(out, m[0])
		case 2:
			out = append(out, m[1])
		default:
			out = append(out, toList(m[1:]))
		}
	}
	return out, nil
}

// pyRegexEscape is Python's re.escape.
func pyRegexEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
