package playbook

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestParseKVMatchesAnsible replays cases whose expected results Ansible's own parse_kv
// produced (testdata/gen_parse_kv.py).
func TestParseKVMatchesAnsible(t *testing.T) {
	data, err := os.ReadFile("testdata/parse_kv.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		In       string         `json:"in"`
		CheckRaw bool           `json:"check_raw"`
		OK       map[string]any `json:"ok"`
		Error    string         `json:"error"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		got, err := parseKV(c.In, c.CheckRaw)
		switch {
		case c.Error != "":
			if err == nil || !strings.HasPrefix(strings.ToLower(c.Error), err.Error()) {
				t.Errorf("parseKV(%q, %v) = %v, %v; want error %q", c.In, c.CheckRaw, got, err, c.Error)
			}
		case err != nil:
			t.Errorf("parseKV(%q, %v) failed: %v", c.In, c.CheckRaw, err)
		case !reflect.DeepEqual(got, c.OK):
			t.Errorf("parseKV(%q, %v) = %#v; want %#v", c.In, c.CheckRaw, got, c.OK)
		}
	}
}
