package template

import (
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// extraFilters are Ansible's filters on dates, randomness, globs, password hashes,
// comments and sizes; init in filters.go adds them to filters.
func extraFilters() map[string]filterFunc {
	return map[string]filterFunc{
		"fileglob":        stringFilter(fileglob),
		"to_datetime":     sig([]string{"format"}, []any{"%Y-%m-%d %H:%M:%S"}, toDatetime),
		"strftime":        sig([]string{"second", "utc"}, []any{nil, false}, strftimeFilter),
		"random":          sig([]string{"start", "step", "seed"}, []any{nil, 1, nil}, randomFilter),
		"shuffle":         sig([]string{"seed"}, []any{nil}, shuffleFilter),
		"password_hash":   sig([]string{"hashtype", "salt", "salt_size", "rounds", "ident"}, []any{"sha512", nil, nil, nil, nil}, passwordHash),
		"comment":         commentFilter,
		"human_readable":  sig([]string{"isbits", "unit"}, []any{false, nil}, humanReadable),
		"rekey_on_member": sig([]string{"key", "duplicates"}, []any{"error"}, rekeyOnMember),
		"human_to_bytes":  sig([]string{"default_unit", "isbits"}, []any{nil, false}, humanToBytes),
	}
}

// fileglob is the files (not directories) on the controller matching pattern.
func fileglob(pattern string) (any, error) {
	matches, _ := filepath.Glob(pattern)
	out := []any{}
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			out = append(out, m)
		}
	}
	return out, nil
}

// datetime is Python's datetime.datetime (naive), as to_datetime makes it.
type datetime struct{ t time.Time }

// timedelta is Python's datetime.timedelta, the difference of two datetimes.
type timedelta struct{ d time.Duration }

func toDatetime(in any, a []any) (any, error) {
	s, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	f, err := py.Str(a[0])
	if err != nil {
		return nil, err
	}
	t, err := Strptime(s, f)
	if err != nil {
		return nil, err
	}
	return &datetime{t: t}, nil
}

// strftimeFilter formats seconds since the epoch (default now) in local time, or UTC.
func strftimeFilter(in any, a []any) (any, error) {
	f, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	t := time.Now()
	if a[0] != nil {
		sec, ok := number(a[0])
		if !ok {
			if s, isStr := a[0].(string); isStr {
				_, err := fmt.Sscan(s, &sec)
				ok = err == nil
			}
		}
		if !ok {
			return nil, fmt.Errorf("Invalid value for epoch value (%s)", pyStrLenient(a[0]))
		}
		t = time.Unix(0, int64(sec*1e9))
	}
	if b, _ := truthy(a[1]); b {
		t = t.UTC()
	}
	return strftime(t, f), nil
}

// strftimeVerbs are the C strftime directives Python passes through, in Go layouts.
var strftimeVerbs = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'H': "15", 'I': "03", 'M': "04", 'S': "05",
	'p': "PM", 'b': "Jan", 'B': "January", 'a': "Mon", 'A': "Monday", 'Z': "MST", 'z': "-0700",
	'e': "_2",
}

func strftime(t time.Time, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch c := f[i]; c {
		case '%':
			b.WriteByte('%')
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 's':
			// C's %s reads the fields as local time (mktime), as Python's strftime does.
			local := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.Local)
			fmt.Fprintf(&b, "%d", local.Unix())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday()))
		case 'u':
			fmt.Fprintf(&b, "%d", (int(t.Weekday())+6)%7+1)
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'c':
			b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
		default:
			if layout, ok := strftimeVerbs[c]; ok {
				b.WriteString(t.Format(layout))
			} else {
				b.WriteByte('%')
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// strptimeVerbs are the directives that Python's strptime reads with one digit or two (as
// 202001011200.0 for %Y%m%d%H%M.%S), where strftime always writes two: Go's unpadded layouts
// parse either.
var strptimeVerbs = map[byte]string{'d': "2", 'm': "1", 'M': "4", 'S': "5"}

// Strptime is Python's datetime.strptime for the common directives: a naive time, in UTC.
func Strptime(s, f string) (time.Time, error) {
	var layout strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			layout.WriteByte(f[i])
			continue
		}
		i++
		switch c := f[i]; c {
		case '%':
			layout.WriteByte('%')
		case 'f':
			layout.WriteString("000000") // handled below: Go needs the dot in the layout
		default:
			l, ok := strptimeVerbs[c]
			if !ok {
				l, ok = strftimeVerbs[c]
			}
			if !ok {
				return time.Time{}, fmt.Errorf("'%c' is a bad directive in format '%s'", c, f)
			}
			layout.WriteString(l)
		}
	}
	t, err := time.Parse(strings.ReplaceAll(layout.String(), ".000000", ".999999"), s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time data '%s' does not match format '%s'", s, f)
	}
	if !strings.Contains(f, "%Y") && !strings.Contains(f, "%y") {
		// Python's default year is 1900, Go's 0.
		t = time.Date(1900, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	return t, nil
}

func init() {
	globals["now"] = &function{name: "now", call: now}
}

// now is Ansible's now(utc=False, fmt=None) global: the naive local (or UTC) date and time,
// or that time formatted with strftime's fmt.
func now(_ *state, args []any, kw map[string]any) (any, error) {
	a, err := bindArgs("now", args, kw, []string{"utc", "fmt"}, false, nil)
	if err != nil {
		return nil, err
	}
	t := time.Now()
	if utc, _ := truthy(a[0]); utc {
		t = t.UTC()
	}
	// naive: the wall clock's fields, as Strptime's times carry them
	d := &datetime{t: time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)}
	if a[1] == nil {
		return d, nil
	}
	f, err := text(a[1], "fmt")
	if err != nil {
		return nil, err
	}
	return strftime(d.t, f), nil
}

