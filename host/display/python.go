package display

import (
	"strings"
	"unicode/utf8"

	"github.com/tallyrun/tally/internal/pytext"
)

// The callback formats values the way Python does: results through json.dumps and item labels
// through str(). Events reach plugins as JSON, which does not keep Python's int/float
// distinction: integral floats print as integers, so that a return code of 0 does not print
// as 0.0.

// dumpJSON renders v as Ansible's _dump_results serialises it: Python's json.dumps with
// sort_keys=True and ensure_ascii=False, after strip_internal_keys has dropped every "_ansible_"
// key at any depth. indent 0 is json.dumps' compact form.
func dumpJSON(v any, indent int) string {
	s, _ := pytext.DumpJSON(v, pytext.JSONOptions{
		Pretty:               indent > 0,
		Indent:               strings.Repeat(" ", indent),
		IntegralFloatsAsInts: true,
		SkipKey:              isInternalKey,
	}) // no Converter: it cannot fail
	return s
}

func isInternalKey(k string) bool { return strings.HasPrefix(k, "_ansible_") }

// pyStr is Python's str(v), integral floats printed as integers.
func pyStr(v any) string {
	s, _ := pytext.Printer{IntegralFloatsAsInts: true}.Str(v) // no Converter: it cannot fail
	return s
}

// toInt reads a whole number from a decoded result.
func toInt(v any) int {
	f, _ := pytext.Number(v)
	return int(f)
}

// runeLen is Python's len() of a str.
func runeLen(s string) int {
	return utf8.RuneCountInString(s)
}
