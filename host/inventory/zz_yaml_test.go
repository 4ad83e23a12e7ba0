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
