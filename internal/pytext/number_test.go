package pytext

import (
	"encoding/json"
	"math"
	"testing"
)

func TestFormatFloatMatchesPythonRepr(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {1.5, "1.5"}, {0.1, "0.1"},
		{1e-4, "0.0001"}, {9.99e-05, "9.99e-05"}, {1e-05, "1e-05"}, {123.456, "123.456"},
		{1234567.5, "1234567.5"}, {1e16, "1e+16"}, {1.5e16, "1.5e+16"},
		{9999999999999998, "9999999999999998.0"}, {1e20, "1e+20"}, {1e100, "1e+100"},
		{5e-324, "5e-324"}, {1.0 / 3, "0.3333333333333333"}, {-2.5e-10, "-2.5e-10"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
	}
	for _, tt := range tests {
		if got := FormatFloat(tt.in); got != tt.want {
			t.Errorf("FormatFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		in   any
		want float64
		ok   bool
	}{
		{3, 3, true}, {int8(-3), -3, true}, {uint64(7), 7, true}, {float32(0.5), 0.5, true},
		{1.25, 1.25, true}, {json.Number("1e3"), 1000, true},
		{true, 0, false}, {"3", 0, false}, {json.Number("x"), 0, false}, {nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := Number(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Number(%#v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
