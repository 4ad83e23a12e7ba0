package pytext

import (
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestDictKeepsInsertionOrderAndKeyTypes(t *testing.T) {
	d := NewDict(0)
	for _, k := range []any{"zeta", 80, true, nil, 1.5, "alpha", 80} {
		d.Set(k, Str(k))
	}
	m := d.Map()
	m["added"] = 1 // not recorded: after the recorded keys
	delete(m, "zeta")
	if got, want := Keys(m), []any{80, true, nil, 1.5, "alpha", "added"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %#v, want %#v", got, want)
	}
	if got, want := SortedKeys(m), []any{true, 1.5, 80, nil, "added", "alpha"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SortedKeys = %#v, want %#v", got, want)
	}
	tests := []struct{ repr, json, sorted string }{{
		repr:   "{80: '80', True: 'True', None: 'None', 1.5: '1.5', 'alpha': 'alpha', 'added': 1}",
		json:   `{"80": "80", "true": "True", "null": "None", "1.5": "1.5", "alpha": "alpha", "added": 1}`,
		sorted: `{"true": "True", "1.5": "1.5", "80": "80", "null": "None", "added": 1, "alpha": "alpha"}`,
	}}
	for _, tt := range tests {
		if got := Repr(m); got != tt.repr {
			t.Errorf("Repr = %s, want %s", got, tt.repr)
		}
		if got, _ := DumpJSON(m, JSONOptions{InsertionOrder: true}); got != tt.json {
			t.Errorf("DumpJSON in insertion order = %s, want %s", got, tt.json)
		}
		if got, _ := DumpJSON(m, JSONOptions{}); got != tt.sorted {
			t.Errorf("DumpJSON sorted = %s, want %s", got, tt.sorted)
		}
	}
}

func TestDictWithoutRecordIsSorted(t *testing.T) {
	m := map[string]any{"b": 1, "a": 2, "c": 3}
	if got, want := StrKeys(m), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StrKeys = %q, want %q", got, want)
	}
	if got := Key(m, "a"); got != "a" {
		t.Errorf("Key = %#v, want \"a\"", got)
	}
}

func TestDictCopyKeysAndUpdateKeepOrder(t *testing.T) {
	src := NewDict(0)
	src.Set("b", 1)
	src.Set(2, 2)
	dst := map[string]any{"b": 1, "2": 2}
	CopyKeys(dst, src.Map())
	if got, want := Keys(dst), []any{"b", 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("CopyKeys: Keys = %#v, want %#v", got, want)
	}
	up := NewDict(0)
	up.Set("z", 0)
	up.Update(dst)
	if got, want := Keys(up.Map()), []any{"z", "b", 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("Update: Keys = %#v, want %#v", got, want)
	}
}

// A record goes with its map: a map allocated later, maybe at the same address, has none.
func TestDictRecordDoesNotOutliveItsMap(t *testing.T) {
	for range 100 {
		d := NewDict(0)
		d.Set("y", 1)
		d.Set("x", 2)
		d.Map()
	}
	runtime.GC()
	for range 100 {
		m := map[string]any{"y": 1, "x": 2}
		if got := StrKeys(m); got[0] != "x" {
			t.Fatalf("a new map has the keys of a dead one: %q", got)
		}
	}
}

func TestDecodeJSONKeepsKeyOrderAndNumberTypes(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"z": 1, "a": [2.0, {"y": null, "x": true}], "z": 3}`))
	dec.UseNumber()
	v, err := DecodeJSON(dec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Repr(v), "{'z': 3, 'a': [2.0, {'y': None, 'x': True}]}"; got != want {
		t.Errorf("DecodeJSON = %s, want %s", got, want)
	}
	dec = json.NewDecoder(strings.NewReader(`{"a": }`))
	dec.UseNumber()
	if _, err := DecodeJSON(dec); err == nil {
		t.Error("DecodeJSON of invalid JSON gave no error")
	}
}