// attr returns a datetime's attribute or method.
func (d *datetime) attr(name string) (any, bool) {
	t := d.t
	switch name {
	case "year":
		return t.Year(), true
	case "month":
		return int(t.Month()), true
	case "day":
		return t.Day(), true
	case "hour":
		return t.Hour(), true
	case "minute":
		return t.Minute(), true
	case "second":
		return t.Second(), true
	case "microsecond":
		return t.Nanosecond() / 1000, true
	case "strftime":
		return &function{name: name, call: func(_ *state, args []any, kw map[string]any) (any, error) {
			a, err := bindArgs(name, args, kw, []string{"format"})
			if err != nil {
				return nil, err
			}
			f, err := text(a[0], "format")
			return strftime(t, f), err
		}}, true
	case "timestamp":
		return &function{name: name, call: func(*state, []any, map[string]any) (any, error) {
			local := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.Local)
			return float64(local.UnixNano()) / 1e9, nil
		}}, true
	}
	return nil, false
}

func (d *datetime) String() string {
	if d.t.Nanosecond()/1000 != 0 {
		return d.t.Format("2006-01-02 15:04:05.000000")
	}
	return d.t.Format("2006-01-02 15:04:05")
}

// parts are a timedelta's days, seconds and microseconds, normalised as Python's.
func (td *timedelta) parts() (days, seconds, micros int) {
	us := td.d.Microseconds()
	day := int64(86400e6)
	days = int(us / day)
	rest := us % day
	if rest < 0 {
		days--
		rest += day
	}
	return days, int(rest / 1e6), int(rest % 1e6)
}

func (td *timedelta) attr(name string) (any, bool) {
	days, seconds, micros := td.parts()
	switch name {
	case "days":
		return days, true
	case "seconds":
		return seconds, true
	case "microseconds":
		return micros, true
	case "total_seconds":
		return &function{name: name, call: func(*state, []any, map[string]any) (any, error) {
			return float64(td.d.Microseconds()) / 1e6, nil
		}}, true
	}
	return nil, false
}

func (td *timedelta) String() string {
	days, seconds, micros := td.parts()
	s := fmt.Sprintf("%d:%02d:%02d", seconds/3600, seconds/60%60, seconds%60)
	if micros != 0 {
		s += fmt.Sprintf(".%06d", micros)
	}
	switch {
	case days == 1 || days == -1:
		s = fmt.Sprintf("%d day, %s", days, s)
	case days != 0:
		s = fmt.Sprintf("%d days, %s", days, s)
	}
	return s
}

// dateArith is datetime - datetime, datetime ± timedelta and timedelta ± timedelta.
func dateArith(op string, a, b any) (any, bool) {
	switch x := a.(type) {
	case *datetime:
		switch y := b.(type) {
		case *datetime:
			if op == "-" {
				return &timedelta{d: x.t.Sub(y.t)}, true
			}
		case *timedelta:
			switch op {
			case "+":
				return &datetime{t: x.t.Add(y.d)}, true
			case "-":
				return &datetime{t: x.t.Add(-y.d)}, true
			}
		}
	case *timedelta:
		if y, ok := b.(*timedelta); ok {
			switch op {
			case "+":
				return &timedelta{d: x.d + y.d}, true
			case "-":
				return &timedelta{d: x.d - y.d}, true
			}
		}
	}
	return nil, false
}

