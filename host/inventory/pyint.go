package inventory

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"unicode"

	"github.com/tallyrun/tally/internal/pytext"
)

// Python's int(), which the inventory uses for host ranges and YAML integers, with integers of
// any size, as Python has them.

var errPyInt = errors.New("invalid literal for int()")

// pyInt is Python's int(s) for a str in base 10.
func pyInt(s string) (*big.Int, error) { return pyIntBase(s, 10) }

// pyIntBase is Python's int(s, base) for a str: surrounding whitespace, a sign, the base's
// prefix (0x, 0o, 0b) and single underscores between digits are accepted. Only ASCII
// digits are (Python also takes other Unicode decimal digits).
func pyIntBase(s string, base int) (*big.Int, error) {
	t := pytext.Strip(s)
	neg := strings.HasPrefix(t, "-")
	if neg || strings.HasPrefix(t, "+") {
		t = t[1:]
	}
	if prefix := map[int]string{2: "0b", 8: "0o", 16: "0x"}[base]; prefix != "" && len(t) > 2 && strings.EqualFold(t[:2], prefix) {
		// Python allows one underscore right after the prefix.
		t = strings.TrimPrefix(t[2:], "_")
	}
	digits, ok := pyDigits(t, "0123456789abcdefghijklmnopqrstuvwxyz"[:base])
	if !ok {
		return nil, errPyInt
	}
	n, _ := new(big.Int).SetString(digits, base)
	if neg {
		n.Neg(n)
	}
	return n, nil
}

// pyDigits checks that s is one or more digits from set with single underscores between
// them, and returns it without the underscores.
func pyDigits(s, set string) (string, bool) {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return "", false
	}
	out := strings.ReplaceAll(s, "_", "")
	for _, r := range out {
		if !strings.ContainsRune(set, unicode.ToLower(r)) {
			return "", false
		}
	}
	return out, true
}

// smallInt converts n to an int, saturating at the int range: callers use it for counts and
// indexes where anything that large behaves the same.
func smallInt(n *big.Int) int {
	switch {
	case n.IsInt64() && n.Int64() >= math.MinInt && n.Int64() <= math.MaxInt:
		return int(n.Int64())
	case n.Sign() < 0:
		return math.MinInt
	default:
		return math.MaxInt
	}
}

// intValue turns a Python int into the Go value tally uses for it: an int when it fits,
// otherwise the nearest float64 (as yaml.v3 does for out-of-range integers).
func intValue(n *big.Int) any {
	if n.IsInt64() {
		return int(n.Int64())
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return f
}
