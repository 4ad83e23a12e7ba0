package pytext

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// FormatFloat is Python's repr() of a float: the shortest digits that read back as f, in
// exponent form below 1e-4 and from 1e16 on, and otherwise always with a fraction ("1.0").
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		// Go's exponent form has Python's sign and two-digit minimum ("1e-05").
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// numberText writes a Go number as Python writes the int or float it holds, in JSON's
// spelling of the float specials when inJSON; a json.Number keeps its text.
func numberText(v any, integralFloatsAsInts, inJSON bool) (string, bool) {
	var f float64
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case json.Number:
		return x.String(), true
	case float32:
		f = float64(x)
	case float64:
		f = x
	default:
		return "", false
	}
	switch {
	case inJSON && math.IsNaN(f):
		return "NaN", true
	case inJSON && math.IsInf(f, 1):
		return "Infinity", true
	case inJSON && math.IsInf(f, -1):
		return "-Infinity", true
	case integralFloatsAsInts && f == math.Trunc(f) && math.Abs(f) < 1e16:
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return FormatFloat(f), true
}

// Number returns v as a float64 when it is a Python int or float: a Go integer or float, or a
// json.Number. A bool is not one here, although Python counts it as an int.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
