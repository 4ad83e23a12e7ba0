package lookup

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
)

// iniLookup reads keys from an INI file (or a Java properties file with type=properties);
// options come as keywords or inline ("key section=s file=f").
func iniLookup(c *call, terms []any) ([]any, error) {
	params, err := c.params(map[string]any{"type": "ini", "file": "ansible.ini", "section": "global", "re": false,
		"encoding": "utf-8", "default": "", "case_sensitive": false, "allow_no_value": false, "allow_none": false})
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, t := range terms {
		term := fmt.Sprint(t)
		key := term
		p := maps.Clone(params)
		if strings.Contains(term, "=") || strings.Contains(strings.TrimSpace(term), " ") {
			updated := false
			for _, phrase := range iniParams(term, params) {
				name, value, isKV := strings.Cut(phrase, "=")
				if !isKV {
					if !updated {
						key, updated = phrase, true
					}
					continue
				}
				if strings.Contains(value, "=") {
					return nil, &Error{Msg: fmt.Sprintf("Could not use '%s' from '%s': too many values to unpack (expected 2)", phrase, term)}
				}
				if _, ok := params[name]; !ok {
					return nil, &Error{Msg: name + " is not a valid option."}
				}
				p[name] = value
			}
			if !updated {
				return nil, &OptionsError{Msg: "No key to lookup was provided as first term with in string inline options: " + term}
			}
		}
		file := fmt.Sprint(p["file"])
		data, err := c.readFound("files", file, fmt.Errorf("could not locate file in lookup: %s", file))
		if err != nil {
			return nil, err
		}
		text, err := decodeText(data, fmt.Sprint(p["encoding"]))
		if err != nil {
			return nil, err
		}
		section := fmt.Sprint(p["section"])
		if p["type"] == "properties" {
			text, section = "[java_properties]\n"+text, "java_properties"
		}
		// As Ansible's, whose parser is made before the terms' inline options are read.
		allowNoValue := template.Truthy(params["allow_no_value"]) || template.Truthy(params["allow_none"])
		ini, err := parseINI(text, template.Truthy(p["case_sensitive"]), allowNoValue)
		var parsing *exceptionError
		if errors.As(err, &parsing) {
			return nil, err
		} else if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("Duplicate option in '%s': %v", file, err)}
		}
		sec, ok := ini.sections[section]
		if !ok {
			return nil, &Error{Msg: fmt.Sprintf("No section '%s' in %s", section, file)}
		}
		if template.Truthy(p["re"]) {
			re, err := regexp.Compile("^(?:" + key + ")")
			if err != nil {
				return nil, err
			}
			for _, k := range sec.keys {
				if re.MatchString(k) {
					out = append(out, sec.values[k])
				}
			}
			continue
		}
		if !template.Truthy(p["case_sensitive"]) {
			key = strings.ToLower(key)
		}
		if v, ok := sec.values[key]; ok {
			if v != nil { // a key without a value: Ansible leaves its None out
				out = append(out, v)
			}
		} else if p["default"] != nil {
			out = append(out, p["default"])
		}
	}
	return out, nil
}

// iniParams is the ini lookup's _parse_params: words, each starting a new parameter when it
// names a known option, the others joined to the current one with spaces.
func iniParams(term string, valid map[string]any) []string {
	params := map[string]string{}
	var keys []string
	this := "key"
	for i, phrase := range strings.Fields(term) {
		if strings.Contains(phrase, "=") {
			for k := range valid {
				if strings.Contains(phrase, k+"=") {
					this = k
				}
			}
		}
		if i == 0 || params[this] == "" {
			params[this] = phrase
			keys = append(keys, this)
		} else {
			params[this] += " " + phrase
		}
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = params[k]
	}
	return out
}

type iniSection struct {
	keys   []string
	values map[string]any // a key without a value (allow_no_value) is None
}

type iniFile struct{ sections map[string]*iniSection }

