package template

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

// sizeRanges are Ansible's SIZE_RANGES (module_utils.common.text.formatters), largest first.
var sizeRanges = []struct {
	suffix string
	limit  float64
}{
	{"Y", 1 << 80}, {"Z", 1 << 70}, {"E", 1 << 60}, {"P", 1 << 50}, {"T", 1 << 40},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

// humanReadable is Ansible's human_readable filter (bytes_to_human): size in the largest
// unit it reaches, or in unit, with two decimals.
func humanReadable(in any, a []any) (any, error) {
	size, ok := number(in)
	if !ok {
		return nil, fmt.Errorf("human_readable() failed on bad input: '>=' not supported between instances of '%s' and 'int'", typeName(in))
	}
	isbits, _ := truthy(a[0])
	unit := ""
	if a[1] != nil {
		unit = strings.ToUpper(pyStrLenient(a[1]))
	}
	i := 0
	for ; i < len(sizeRanges)-1; i++ {
		r := sizeRanges[i]
		if (a[1] == nil && size >= r.limit) || (a[1] != nil && unit != "" && unit[0] == r.suffix[0]) {
			break
		}
	}
	base := "Bytes"
	if isbits {
		base = "bits"
	}
	r := sizeRanges[i]
	suffix := r.suffix + base[:1]
	if r.limit == 1 {
		suffix = base
	}
	return fmt.Sprintf("%.2f %s", size/r.limit, suffix), nil
}

// humanNumber is the number and unit human_to_bytes reads from its input.
var humanNumber = regexp.MustCompile(`^\s*(\d*\.?\d*)\s*([A-Za-z]+)?`)

// humanToBytes is Ansible's human_to_bytes filter.
func humanToBytes(in any, a []any) (any, error) {
	unit := ""
	if a[0] != nil {
		unit = pyStrLenient(a[0])
	}
	isbits, _ := truthy(a[1])
	return HumanToBytes(pyStrLenient(in), unit, isbits)
}

// HumanToBytes is Ansible's human_to_bytes (module_utils.common.text.formatters): "10 KB" is
// 10240; defaultUnit applies to a bare number; a unit's second letter must be B (b with
// isbits).
func HumanToBytes(s, defaultUnit string, isbits bool) (int, error) {
	bad := fmt.Errorf("human_to_bytes() can't interpret following string: %s", s)
	m := humanNumber.FindStringSubmatch(s)
	num, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, bad
	}
	unit := m[2]
	if unit == "" {
		unit = defaultUnit
	}
	if unit == "" {
		return int(math.RoundToEven(num)), nil
	}
	key := strings.ToUpper(unit[:1])
	limit := 0.0
	for _, r := range sizeRanges {
		if r.suffix == key {
			limit = r.limit
		}
	}
	if limit == 0 {
		return 0, bad
	}
	class, name := "B", "byte"
	if isbits {
		class, name = "b", "bit"
	}
	if len(unit) > 1 && !strings.Contains(strings.ToLower(unit), name) && unit[1:2] != class {
		return 0, bad
	}
	return int(math.RoundToEven(num * limit)), nil
}

// rekeyOnMember is Ansible's rekey_on_member filter: the dicts of a list (or a dict's
// values) keyed on their member key.
func rekeyOnMember(in any, a []any) (any, error) {
	duplicates := pyStrLenient(a[1])
	if duplicates != "error" && duplicates != "overwrite" {
		return nil, fmt.Errorf("duplicates parameter to rekey_on_member has unknown value: %s", duplicates)
	}
	var items []any
	switch d := in.(type) {
	case map[string]any:
		for _, k := range dictKeys(d) {
			items = append(items, d[k])
		}
	case []any:
		items = d
	default:
		return nil, fmt.Errorf("Type is not a valid list, set, or dict")
	}
	key := pyStrLenient(a[0])
	out := pytext.NewDict(len(items))
	seen := map[string]any{} // by str(key)
	for _, it := range items {
		d, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("List item is not a valid dict")
		}
		k, ok := d[key]
		if !ok {
			return nil, fmt.Errorf("Key %s was not found", key)
		}
		ks := pyStrLenient(k)
		// Python's "if new_obj.get(key_elem)": an empty earlier dict is overwritten
		if prev, dup := seen[ks]; dup && len(prev.(map[string]any)) > 0 && duplicates == "error" {
			return nil, fmt.Errorf("Key %s is not unique, cannot correctly turn into dict", ks)
		}
		seen[ks] = it
		out.Set(k, it)
	}
	return out.Map(), nil
}
