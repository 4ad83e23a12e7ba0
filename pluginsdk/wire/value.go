package wire

import "math"

// Value is one encoded value, read in place: what event.Data.RawResult holds. Reading it as
// another kind than its own gives the zero value; a malformed value panics (the host never
// sends one, and the SDK turns a panic in a hook into an error).
type Value []byte

// Kind is the value's kind; an empty Value is Null.
func (v Value) Kind() Kind {
	if len(v) == 0 {
		return Null
	}
	return Kind(v[0])
}

// Bool is the value of a True or False.
func (v Value) Bool() bool { return v.Kind() == True }

// Int is the value of an Int.
func (v Value) Int() int64 {
	if v.Kind() != Int {
		return 0
	}
	n, _ := number(v, 0, Int)
	return int64(n)
}

// Float is the value of a Float.
func (v Value) Float() float64 {
	if v.Kind() != Float {
		return 0
	}
	n, _ := number(v, 0, Float)
	return math.Float64frombits(n)
}

// Str is the value of a String, sharing v's memory.
func (v Value) Str() string {
	if v.Kind() != String {
		return ""
	}
	s, _ := str(v, 0)
	return s
}

// Len is the number of items of a List or a Map.
func (v Value) Len() int {
	if k := v.Kind(); k != List && k != Map {
		return 0
	}
	n, _ := header(v, 0, v.Kind())
	return n
}

// Iter returns an iterator over the items of a List (with empty keys) or of a Map, in order:
//
//	for it := v.Iter(); it.Next(); {
//		use(it.Key(), it.Value())
//	}
//
// (A loop over a plain iterator costs no call per item, which matters in WebAssembly.)
func (v Value) Iter() Iter {
	it := Iter{v: v, kind: v.Kind()}
	if it.kind == List || it.kind == Map {
		it.left, it.off = header(v, 0, it.kind)
	}
	return it
}

// Iter iterates over a List's or a Map's items.
type Iter struct {
	v         Value
	kind      Kind
	left, off int
	key       string
	item      Value
}

// Next moves to the next item and reports whether there is one.
func (it *Iter) Next() bool {
	if it.left == 0 {
		return false
	}
	it.left--
	if it.kind == Map {
		it.key, it.off = keyAt(it.v, it.off)
	}
	end := valueEnd(it.v, it.off)
	it.item, it.off = it.v[it.off:end:end], end
	return true
}

// Key is the current item's key; empty in a List.
func (it *Iter) Key() string { return it.key }

// Value is the current item.
func (it *Iter) Value() Value { return it.item }

// Get returns the item of a Map under key, or Null.
func (v Value) Get(key string) Value {
	if v.Kind() != Map {
		return nil
	}
	for it := v.Iter(); it.Next(); {
		if it.Key() == key {
			return it.Value()
		}
	}
	return nil
}

// Decode decodes the value into Go values, as DecodeValue does (and with its hand-over rule).
func (v Value) Decode() (any, error) { return DecodeValue(v) }