// parseINI reads INI text as Python's configparser does: [sections], "key = value" or
// "key: value", # and ; comments, indented continuation lines, keys lower-cased unless
// caseSensitive, DEFAULT's keys in every section. A key without a value is None with
// allowNoValue, else a line of configparser's ParsingError.
func parseINI(text string, caseSensitive, allowNoValue bool) (*iniFile, error) {
	f := &iniFile{sections: map[string]*iniSection{}}
	var cur *iniSection
	var last string
	var parsing strings.Builder
	lines := strings.SplitAfter(text, "\n") // as Python reads them, for ParsingError
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for lineno := 1; sc.Scan(); lineno++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
			last = ""
			continue
		}
		if cur != nil && last != "" && line[0] != trimmed[0] && (line[0] == ' ' || line[0] == '\t') {
			if s, ok := cur.values[last].(string); ok {
				cur.values[last] = s + "\n" + trimmed
			}
			continue
		}
		if strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]") {
			name := trimmed[1 : len(trimmed)-1]
			if cur = f.sections[name]; cur == nil {
				cur = &iniSection{values: map[string]any{}}
				f.sections[name] = cur
			}
			last = ""
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("File contains no section headers")
		}
		i := strings.IndexAny(trimmed, "=:")
		var k string
		var v any
		if i < 0 && !allowNoValue {
			fmt.Fprintf(&parsing, "\n\t[line %2d]: %s", lineno, pytext.Repr(lines[lineno-1]))
			last = ""
			continue
		}
		if i < 0 {
			k, v = trimmed, nil
		} else {
			k, v = strings.TrimSpace(trimmed[:i]), strings.TrimSpace(trimmed[i+1:])
		}
		if !caseSensitive {
			k = strings.ToLower(k)
		}
		if _, dup := cur.values[k]; dup {
			return nil, fmt.Errorf("option '%s' in section already exists", k)
		}
		cur.keys = append(cur.keys, k)
		cur.values[k] = v
		last = k
	}
	if parsing.Len() > 0 {
		return nil, &exceptionError{class: "configparser.ParsingError", msg: "Source contains parsing errors: '<???>'" + parsing.String()}
	}
	if def, ok := f.sections["DEFAULT"]; ok {
		for name, s := range f.sections {
			if name == "DEFAULT" {
				continue
			}
			for _, k := range def.keys {
				if _, ok := s.values[k]; !ok {
					s.keys = append(s.keys, k)
					s.values[k] = def.values[k]
				}
			}
		}
	}
	return f, sc.Err()
}