// dateCompare orders two datetimes or two timedeltas.
func dateCompare(a, b any) (int, bool) {
	switch x := a.(type) {
	case *datetime:
		if y, ok := b.(*datetime); ok {
			return x.t.Compare(y.t), true
		}
	case *timedelta:
		if y, ok := b.(*timedelta); ok {
			return cmpOrdered(int(x.d), int(y.d)), true
		}
	}
	return 0, false
}

// seeded returns a random source: Python's Random(seed) gives other numbers for the same
// seed, but the same seed gives the same numbers on every run, as in Ansible.
func seeded(seed any) *mrand.Rand {
	if seed == nil {
		return mrand.New(mrand.NewPCG(cryptoUint64(), cryptoUint64()))
	}
	h := fnv.New64a()
	h.Write([]byte(pyStrLenient(seed)))
	return mrand.New(mrand.NewPCG(h.Sum64(), 0))
}

func cryptoUint64() uint64 {
	n, err := rand.Int(rand.Reader, new(big.Int).SetUint64(1<<63))
	if err != nil {
		return uint64(time.Now().UnixNano())
	}
	return n.Uint64()
}

// randomFilter is Ansible's random: an element of a sequence, or a number in
// range(start, end, step) for an integer end.
func randomFilter(in any, a []any) (any, error) {
	r := seeded(a[2])
	if end, ok := integer(in); ok {
		start, step := 0, 1
		if a[0] != nil {
			if start, ok = integer(a[0]); !ok {
				return nil, errors.New("start must be an integer")
			}
		}
		if step, ok = integer(a[1]); !ok || step == 0 {
			return nil, errors.New("step must be a non-zero integer")
		}
		n := (end - start + step - 1) / step
		if step < 0 {
			n = (end - start + step + 1) / step
		}
		if n <= 0 {
			return nil, fmt.Errorf("empty range for randrange() (%d, %d, %d)", start, end, end-start)
		}
		return start + step*r.IntN(n), nil
	}
	if a[0] != nil {
		return nil, errors.New("start and step can only be used with integer values")
	}
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("Cannot choose from an empty sequence")
	}
	return items[r.IntN(len(items))], nil
}

func shuffleFilter(in any, a []any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return in, nil // Ansible returns what it cannot shuffle
	}
	out := append([]any{}, items...)
	seeded(a[0]).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// commentStyles are the comment filter's predefined styles.
var commentStyles = map[string]map[string]any{
	"plain":  {"decoration": "# "},
	"erlang": {"decoration": "% "},
	"c":      {"decoration": "// "},
	"cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
	"xml":    {"beginning": "<!--", "decoration": " - ", "end": "-->"},
}

// commentFilter is Ansible's comment: text decorated as a comment block of a style.
func commentFilter(_ *state, in any, args []any, kw map[string]any) (any, error) {
	s, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	styleName := "plain"
	if len(args) > 0 {
		styleName = pyStrLenient(args[0])
	} else if v, ok := kw["style"]; ok {
		styleName = pyStrLenient(v)
	}
	style, ok := commentStyles[styleName]
	if !ok {
		return nil, fmt.Errorf("KeyError: '%s'", styleName)
	}
	pre := style["decoration"]
	if d, ok := kw["decoration"]; ok {
		pre = d
	}
	trimmed := strings.TrimRight(pyStrLenient(pre), " \t\n")
	p := map[string]any{"newline": "\n", "beginning": "", "prefix": trimmed, "prefix_count": 1,
		"decoration": "", "postfix": trimmed, "postfix_count": 1, "end": ""}
	for k, v := range style {
		p[k] = v
	}
	for k, v := range kw {
		if k != "style" {
			p[k] = v
		}
	}
	str := func(k string) string { return pyStrLenient(p[k]) }
	count := func(k string) int { n, _ := integer(p[k]); return n }
	nl, deco := str("newline"), str("decoration")
	var b strings.Builder
	if str("beginning") != "" {
		b.WriteString(str("beginning") + nl)
	}
	if prefix := str("prefix"); prefix != "" {
		unit := prefix + nl
		if prefix == nl {
			unit = nl
		}
		b.WriteString(strings.Repeat(unit, count("prefix_count")))
	}
	body := deco + strings.ReplaceAll(s, nl, nl+deco)
	b.WriteString(strings.ReplaceAll(body, deco+nl, strings.TrimRight(deco, " \t\n")+nl))
	for range count("postfix_count") {
		b.WriteString(nl + str("postfix"))
	}
	if str("end") != "" {
		b.WriteString(nl + str("end"))
	}
	return b.String(), nil
}
