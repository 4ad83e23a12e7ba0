package pytext

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestTruthyFollowsPython(t *testing.T) {
	tests := []struct {
		in   any
		want bool
	}{
		{nil, false}, {false, false}, {"", false}, {0, false}, {0.0, false}, {[]any{}, false},
		{map[string]any{}, false}, {[]string{}, false}, {json.Number("0"), false}, {int64(0), false},
		{Tuple{}, false}, {Raw(""), false},
		{true, true}, {"no", true}, {"0", true}, {2, true}, {-0.5, true}, {math.NaN(), true}, {[]any{nil}, true},
		{[]string{"x"}, true}, {map[string]int{"a": 0}, true}, {Tuple{nil}, true}, {stringer{1}, true},
	}
	for _, tt := range tests {
		if got := Truthy(tt.in); got != tt.want {
			t.Errorf("Truthy(%#v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTypeNameMatchesPython(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "NoneType"}, {true, "bool"}, {3, "int"}, {uint16(3), "int"}, {json.Number("3"), "int"},
		{2.5, "float"}, {float32(2.5), "float"}, {json.Number("2.5"), "float"}, {"s", "str"},
		{[]any{}, "list"}, {[]string{}, "list"}, {Tuple{}, "tuple"}, {map[string]any{}, "dict"},
		{map[string]string{}, "dict"}, {stringer{}, "str"},
	}
	for _, tt := range tests {
		if got := TypeName(tt.in); got != tt.want {
			t.Errorf("TypeName(%#v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

type named string

type record struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func TestNormalizeGivesTheValueModel(t *testing.T) {
	n := 5
	var nilPtr *int
	tests := []struct {
		in, want any
	}{
		{"s", "s"},
		{Tuple{1}, Tuple{1}},
		{int32(7), 7},
		{uint8(3), 3},
		{uint64(math.MaxUint64), float64(math.MaxUint64)},
		{float32(0.5), 0.5},
		{json.Number("12"), 12},
		{json.Number("1.5"), 1.5},
		{named("x"), "x"},
		{&n, 5},
		{nilPtr, nil},
		{[]string{"b", "a"}, []any{"b", "a"}},
		{[2]int{1, 2}, []any{1, 2}},
		{map[string]string{"k": "v"}, map[string]any{"k": "v"}},
		{map[any]any{1: "x", nil: true}, map[string]any{"1": "x", "None": true}},
		{map[int]bool{2: false}, map[string]any{"2": false}},
		{stringer{3}, "***"},
		{record{"a", 2}, map[string]any{"name": "a", "count": json.Number("2")}},
		{Raw("r"), "r"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Normalize(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestJSONNumbersAtEveryDepth(t *testing.T) {
	v := map[string]any{"a": json.Number("1"), "b": []any{json.Number("2.5"), map[string]any{"c": json.Number("12345678901")}}}
	want := map[string]any{"a": 1, "b": []any{2.5, map[string]any{"c": 12345678901}}}
	if got := JSONNumbers(v); !reflect.DeepEqual(got, want) {
		t.Errorf("JSONNumbers = %#v, want %#v", got, want)
	}
}
