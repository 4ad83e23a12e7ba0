package template

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

// arith applies a Python binary operator (Jinja's ~ included).
func arith(op string, a, b any) (any, error) {
	if u, ok := a.(*undefined); ok {
		return nil, u.err()
	}
	if u, ok := b.(*undefined); ok {
		return nil, u.err()
	}
	if out, ok := dateArith(op, a, b); ok {
		return out, nil
	}
	switch op {
	case "~":
		x, err := py.Str(a)
		if err != nil {
			return nil, err
		}
		y, err := py.Str(b)
		return x + y, err
	case "+":
		switch x := a.(type) {
		case string:
			if y, ok := b.(string); ok {
				return x + y, nil
			}
			return nil, fmt.Errorf("can only concatenate str (not \"%s\") to str", typeName(b))
		case []any:
			if y, ok := b.([]any); ok {
				return append(append(make([]any, 0, len(x)+len(y)), x...), y...), nil
			}
			return nil, fmt.Errorf("can only concatenate list (not \"%s\") to list", typeName(b))
		}
	case "*":
		if out, ok, err := repeat(a, b); ok {
			return out, err
		}
		if out, ok, err := repeat(b, a); ok {
			return out, err
		}
	case "%":
		if f, ok := a.(string); ok {
			return pyFormat(f, b)
		}
	}
	if x, ok := integer(a); ok {
		if y, ok := integer(b); ok {
			return intArith(op, x, y)
		}
	}
	x, okA := number(a)
	y, okB := number(b)
	if !okA || !okB {
		return nil, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(a), typeName(b))
	}
	return floatArith(op, x, y)
}

// repeat is seq * n for a string or list seq.
func repeat(seq, n any) (any, bool, error) {
	count, ok := integer(n)
	if !ok {
		return nil, false, nil
	}
	count = max(count, 0)
	switch s := seq.(type) {
	case string:
		return strings.Repeat(s, count), true, nil
	case []any:
		out := make([]any, 0, len(s)*count)
		for range count {
			out = append(out, s...)
		}
		return out, true, nil
	}
	return nil, false, nil
}

func intArith(op string, x, y int) (any, error) {
	switch op {
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	case "/":
		if y == 0 {
			return nil, errors.New("division by zero")
		}
		return float64(x) / float64(y), nil
	case "//", "%":
		if y == 0 {
			return nil, errors.New("integer division or modulo by zero")
		}
		q := x / y
		if (x%y != 0) && ((x < 0) != (y < 0)) {
			q--
		}
		if op == "//" {
			return q, nil
		}
		return x - q*y, nil
	case "**":
		if y < 0 {
			return floatArith(op, float64(x), float64(y))
		}
		return intPow(x, y)
	}
	return nil, fmt.Errorf("unsupported operator %s", op)
}

// intPow is x ** y for y >= 0 by squaring. Python's integers have no bound; tally's stop at
// 64 bits, so a result past them is an error rather than a wrong number or an endless loop.
func intPow(x, y int) (any, error) {
	r, ok := 1, true
	for ; y > 0 && ok; y >>= 1 {
		if y&1 == 1 {
			r, ok = mulInt(r, x)
		}
		if y > 1 && ok {
			x, ok = mulInt(x, x)
		}
	}
	if !ok {
		return nil, errors.New("integer result of ** too large (tally's integers are 64-bit)")
	}
	return r, nil
}

// mulInt is a * b and whether it fits in an int.
func mulInt(a, b int) (int, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt) || (b == -1 && a == math.MinInt) {
		return 0, false
	}
	return c, true
}

func floatArith(op string, x, y float64) (any, error) {
	switch op {
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	case "/":
		if y == 0 {
			return nil, errors.New("float division by zero")
		}
		return x / y, nil
	case "//":
		if y == 0 {
			return nil, errors.New("float floor division by zero")
		}
		return math.Floor(x / y), nil
	case "%":
		if y == 0 {
			return nil, errors.New("float modulo")
		}
		m := math.Mod(x, y)
		if m != 0 && (m < 0) != (y < 0) {
			m += y
		}
		return m, nil
	case "**":
		if x == 0 && y < 0 {
			return nil, errors.New("0.0 cannot be raised to a negative power")
		}
		return math.Pow(x, y), nil
	}
	return nil, fmt.Errorf("unsupported operator %s", op)
}

