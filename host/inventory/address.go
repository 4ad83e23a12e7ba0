package inventory

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// This file ports ansible/parsing/utils/addresses.py (parse_address) and the host range
// expansion of ansible/plugins/inventory/__init__.py.

// Python's "$" also matches before a final newline; pyEOL stands for it.
const pyEOL = `\n?\z`

const (
	numericRange = `\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	hexRange     = `\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`
	alnumRange   = `\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	ipv6Comp     = `(?:[0-9a-f]{1,4}|` + hexRange + `)`
	ipv4Comp     = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|` + numericRange + `)`
	// pyWord is Python's Unicode \w.
	pyWord = `[\p{L}\p{N}_]`
)

var (
	bracketedHostPort = regexp.MustCompile(`^\[(.+)\]:([0-9]+)` + pyEOL)
	hostPort          = regexp.MustCompile(`^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)` + pyEOL)
	ipv4Address       = regexp.MustCompile(`(?i)^(?:` + ipv4Comp + `\.){3}` + ipv4Comp + pyEOL)
	// In Ansible's pattern "^" and "$" bind to the first and last alternatives only, so all
	// the others match a prefix of the address; kept as is. C stands for a component.
	ipv6Address = regexp.MustCompile(strings.ReplaceAll(`(?i)^(?:`+strings.Join([]string{
		`(?:C:){7}C`,
		`(?:C:){1,6}:`,
		`(?:C:)(?::C){1,6}`,
		`(?:C:){2}(?::C){1,5}`,
		`(?:C:){3}(?::C){1,4}`,
		`(?:C:){4}(?::C){1,3}`,
		`(?:C:){5}(?::C){1,2}`,
		`(?:C:){6}(?::C)`,
		`:(?::C){1,6}`,
		`C?::`,
		`(?:0:){6}(?:C\.){3}C`,
		`::(?:ffff:)?(?:C\.){3}C`,
		`(?:0:){5}ffff:(?:C\.){3}C` + pyEOL,
	}, "|")+`)`, "C", ipv6Comp))
	// A hostname label; Ansible also forbids a label ending in "-" or "_" (a lookbehind Go's
	// regexp lacks, checked in isHostname).
	hostLabel = regexp.MustCompile(`(?i)^(?:` + pyWord + `|` + alnumRange + `)(?:[\p{L}\p{N}_-]|` + alnumRange + `)*$`)
)

// isHostname reports whether s is a hostname (or hostname pattern with ranges) to Ansible.
func isHostname(s string) bool {
	// Python's "$" accepts one trailing newline.
	s = strings.TrimSuffix(s, "\n")
	for _, label := range strings.Split(s, ".") {
		if !hostLabel.MatchString(label) || strings.HasSuffix(label, "-") || strings.HasSuffix(label, "_") {
			return false
		}
	}
	return true
}

// isIPAddress is the test Ansible uses for inventory_hostname_short.
func isIPAddress(s string) bool {
	return ipv4Address.MatchString(s) || ipv6Address.MatchString(s)
}

var errNotAddress = errors.New("not a valid network hostname")

// parseAddress is Ansible's parse_address: it splits an optional port off a host
// identifier and checks what is left is an IPv4 or IPv6 address or a hostname. port is -1
// when none is given. Unless allowRanges, a host with a [x:y] range is refused.
func parseAddress(address string, allowRanges bool) (host string, port int, err error) {
	port = -1
	// Both forms are tried in turn, as Ansible does: "[a:1]:2" gives host a, port 1.
	for _, re := range []*regexp.Regexp{bracketedHostPort, hostPort} {
		if m := re.FindStringSubmatch(address); m != nil {
			address = m[1]
			if port, err = strconv.Atoi(m[2]); err != nil {
				return "", -1, fmt.Errorf("port %s: %w", m[2], err)
			}
		}
	}
	if !isIPAddress(address) && !isHostname(address) {
		return "", -1, errNotAddress
	}
	if !allowRanges && strings.Contains(address, "[") {
		return "", -1, errors.New("detected range in host but was asked to ignore ranges")
	}
	return address, port, nil
}

// expandHostPattern is the inventory plugins' _expand_hostpattern: a host name or range
// pattern with an optional port becomes the host names it stands for and the port (-1 for
// none). Something that is not an address is taken whole as one name, without a port.
func expandHostPattern(pattern string) ([]string, int, error) {
	name, port, err := parseAddress(pattern, true)
	if err != nil {
		name, port = pattern, -1
	}
	if !strings.Contains(name, "[") {
		return []string{name}, port, nil
	}
	var names []string
	budget := maxRangeHosts
	if err := expandRange(name, &names, &budget); err != nil {
		return nil, -1, fmt.Errorf("host range %q: %w", name, err)
	}
	return names, port, nil
}

// maxRangeHosts bounds the work of expanding one range pattern (about the host names it
// gives). Ansible has no limit, but a typo such as web[1:1000000000] would exhaust memory;
// 262144 is four times 10.0.[0:255].[0:255], more than Ansible itself can handle.
var maxRangeHosts = 1 << 18

var errRangeTooLarge = errors.New("host range too large")

const asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// expandRange is Ansible's expand_hostname_range: it expands the first [beg:end(:step)] of
// line, numeric (zero-padded when beg has a leading zero) or alphabetic, and recurses into
// the rest, appending the host names to out. Each value expanded costs one unit of budget.
func expandRange(line string, out *[]string, budget *int) error {
	parts := strings.Split(strings.Replace(strings.Replace(line, "[", "|", 1), "]", "|", 1), "|")
	if len(parts) != 3 {
		return errors.New("unbalanced brackets")
	}
	head, nrange, tail := parts[0], parts[1], parts[2]
	bounds := strings.Split(nrange, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return errors.New("host range must be begin:end or begin:end:step")
	}
	beg, end, step := bounds[0], bounds[1], "1"
	if len(bounds) == 3 {
		step = bounds[2]
	}
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return errors.New("host range must specify end value")
	}
	width := 0
	if beg[0] == '0' && len(beg) > 1 {
		width = len(beg)
		if width != len(end) {
			return errors.New("host range must specify equal-length begin and end formats")
		}
	}
	seq, err := rangeSeq(beg, end, step)
	if err != nil {
		return err
	}
	if *budget -= len(seq); *budget < 0 {
		return errRangeTooLarge
	}
	for _, s := range seq {
		if width > 0 {
			s = zfill(s, width)
		}
		name := head + s + tail
		if !strings.Contains(name, "[") {
			*out = append(*out, name)
		} else if err := expandRange(name, out, budget); err != nil {
			return err
		}
	}
	return nil
}

// rangeSeq lists the values of a range: letters when beg and end are found in
// string.ascii_letters (Python's str.index, so "ab" counts as "a"), numbers otherwise.
func rangeSeq(beg, end, step string) ([]string, error) {
	iBeg, iEnd := strings.Index(asciiLetters, beg), strings.Index(asciiLetters, end)
	stepN, stepErr := pyInt(step)
	if iBeg >= 0 && iEnd >= 0 {
		if iBeg > iEnd {
			return nil, errors.New("host range must have begin <= end")
		}
		// A bad or zero step is a ValueError that sends Python to the numeric branch,
		// where the letters fail to convert.
		if stepErr == nil && stepN.Sign() != 0 {
			var seq []string
			for i, n := iBeg, smallInt(stepN); n > 0; i += n {
				seq = append(seq, asciiLetters[i:i+1])
				if n > iEnd-i {
					break
				}
			}
			return seq, nil
		}
	}
	b, err := pyInt(beg)
	if err != nil {
		return nil, fmt.Errorf("invalid literal for int() with base 10: %q", beg)
	}
	e, err := pyInt(end)
	if err != nil {
		return nil, fmt.Errorf("invalid literal for int() with base 10: %q", end)
	}
	if stepErr != nil {
		return nil, fmt.Errorf("invalid literal for int() with base 10: %q", step)
	}
	if stepN.Sign() == 0 {
		return nil, errors.New("range() arg 3 must not be zero")
	}
	// Python's range(beg, end+1, step), counted first so a huge range fails fast.
	stop := new(big.Int).Add(e, big.NewInt(1))
	span := new(big.Int).Sub(stop, b)
	if span.Sign() != stepN.Sign() {
		return nil, nil
	}
	count := new(big.Int).Quo(new(big.Int).Add(span, new(big.Int).Sub(stepN, big.NewInt(int64(stepN.Sign())))), stepN)
	if !count.IsInt64() || count.Int64() > int64(maxRangeHosts) {
		return nil, errRangeTooLarge
	}
	seq := make([]string, 0, count.Int64())
	v := new(big.Int).Set(b)
	for i := int64(0); i < count.Int64(); i++ {
		seq = append(seq, v.String())
		v.Add(v, stepN)
	}
	return seq, nil
}

// zfill is Python's str.zfill: zero-padding after any sign.
func zfill(s string, width int) string {
	if len(s) >= width {
		return s
	}
	sign := ""
	if s != "" && (s[0] == '-' || s[0] == '+') {
		sign, s = s[:1], s[1:]
	}
	return sign + strings.Repeat("0", width-len(sign)-len(s)) + s
}

// ParseAddress splits a host name from its port ("web1:2222", "[::1]:22"), as the add_host
// action does; port is 0 when there is none.
func ParseAddress(address string) (host string, port int, err error) {
	return parseAddress(address, false)
}
