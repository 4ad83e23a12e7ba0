// Package pytext reproduces the text Python and Ansible make of values, so that tally prints,
// converts and splits text exactly as ansible-core does: str() and repr(), float repr,
// json.dumps, str.strip and str.splitlines, shlex.split, and Python's truth value.
//
// Values follow the model JSON and YAML decoding give: nil (None), bool, string (str), int and
// float64, []any (list), Tuple (tuple) and map[string]any (dict, shown with sorted keys, since
// a Go map has lost Python's insertion order). Other Go numbers count as the int or float they
// hold, a json.Number as the number it spells (and is written as its own text), and values of
// any other type are first converted by Normalize.
//
// The bytes of a string that are not UTF-8 stand for what Ansible's surrogateescape decoding
// makes of them, the lone surrogates U+DC80..U+DCFF: Quote and DumpJSON with EnsureASCII escape
// them as Python does (\udcff), and DumpJSON without it writes the bytes back unchanged.
//
// The package depends on the standard library only: it is compiled into WebAssembly plugins.
package pytext