// Percent is Python's printf-style "format % arg", as Ansible's modules apply it to a
// validate command and its file's path.
func Percent(format string, arg any) (string, error) { return pyFormat(format, arg) }

// pyFormat is Python's printf-style "format % args". A list argument
// supplies one value per conversion when the format has several (Jinja's
// tuples are lists here); a dict supplies %(name)s conversions.
func pyFormat(format string, args any) (string, error) {
	specs := strings.Count(format, "%") - 2*strings.Count(format, "%%")
	values := []any{args}
	if l, ok := args.([]any); ok && specs != 1 {
		values = l
	}
	dict, _ := args.(map[string]any)
	return formatValues(format, values, dict)
}

// formatValues is "format % values" for a tuple of values, or for a dict
// when dict is not nil.
func formatValues(format string, values []any, dict map[string]any) (string, error) {
	var b strings.Builder
	next := 0
	take := func() (any, error) {
		if next >= len(values) {
			return nil, errors.New("not enough arguments for format string")
		}
		next++
		return values[next-1], nil
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		var arg any
		named := false
		if j < len(format) && format[j] == '(' {
			end := strings.IndexByte(format[j:], ')')
			if end < 0 || dict == nil {
				return "", errors.New("format requires a mapping")
			}
			key := format[j+1 : j+end]
			v, ok := dict[key]
			if !ok {
				return "", fmt.Errorf("format key %s not found", pytext.Quote(key))
			}
			arg, named = v, true
			j += end + 1
		}
		flagsStart := j
		for j < len(format) && strings.IndexByte("-+ #0", format[j]) >= 0 {
			j++
		}
		for j < len(format) && (format[j] >= '0' && format[j] <= '9' || format[j] == '.') {
			j++
		}
		for j < len(format) && strings.IndexByte("hlL", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			return "", errors.New("incomplete format")
		}
		spec := strings.Map(func(r rune) rune {
			if strings.ContainsRune("hlL", r) {
				return -1
			}
			return r
		}, format[flagsStart:j])
		verb := format[j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if !named {
			var err error
			if arg, err = take(); err != nil {
				return "", err
			}
		}
		s, err := formatOne(spec, verb, arg)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	if dict == nil && next < len(values) {
		return "", errors.New("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

func formatOne(spec string, verb byte, arg any) (string, error) {
	if u, ok := arg.(*undefined); ok {
		return "", u.err()
	}
	switch verb {
	case 's', 'r', 'a':
		str := py.Str
		if verb != 's' {
			str = py.Repr
		}
		s, err := str(arg)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%"+spec+"s", s), nil
	case 'd', 'i', 'u', 'x', 'X', 'o', 'c':
		f, ok := number(arg)
		if !ok {
			return "", fmt.Errorf("%%%c format: a real number is required, not %s", verb, typeName(arg))
		}
		n := int(f)
		switch verb {
		case 'x', 'X', 'o':
			return fmt.Sprintf("%"+spec+string(verb), n), nil
		case 'c':
			return string(rune(n)), nil
		}
		return fmt.Sprintf("%"+spec+"d", n), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		f, ok := number(arg)
		if !ok {
			return "", fmt.Errorf("must be real number, not %s", typeName(arg))
		}
		if !strings.Contains(spec, ".") {
			spec += ".6"
		}
		return fmt.Sprintf("%"+spec+string(verb), f), nil
	}
	return "", fmt.Errorf("unsupported format character '%c'", verb)
}

// toInt is Jinja's int filter conversion; ok is false when v does not
// convert (the filter then returns its default).
func toInt(v any, base int) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case bool:
		return integer(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return int(x), true
	case string:
		s := strings.ReplaceAll(strings.TrimSpace(x), "_", "")
		if base != 10 {
			for _, p := range []string{"0x", "0X", "0o", "0O", "0b", "0B"} {
				s = strings.TrimPrefix(s, p)
			}
		}
		if n, err := strconv.ParseInt(s, base, 64); err == nil {
			return int(n), true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && base == 10 {
			return toInt(f, base)
		}
	}
	return 0, false
}

// toFloat is Jinja's float filter conversion.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return number(v)
}
