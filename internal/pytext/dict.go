package pytext

import (
	"cmp"
	"encoding/json"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"unsafe"
	"weak"
)

// A Python dict keeps its keys in insertion order, and its keys may be ints, floats, bools or
// None as well as strs; tally's dicts are Go maps keyed by Str(key), which keep neither. The
// keys of a map as Python has them are recorded beside it (SetKeys), for the maps whose
// origin knows them (YAML, dict literals, filters that build dicts), and read back with Keys.
// A map without a record, or the keys added to one after it was recorded, come in sorted
// order, as str keys.
//
// The record is found by the map's identity and holds it weakly: it goes when the map does,
// and a map allocated later at the same address never sees it.

type dictKeys struct {
	m    weak.Pointer[byte]
	keys []any          // in insertion order
	typ  map[string]any // Str(key) to key, for the keys that are not strs
}

var dictRecords sync.Map // map address (uintptr) to *dictKeys

func mapAddr(m map[string]any) *byte {
	return (*byte)(reflect.ValueOf(m).UnsafePointer())
}

// SetKeys records keys, in insertion order, as the Python keys of m: Str(k) is the entry of m
// each stands for. Keys of m that keys does not name keep the sorted order that follows.
func SetKeys(m map[string]any, keys []any) {
	if m == nil {
		return
	}
	p := mapAddr(m)
	rec := &dictKeys{m: weak.Make(p), keys: keys}
	for _, k := range keys {
		if _, ok := k.(string); !ok {
			if rec.typ == nil {
				rec.typ = map[string]any{}
			}
			rec.typ[Str(k)] = k
		}
	}
	addr := uintptr(unsafe.Pointer(p))
	dictRecords.Store(addr, rec)
	runtime.AddCleanup(p, func(rec *dictKeys) { dictRecords.CompareAndDelete(addr, rec) }, rec)
}

func dictRecord(m map[string]any) *dictKeys {
	if len(m) == 0 {
		return nil
	}
	p := mapAddr(m)
	r, ok := dictRecords.Load(uintptr(unsafe.Pointer(p)))
	if !ok {
		return nil
	}
	rec := r.(*dictKeys)
	if rec.m.Value() != p {
		return nil
	}
	return rec
}

// Keys returns m's keys as Python has them, in insertion order (see SetKeys).
func Keys(m map[string]any) []any {
	rec := dictRecord(m)
	out := make([]any, 0, len(m))
	seen := map[string]bool{}
	if rec != nil {
		for _, k := range rec.keys {
			s := Str(k)
			if _, ok := m[s]; ok && !seen[s] {
				seen[s] = true
				out = append(out, k)
			}
		}
	}
	if len(out) == len(m) {
		return out
	}
	for _, k := range sortedKeys(m) {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

// StrKeys is Keys as the entries of m: Str of each key.
func StrKeys(m map[string]any) []string {
	if dictRecord(m) == nil {
		return sortedKeys(m)
	}
	keys := Keys(m)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = Str(k)
	}
	return out
}

// Key returns the Python key that the entry k of m stands for: k itself unless it was
// recorded as a key of another type (an int, a bool...).
func Key(m map[string]any, k string) any {
	if rec := dictRecord(m); rec != nil && rec.typ != nil {
		if t, ok := rec.typ[k]; ok {
			return t
		}
	}
	return k
}

// CopyKeys records in dst the keys of src, for a map built from src's entries (and maybe
// others, which Keys then orders after src's).
func CopyKeys(dst, src map[string]any) {
	if dictRecord(src) != nil {
		SetKeys(dst, Keys(src))
	}
}

// SortedKeys returns m's keys as Python's sorted() orders them: numbers (bools included) by
// value before strs by code point, where Python would refuse to compare the two.
func SortedKeys(m map[string]any) []any {
	keys := Keys(m)
	num := func(v any) (float64, bool) {
		if b, ok := v.(bool); ok {
			return map[bool]float64{false: 0, true: 1}[b], true
		}
		return Number(v)
	}
	slices.SortStableFunc(keys, func(a, b any) int {
		fa, aNum := num(a)
		fb, bNum := num(b)
		switch {
		case aNum && bNum:
			return cmp.Compare(fa, fb)
		case aNum != bNum:
			if aNum {
				return -1
			}
			return 1
		}
		return cmp.Compare(Str(a), Str(b))
	})
	return keys
}

// Dict builds a map whose keys' order and types are recorded, as a Python dict is built.
type Dict struct {
	m    map[string]any
	keys []any
}

// NewDict starts a dict of about n entries.
func NewDict(n int) *Dict { return &Dict{m: make(map[string]any, n)} }

// Set is d[k] = v: a new key goes last, an existing one keeps its place.
func (d *Dict) Set(k, v any) {
	s := Str(k)
	if _, ok := d.m[s]; !ok {
		d.keys = append(d.keys, k)
	}
	d.m[s] = v
}

// Update is d.update(m): m's entries in m's order.
func (d *Dict) Update(m map[string]any) {
	for _, k := range StrKeys(m) {
		d.Set(Key(m, k), m[k])
	}
}

// Map returns the map built, its keys recorded.
func (d *Dict) Map() map[string]any {
	SetKeys(d.m, d.keys)
	return d.m
}

// DecodeJSON reads one JSON value from dec as Python's json.loads does: numbers as int or
// float by their form, objects in the order of their keys (a repeated key keeps its first
// place and its last value). dec must have UseNumber set.
func DecodeJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			out := []any{}
			for dec.More() {
				v, err := DecodeJSON(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token() // ]
			return out, err
		}
		d := NewDict(0)
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := DecodeJSON(dec)
			if err != nil {
				return nil, err
			}
			d.Set(k, v) // a key token is always a string
		}
		if _, err := dec.Token(); err != nil { // }
			return nil, err
		}
		return d.Map(), nil
	case json.Number:
		return Normalize(t), nil
	}
	return tok, nil // string, bool or nil
}
