package inventory

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tallyrun/tally/internal/pytext"
)

// Inventory values are what yaml.v3 would give for the same data: string, int, float64,
// bool, nil, []any and map[string]any. Python also uses other keys than strings in a dict
// and tells apart values Go does not (1, 1.0 and True are one dict key); this file holds the
// few helpers that reproduce Python's key semantics on those values.

// unhashableError is Python's TypeError for a list, dict or set used as a dict key or set
// member: Ansible fails the inventory source on it.
type unhashableError struct{ typ string }

func (e unhashableError) Error() string { return fmt.Sprintf("unhashable type: '%s'", e.typ) }

// nanKeys numbers NaN keys, which never equal one another.
var nanKeys atomic.Int64

// hashKey returns a string equal for two values exactly when Python considers them the same
// dict key (1 == 1.0 == True, -0.0 == 0), or an unhashableError.
func hashKey(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "None", nil
	case bool:
		if v {
			return "n:1", nil
		}
		return "n:0", nil
	case int:
		return "n:" + strconv.Itoa(v), nil
	case float64:
		if math.IsNaN(v) {
			// Every NaN object is a distinct key to Python.
			return fmt.Sprintf("nan:%d", nanKeys.Add(1)), nil
		}
		if v == math.Trunc(v) && !math.IsInf(v, 0) {
			n, _ := big.NewFloat(v).Int(nil)
			return "n:" + n.String(), nil
		}
		return "f:" + strconv.FormatFloat(v, 'g', -1, 64), nil
	case string:
		return "s:" + v, nil
	case pytext.Tuple:
		var b strings.Builder
		b.WriteString("t(")
		for _, e := range v {
			k, err := hashKey(e)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%d:%s", len(k), k)
		}
		b.WriteString(")")
		return b.String(), nil
	case []any:
		return "", unhashableError{"list"}
	default:
		return "", unhashableError{"dict"}
	}
}

// keyString is the string a Python dict key becomes in a map[string]any: what json.dumps
// makes of it, since that is how Ansible shows such keys (json.dumps refuses a tuple: its
// repr() is used).
func keyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(k)
	case int:
		return strconv.Itoa(k)
	case float64:
		return pytext.FormatFloat(k)
	default:
		return pytext.Repr(k)
	}
}
