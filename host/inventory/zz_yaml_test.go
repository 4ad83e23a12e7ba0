package inventory

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

func zzconv(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = zzconv(x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = zzconv(x)
		}
		return v
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "FLOAT:" + pyFloatRepr(v)
		}
	}
	return v
}

func TestZZYAML(t *testing.T) {
	data, err := os.ReadFile("/tmp/diff/yaml_cases.json")
	if err != nil {
		t.Skip()
	}
	var cases []string
	json.Unmarshal(data, &cases)
	for _, c := range cases {
		v, err := loadData("x.yml", []byte(c), nil)
		var b []byte
		if err != nil {
			b, _ = json.Marshal(map[string]any{"in": c, "err": true, "msg": err.Error()})
		} else {
			b, _ = json.Marshal(map[string]any{"in": c, "out": zzconv(plain(v))})
		}
		fmt.Println(string(b))
	}
}

func TestZZYAMLLines(t *testing.T) {
	for _, s := range []string{"web:\n  hosts:\n    h1:\n   x: 1\n", "color: [red\n", "a: b: c\n", "a: 1\nb: [1,\nc: 2\n", "a:\n  - b\n  c: d\n", "x: 1\n\ta: 1\n", "a: \"unterminated\n", "a: 1\n b: 2\n", "a:\n  b: 1\n c: 2\n", "x:\n  y: 'a\n  z: 1\n", "a: |\n x\n  - y\nb", "key: value\n- item\n", "\n\n\na: b: c\n", "a: *nope\n", "a: 1\n---\nb: 2\n"} {
		_, err := loadData("f", []byte(s), nil)
		fmt.Printf("%q => %v\n", s, err)
	}
}
