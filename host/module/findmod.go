package module

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/internal/pytext"
)

var findSpec = &argSpec{module: "find", options: map[string]option{
	"paths":           {kind: kindList, required: true, aliases: []string{"name", "path"}},
	"patterns":        {kind: kindList, def: []string{}, aliases: []string{"pattern"}},
	"excludes":        {kind: kindList, aliases: []string{"exclude"}},
	"contains":        {kind: kindStr},
	"read_whole_file": {kind: kindBool, def: false},
	"file_type":       {kind: kindStr, def: "file", choices: []string{"any", "directory", "file", "link"}},
	"age":             {kind: kindStr},
	"age_stamp":       {kind: kindStr, def: "mtime", choices: []string{"atime", "ctime", "mtime"}},
	"size":            {kind: kindStr},
	"recurse":         {kind: kindBool, def: false},
	"hidden":          {kind: kindBool, def: false},
	"follow":          {kind: kindBool, def: false},
	"get_checksum":    {kind: kindBool, def: false},
	"use_regex":       {kind: kindBool, def: false},
	"depth":           {kind: kindInt},
}}

// runFind lists the files of directories on the host that match Ansible's find filters, with
// one Exec per path (the host's find and stat) and one more to read the candidates' content
// for contains or get_checksum.
var runFind = withSpec(findSpec, findModule)

func init() { register("find", Spec{Run: runFind}) }

var (
	findAge  = regexp.MustCompile(`^(-?\d+)(s|m|h|d|w)?$`)
	findSize = regexp.MustCompile(`^(-?\d+)(b|k|m|g|t)?$`)
)

// findFilter is a find task's filters.
type findFilter struct {
	patterns, excludes []*pyRegexp // fnmatch patterns are translated
	fileType, ageStamp string
	age, size          *int64
	contains           *pyRegexp
	endOfText          bool // contains has \Z
	wholeFile          bool
	hidden             bool
}