// csvfileLookup returns column col of the first row whose first field is the key.
func csvfileLookup(c *call, terms []any) ([]any, error) {
	params, err := c.params(map[string]any{"file": "ansible.csv", "delimiter": "TAB", "col": "1", "default": nil, "encoding": "utf-8"})
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, t := range terms {
		kv, err := playbook.ParseKV(fmt.Sprint(t))
		if err != nil {
			return nil, err
		}
		key, ok := kv["_raw_params"]
		if !ok {
			return nil, fmt.Errorf("Search key is required but was not found")
		}
		p := maps.Clone(params)
		for k, v := range kv {
			if k == "_raw_params" {
				continue
			}
			if _, ok := params[k]; !ok {
				return nil, fmt.Errorf("%s is not a valid option", k)
			}
			p[k] = v
		}
		delim := fmt.Sprint(p["delimiter"])
		if delim == "TAB" || delim == `\t` {
			delim = "\t"
		}
		file := fmt.Sprint(p["file"])
		path, ok := c.findOrWarn("files", file)
		if !ok {
			return nil, fmt.Errorf("csvfile: [Errno 2] No such file or directory: '%s'", file)
		}
		v, err := c.readCSV(path, fmt.Sprint(key), delim, p["col"], p["default"])
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

func (c *call) readCSV(path, key, delim string, col, def any) (any, error) {
	data, err := c.readFile(path)
	if err != nil {
		return nil, fmt.Errorf("csvfile: %w", err)
	}
	r := []rune(delim)
	if len(r) != 1 {
		return nil, fmt.Errorf("csvfile: \"delimiter\" must be a 1-character string")
	}
	for _, row := range pyCSV(string(data), r[0]) {
		if len(row) > 0 && row[0] == key {
			// col is read only for a matching row, as Ansible's read_csv does
			n, err := strconv.Atoi(fmt.Sprint(col))
			if err != nil {
				return nil, fmt.Errorf("csvfile: invalid literal for int() with base 10: '%v'", col)
			}
			if n < 0 {
				n += len(row)
			}
			if n < 0 || n >= len(row) {
				return nil, fmt.Errorf("csvfile: list index out of range")
			}
			return row[n], nil
		}
	}
	return def, nil
}

// pyCSV splits text into rows as Python's csv.reader does with the excel dialect: a field
// starting with a double quote is quoted ("" is a quote, and text after the closing quote
// is kept), quotes inside an unquoted field are plain characters.
func pyCSV(text string, delim rune) [][]string {
	var rows [][]string
	var row []string
	var field strings.Builder
	const (
		start = iota
		plain
		quoted
		afterQuote
	)
	state := start
	endField := func() {
		row = append(row, field.String())
		field.Reset()
		state = start
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case state == quoted && c == '"':
			if i+1 < len(rs) && rs[i+1] == '"' {
				field.WriteRune('"')
				i++
			} else {
				state = afterQuote
			}
		case state == quoted:
			field.WriteRune(c)
		case c == delim:
			endField()
		case c == '\n' || c == '\r':
			if c == '\r' && i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
			if state != start || len(row) > 0 {
				endField()
			}
			if len(row) > 0 {
				rows = append(rows, row)
			}
			row = nil
		case state == start && c == '"':
			state = quoted
		default:
			field.WriteRune(c)
			if state == start {
				state = plain
			}
		}
	}
	if state != start || len(row) > 0 {
		endField()
		rows = append(rows, row)
	}
	return rows
}

// Python's string module constants, for the password lookup's chars.
var pyStringSets = map[string]string{
	"ascii_letters":   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"ascii_lowercase": "abcdefghijklmnopqrstuvwxyz",
	"ascii_uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"digits":          "0123456789",
	"hexdigits":       "0123456789abcdefABCDEF",
	"octdigits":       "01234567",
	"punctuation":     "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
	"letters":         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"lowercase":       "abcdefghijklmnopqrstuvwxyz",
	"uppercase":       "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
}

// passwordLookup returns the password stored in a file (relative to the playbook directory),
// creating the file with a random password when it does not exist, as Ansible does: mode
// 0600 in a directory created 0700, the password and a newline. /dev/null gives a new
// password every time. With encrypt (sha256_crypt, sha512_crypt) the file keeps a salt after the
// password ("PASSWORD salt=SALT", a new salt added when missing) and the lookup returns the
// password hashed with it, as Ansible's; ident is not supported (it is for bcrypt).
func passwordLookup(c *call, terms []any) ([]any, error) {
	if err := c.strictOpts("length", "chars", "seed"); err != nil {
		return nil, err
	}
	c.r.pwMu.Lock()
	defer c.r.pwMu.Unlock()
	out := []any{}
	for _, t := range terms {
		rel, params, err := passwordParams(fmt.Sprint(t))
		if err != nil {
			return nil, err
		}
		for _, k := range []string{"length", "chars", "seed"} {
			if _, ok := params[k]; !ok && c.opts[k] != nil {
				params[k] = c.opts[k]
			}
		}
		if params["ident"] != nil {
			return nil, &OptionsError{Msg: "the password lookup's ident is not supported by tally"}
		}
		encrypt := ""
		if e := params["encrypt"]; e != nil {
			encrypt = fmt.Sprint(e)
		}
		length := 20
		if l, ok := params["length"]; ok {
			if length, err = strconv.Atoi(fmt.Sprint(l)); err != nil {
				return nil, fmt.Errorf("invalid literal for int() with base 10: '%v'", l)
			}
		}
		chars := passwordChars(params["chars"])
		path := c.pathDwim(rel)
		pw, salt, changed := "", "", true
		if data, err := os.ReadFile(path); err == nil && path != "/dev/null" {
			pw, changed = strings.TrimRightFunc(string(data), unicode.IsSpace), false
			if i := strings.LastIndex(pw, " salt="); i >= 0 {
				pw, salt = pw[:i], pw[i+len(" salt="):]
			}
		} else if pw, err = randomPassword(length, chars, params["seed"]); err != nil {
			return nil, err
		}
		if encrypt != "" && salt == "" {
			if salt, err = randomPassword(16, saltChars, nil); err != nil {
				return nil, err
			}
			changed = true
		}
		if changed && path != "/dev/null" {
			content := pw
			if salt != "" {
				content += " salt=" + salt
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
				return nil, err
			}
		}
		if encrypt != "" {
			if pw, err = template.PasswordHash(pw, encrypt, salt); err != nil {
				return nil, err
			}
		}
		out = append(out, pw)
	}
	return out, nil
}

// saltChars are the characters of the password lookup's salts (Ansible's random_salt).
const saltChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./"

// passwordParams splits "path key=value ..." (the path may contain spaces).
func passwordParams(term string) (string, map[string]any, error) {
	rel, rest, ok := strings.Cut(term, " ")
	if !ok {
		return term, map[string]any{}, nil
	}
	params, err := playbook.ParseKV(rest)
	if err != nil {
		return "", nil, err
	}
	if raw, ok := params["_raw_params"]; ok {
		rel += " " + fmt.Sprint(raw)
		delete(params, "_raw_params")
		if !strings.HasPrefix(term, rel) {
			return "", nil, fmt.Errorf("Unrecognized value after key=value parameters given to password lookup")
		}
	}
	var bad []string
	for k := range params {
		switch k {
		case "length", "encrypt", "chars", "ident", "seed":
		default:
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		return "", nil, fmt.Errorf("Unrecognized parameter(s) given to password lookup: %s", strings.Join(bad, ", "))
	}
	return rel, params, nil
}

// passwordChars is _gen_candidate_chars: names of Python's string sets or literal text,
// comma-separated (",," is a comma), quotes removed.
func passwordChars(v any) string {
	var specs []string
	switch x := v.(type) {
	case nil:
		specs = []string{"ascii_letters", "digits", ".,:-_"}
	case string:
		if strings.Contains(x, ",,") {
			specs = append(specs, ",")
		}
		for _, s := range strings.Split(strings.ReplaceAll(x, ",,", ","), ",") {
			if s != "" {
				specs = append(specs, s)
			}
		}
	case []any:
		for _, s := range x {
			specs = append(specs, fmt.Sprint(s))
		}
	}
	var b strings.Builder
	for _, s := range specs {
		if set, ok := pyStringSets[s]; ok {
			b.WriteString(set)
		} else {
			b.WriteString(s)
		}
	}
	return strings.NewReplacer(`"`, "", "'", "").Replace(b.String())
}

// randomPassword picks length characters of chars, from the system's random source, or
// from a generator seeded with seed (repeatable, but not Python's sequence).
func randomPassword(length int, chars string, seed any) (string, error) {
	set := []rune(chars)
	if len(set) == 0 {
		return "", fmt.Errorf("the password lookup has no characters to choose from")
	}
	pick := func() (int, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		return int(n.Int64()), err
	}
	if seed != nil {
		h := fnv.New64a()
		h.Write([]byte(fmt.Sprint(seed)))
		g := mrand.New(mrand.NewPCG(h.Sum64(), 0))
		pick = func() (int, error) { return g.IntN(len(set)), nil }
	}
	out := make([]rune, length)
	for i := range out {
		n, err := pick()
		if err != nil {
			return "", err
		}
		out[i] = set[n]
	}
	return string(out), nil
}

// iso885915 are the code points where ISO-8859-15 differs from Latin-1.
var iso885915 = map[byte]rune{0xA4: '€', 0xA6: 'Š', 0xA8: 'š', 0xB4: 'Ž', 0xB8: 'ž', 0xBC: 'Œ', 0xBD: 'œ', 0xBE: 'Ÿ'}

// decodeText decodes a file's bytes as the encoding option says: UTF-8, Latin-1 or
// ISO-8859-15 (the encodings Python names utf-8, latin-1/iso-8859-1, iso-8859-15).
func decodeText(data []byte, encoding string) (string, error) {
	switch strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(encoding)) {
	case "utf-8", "utf8", "":
		return string(data), nil
	case "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1":
		return decode8bit(data, nil), nil
	case "iso-8859-15", "iso8859-15", "latin-9", "latin9":
		return decode8bit(data, iso885915), nil
	}
	return "", fmt.Errorf("unknown encoding: %s (tally reads utf-8, latin-1 and iso-8859-15)", encoding)
}

func decode8bit(data []byte, over map[byte]rune) string {
	var b strings.Builder
	for _, c := range data {
		if r, ok := over[c]; ok {
			b.WriteRune(r)
		} else {
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}