func findModule(ctx context.Context, t *Task, p params) (Result, error) {
	f := findFilter{fileType: p.str("file_type"), ageStamp: p.str("age_stamp"), wholeFile: p.bool("read_whole_file"), hidden: p.bool("hidden")}
	patterns := p.list("patterns")
	if len(patterns) == 0 {
		patterns = []string{"*"}
		if p.bool("use_regex") {
			patterns = []string{".*"}
		}
	}
	var err error
	if f.patterns, err = namePatterns(patterns, p.bool("use_regex")); err != nil {
		return nil, err
	}
	if f.excludes, err = namePatterns(p.list("excludes"), p.bool("use_regex")); err != nil {
		return nil, err
	}
	if p.has("contains") {
		expr := p.str("contains")
		f.endOfText = strings.Contains(expr, `\Z`)
		if !f.wholeFile {
			expr = `\A(?:` + expr + `)` // Python's match: at the line's start
		}
		if f.contains, err = compilePython(expr); err != nil {
			return nil, fmt.Errorf("find contains %q: %w", p.str("contains"), err)
		}
	}
	for _, o := range []struct {
		name  string
		re    *regexp.Regexp
		units map[string]int64
		dst   **int64
	}{
		{"age", findAge, map[string]int64{"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}, &f.age},
		{"size", findSize, map[string]int64{"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}, &f.size},
	} {
		if !p.has(o.name) {
			continue
		}
		m := o.re.FindStringSubmatch(strings.ToLower(p.str(o.name)))
		if m == nil {
			return fail("failed to process "+o.name, o.name, p.str(o.name)), nil
		}
		n, _ := strconv.ParseInt(m[1], 10, 64) // the pattern allows digits only
		if u, ok := o.units[m[2]]; ok {
			n *= u
		}
		*o.dst = &n
	}
	files := []any{}
	skipped := map[string]any{}
	var warnings []any
	examined := 0
	var candidates []map[string]any // regular files whose content decides or is summed
	for _, dir := range p.list("paths") {
		entries, n, msg, err := walkHost(ctx, t, dir, p.bool("recurse"), p.bool("follow"), p.int("depth"))
		if err != nil {
			return nil, err
		}
		if msg != "" {
			skipped[dir] = msg
			warnings = append(warnings, fmt.Sprintf("Skipped '%s' path due to this access issue: %s\n", dir, msg))
			continue
		}
		examined += n
		for _, e := range entries {
			if !f.match(e) {
				continue
			}
			r := modeInfo(e.fi)
			r["path"], r["pw_name"], r["gr_name"] = e.fi.path, e.fi.owner, e.fi.group
			if e.fi.owner == "UNKNOWN" {
				r["pw_name"] = ""
			}
			if e.fi.group == "UNKNOWN" {
				r["gr_name"] = ""
			}
			if e.fi.isReg() && (f.contains != nil && f.fileType == "file" || p.bool("get_checksum") && f.fileType != "directory" && f.fileType != "link") {
				candidates = append(candidates, r)
			}
			files = append(files, r)
		}
	}
	if len(candidates) > 0 {
		if files, err = f.readCandidates(ctx, t, files, candidates, p.bool("get_checksum")); err != nil {
			return nil, err
		}
	}
	msg := "All paths examined"
	r := Result{"changed": false, "files": files, "matched": len(files), "examined": examined, "skipped_paths": skipped}
	if len(warnings) > 0 {
		msg = "Not all paths examined, check warnings for details"
		r["warnings"] = warnings
	}
	r["msg"] = msg
	return r, nil
}

// namePatterns compiles find's patterns: Python regular expressions matched at the name's
// start with use_regex, else fnmatch patterns.
func namePatterns(patterns []string, useRegex bool) ([]*pyRegexp, error) {
	var out []*pyRegexp
	for _, p := range patterns {
		expr := `\A(?:` + p + `)`
		if !useRegex {
			expr = pytext.FnmatchRegexp(p)
		}
		re, err := compilePython(expr)
		if err != nil {
			return nil, fmt.Errorf("find pattern %q: %w", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// match is Ansible's choice of an entry by file_type, name patterns, age and size.
func (f *findFilter) match(e findEntry) bool {
	name := path.Base(e.fi.path)
	if strings.HasPrefix(name, ".") && !f.hidden {
		return false
	}
	switch {
	case f.fileType == "any":
	case f.fileType == "directory" && e.fi.isDir(), f.fileType == "file" && e.fi.isReg(), f.fileType == "link" && e.fi.isLink():
	default:
		return false
	}
	if !f.nameMatches(name) {
		return false
	}
	if f.age != nil {
		ts := map[string]float64{"atime": e.fi.atime, "mtime": e.fi.mtime, "ctime": e.fi.ctime}[f.ageStamp]
		age := e.now - ts
		if *f.age >= 0 && age < float64(*f.age) || *f.age < 0 && age > float64(-*f.age) {
			return false
		}
	}
	if f.size != nil && e.fi.isReg() {
		if *f.size >= 0 && e.fi.size < *f.size || *f.size < 0 && e.fi.size > -*f.size {
			return false
		}
	}
	return true
}

// nameMatches is Ansible's pfilter: a pattern matches and no exclude does.
func (f *findFilter) nameMatches(name string) bool {
	for _, p := range f.patterns {
		if p.Match([]byte(name)) {
			for _, e := range f.excludes {
				if e.Match([]byte(name)) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// readCandidates reads the candidates' content in one Exec, drops from files those whose
// content does not match contains (for file_type file) and adds checksums with getChecksum.
func (f *findFilter) readCandidates(ctx context.Context, t *Task, files []any, candidates []map[string]any, getChecksum bool) ([]any, error) {
	var script strings.Builder
	script.WriteString(shCat + "tally_cat")
	for _, c := range candidates {
		script.WriteString(" " + connection.Quote(c["path"].(string)))
	}
	out, err := t.probe(ctx, script.String())
	if err != nil {
		return nil, fmt.Errorf("find: read files: %w", err)
	}
	frags, err := parseCat(out)
	if err != nil {
		return nil, fmt.Errorf("find: read files: %w", err)
	}
	data := map[string][]byte{}
	for _, fr := range frags {
		data[fr.name] = fr.data
	}
	kept := files[:0]
	for _, v := range files {
		r := v.(map[string]any)
		content, read := data[r["path"].(string)]
		if read && f.contains != nil && f.fileType == "file" && !f.contentMatches(content) {
			continue
		}
		if read && getChecksum {
			r["checksum"] = sha1Hex(content)
		}
		kept = append(kept, r)
	}
	return kept, nil
}

// contentMatches is Ansible's contentfilter: the pattern searched in the whole text, or
// matched at the start of a line.
func (f *findFilter) contentMatches(data []byte) bool {
	if f.wholeFile {
		// Python's $ matches at the end and also before a final newline, Go's only at the
		// end: a text that ends with a newline is searched again without it (unless the
		// pattern has \Z, Python's end of text only).
		trimmed, ends := bytes.CutSuffix(data, []byte("\n"))
		return f.contains.Match(data) || ends && !f.endOfText && f.contains.Match(trimmed)
	}
	for _, l := range splitKeepEnds(data) {
		if f.contains.Match(chomp(l)) {
			return true
		}
	}
	return false
}

// findEntry is an entry under a searched directory, with the host's time when it was listed.
type findEntry struct {
	fi  *fileInfo
	now float64
}

// walkHost lists what os.walk lists under dir on the host, in its order (each directory's
// files, then its subdirectories, then each subdirectory's in turn; a link to a directory is
// a directory), with the number of entries it examined, or the reason dir cannot be walked.
func walkHost(ctx context.Context, t *Task, dir string, recurse, follow bool, depth int) ([]findEntry, int, string, error) {
	if err := checkPath("paths", dir); err != nil {
		return nil, 0, "", err
	}
	opts := ""
	if follow {
		opts = "-L "
	}
	limit := ""
	switch {
	case !recurse:
		limit = "-maxdepth 1 "
	case depth > 0:
		limit = fmt.Sprintf("-maxdepth %d ", depth+1) // the entries of the deepest directories walked count as examined
	}
	out, err := t.probe(ctx, fmt.Sprintf(`d=%s
if [ ! -d "$d" ]; then echo NOTDIR; printf '%%s\n' "$d"; exit 0; fi
echo OK; date +%%s
find %s"$d" -mindepth 1 %s-exec stat -c '%s|%%n' -- {} + || exit 1
echo
find %s"$d" -mindepth 1 %s-exec sh -c 'for p do [ ! -d "$p" ] || printf "%%s\n" "$p"; done' sh {} +`,
		shPath(dir), opts, limit, statFormat, opts, limit))
	if err != nil {
		return nil, 0, "", fmt.Errorf("find in %s: %w", dir, err)
	}
	status, rest, _ := strings.Cut(out, "\n")
	if status == "NOTDIR" {
		return nil, 0, fmt.Sprintf("'%s' is not a directory", strings.TrimSuffix(rest, "\n")), nil
	}
	nowLine, rest, _ := strings.Cut(rest, "\n")
	now, err := strconv.ParseFloat(nowLine, 64)
	if err != nil {
		return nil, 0, "", fmt.Errorf("find in %s: unexpected output from the host: %q", dir, nowLine)
	}
	stats, dirList, _ := strings.Cut(rest, "\n\n")
	isDir := map[string]bool{}
	for _, p := range strings.Split(dirList, "\n") {
		isDir[p] = true
	}
	root := ""
	children := map[string][]*fileInfo{}
	for _, line := range strings.Split(strings.TrimSuffix(stats, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "|", 16)
		if len(f) != 16 {
			return nil, 0, "", fmt.Errorf("find in %s: unexpected output from the host: %q", dir, line)
		}
		fi := &fileInfo{path: f[15]}
		if err := fi.parseStat(f[:15]); err != nil {
			return nil, 0, "", fmt.Errorf("find in %s: %w", dir, err)
		}
		parent := path.Dir(fi.path)
		if root == "" {
			root = parent
		}
		children[parent] = append(children[parent], fi)
	}
	var entries []findEntry
	examined := 0
	var walk func(base string, level int)
	walk = func(base string, level int) {
		kids := children[base]
		examined += len(kids)
		var subdirs []*fileInfo
		for _, fi := range kids {
			if isDir[fi.path] {
				subdirs = append(subdirs, fi)
			} else {
				entries = append(entries, findEntry{fi, now})
			}
		}
		for _, fi := range subdirs {
			entries = append(entries, findEntry{fi, now})
		}
		if !recurse || depth > 0 && level+1 > depth {
			return
		}
		for _, fi := range subdirs {
			if follow || !fi.isLink() {
				walk(fi.path, level+1)
			}
		}
	}
	walk(root, 0)
	// Entries deeper than depth are examined but not listed.
	if depth > 0 {
		kept := entries[:0]
		for _, e := range entries {
			if strings.Count(strings.TrimPrefix(e.fi.path, root), "/") <= depth {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	for i := range entries {
		entries[i].fi.path = path.Clean(entries[i].fi.path)
	}
	return entries, examined, "", nil
}
