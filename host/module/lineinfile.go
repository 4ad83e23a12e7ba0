package module

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
)

var lineinfileSpec = &argSpec{module: "lineinfile", options: withAttrs(map[string]option{
	"path":          {kind: kindPath, required: true, aliases: []string{"dest", "destfile", "name"}},
	"state":         {kind: kindStr, def: "present", choices: []string{"absent", "present"}},
	"regexp":        {kind: kindStr, aliases: []string{"regex"}},
	"search_string": {kind: kindStr},
	"line":          {kind: kindStr, aliases: []string{"value"}},
	"insertafter":   {kind: kindStr},
	"insertbefore":  {kind: kindStr},
	"backrefs":      {kind: kindBool, def: false},
	"create":        {kind: kindBool, def: false},
	"firstmatch":    {kind: kindBool, def: false},
	"backup":        {kind: kindBool, def: false},
	"validate":      {kind: kindStr},
}), exclusive: [][]string{{"insertbefore", "insertafter"}, {"regexp", "search_string"}, {"backrefs", "search_string"}}}

// runLineinfile edits a file with one Exec to read it (with its stat), one Put when the lines
// change, and one Exec more only when attributes differ.
var runLineinfile = withSpec(lineinfileSpec, lineinfile)

func lineinfile(ctx context.Context, t *Task, p params) (Result, error) {
	var err error
	dest := p.str("path")
	present := p.str("state") == "present"
	e := edit{line: []byte(p.str("line")), backrefs: p.bool("backrefs"), firstmatch: p.bool("firstmatch")}
	for _, o := range []struct {
		name string
		re   **pyRegexp
	}{{"regexp", &e.re}, {"insertafter", &e.insRe}, {"insertbefore", &e.insRe}} {
		v := p.str(o.name)
		if !p.has(o.name) || o.name != "regexp" && (v == "BOF" || v == "EOF") {
			continue
		}
		if *o.re, err = compilePython(v); err != nil {
			return nil, fmt.Errorf("lineinfile %s %q: %w", o.name, v, err)
		}
	}
	if p.has("search_string") {
		s := []byte(p.str("search_string"))
		e.search = &s
	}
	switch {
	case present && e.backrefs && e.re == nil:
		return fail("regexp is required with backrefs=true"), nil
	case present && !p.has("line"):
		return fail("line is required with state=present"), nil
	case !present && e.re == nil && e.search == nil && !p.has("line"):
		return fail("one of line, search_string, or regexp is required with state=absent"), nil
	}
	var warnings []string
	if p.has("regexp") && p.str("regexp") == "" {
		warnings = append(warnings, "The regular expression is an empty string, which will match every line in the file. "+
			"This may have unintended consequences, such as replacing the last line in the file rather than appending. "+
			"If this is desired, use '^' to match every line in the file and avoid this warning.")
	}
	if e.search != nil && len(*e.search) == 0 {
		warnings = append(warnings, "The search string is an empty string, which will match every line in the file. "+
			"This may have unintended consequences, such as replacing the last line in the file rather than appending.")
	}
	e.insertAfter, e.insertBefore = p.str("insertafter"), p.str("insertbefore")
	if e.insertAfter == "" && e.insertBefore == "" {
		e.insertAfter = "EOF"
	}

	f, err := readText(ctx, t, dest, present && p.bool("create"))
	if err != nil {
		return nil, err
	}
	dest = f.fi.path
	switch {
	case f.fi.isDir():
		return fail(fmt.Sprintf("Path %s is a directory !", dest), "rc", 256), nil
	case !f.fi.exists && !present:
		return Result{"changed": false, "msg": "file not present"}, nil
	case !f.fi.exists && !p.bool("create"):
		return fail(fmt.Sprintf("Destination %s does not exist !", dest), "rc", 257), nil
	}
	before := f.before
	lines := splitKeepEnds(before)
	var msg string
	var changed bool
	r := Result{"backup": ""}
	if warnings != nil {
		r["warnings"] = warnings
	}
	if present {
		lines, msg, changed = e.present(lines)
	} else {
		var found int
		lines, found = e.absent(lines)
		changed = found > 0
		if changed {
			msg = fmt.Sprintf("%d line(s) removed", found)
		}
		r["found"] = found
	}
	if !f.fi.exists && !changed {
		r["changed"], r["msg"] = false, msg
		return r, nil
	}
	f.assumeCreated()
	after := bytes.Join(lines, nil)
	if t.Diff {
		r["diff"] = textDiff(dest, attrsOf(p), f.fi, f.who.umask, before, after)
	}
	s, err := f.save(ctx, t, p, after, changed)
	if err != nil || s.failed != nil {
		return s.failed, err
	}
	if s.backup != "" {
		r["backup"] = s.backup
	}
	msg, changed = attrsMsg(msg, changed, s.attrsChanged)
	r["changed"], r["msg"] = changed, msg
	return r, nil
}

// edit is a lineinfile edit, ported from Ansible's present() and absent().
type edit struct {
	line                      []byte
	re, insRe                 *pyRegexp
	search                    *[]byte
	insertAfter, insertBefore string
	backrefs, firstmatch      bool
}

func (e *edit) present(lines [][]byte) ([][]byte, string, bool) {
	index := [2]int{-1, -1}
	var match []int // submatch indexes of the regexp's match in lines[index[0]]
	matched := false
	if e.re != nil {
		for i, l := range lines {
			if m := e.re.FindSubmatchIndex(chomp(l)); m != nil {
				index[0], match, matched = i, m, true
				if e.firstmatch {
					break
				}
			}
		}
	}
	if e.search != nil {
		for i, l := range lines {
			if bytes.Contains(l, *e.search) {
				index[0], matched = i, true
				if e.firstmatch {
					break
				}
			}
		}
	}
	if !matched {
		for i, l := range lines {
			if bytes.Equal(e.line, bytes.TrimRight(l, "\r\n")) {
				index[0] = i
			} else if e.insRe != nil && e.insRe.Match(chomp(l)) {
				if e.insertAfter != "" {
					index[1] = i + 1
				} else {
					index[1] = i
				}
				if e.firstmatch {
					break
				}
			}
		}
	}
	withEOL := append(append([]byte{}, e.line...), '\n')
	insert := func(at int) [][]byte {
		return append(lines[:at], append([][]byte{withEOL}, lines[at:]...)...)
	}
	endsWithEOL := func() bool {
		last := lines[len(lines)-1]
		return len(last) > 0 && (last[len(last)-1] == '\n' || last[len(last)-1] == '\r')
	}
	trimmedIs := func(i int) bool { return bytes.Equal(bytes.TrimRight(lines[i], "\r\n"), e.line) }
	switch {
	case index[0] != -1:
		newLine := e.line
		if e.backrefs && match != nil {
			newLine = expandPython(e.re, e.line, lines[index[0]], match)
		}
		if !bytes.HasSuffix(newLine, []byte("\n")) {
			newLine = append(append([]byte{}, newLine...), '\n')
		}
		if !bytes.Equal(lines[index[0]], newLine) {
			lines[index[0]] = newLine
			return lines, "line replaced", true
		}
	case e.backrefs:
		// Without a match there is nothing to fill the backreferences from.
	case e.insertBefore == "BOF" || e.insertAfter == "BOF":
		return insert(0), "line added", true
	case e.insertAfter == "EOF" || index[1] == -1:
		if len(lines) > 0 && !endsWithEOL() {
			lines = append(lines, []byte("\n"))
		}
		return append(lines, withEOL), "line added", true
	case e.insertAfter != "" && index[1] != -1:
		if len(lines) == index[1] {
			if !trimmedIs(index[1] - 1) {
				return append(lines, withEOL), "line added", true
			}
		} else if !trimmedIs(index[1]) {
			return insert(index[1]), "line added", true
		}
	default:
		return insert(index[1]), "line added", true
	}
	return lines, "", false
}

func (e *edit) absent(lines [][]byte) ([][]byte, int) {
	var kept [][]byte
	found := 0
	for _, l := range lines {
		var m bool
		switch {
		case e.re != nil:
			m = e.re.Match(chomp(l))
		case e.search != nil:
			m = bytes.Contains(l, *e.search)
		default:
			m = bytes.Equal(e.line, bytes.TrimRight(l, "\r\n"))
		}
		if m {
			found++
		} else {
			kept = append(kept, l)
		}
	}
	return kept, found
}

// splitKeepEnds splits b after each \n, as Python's readlines does.
func splitKeepEnds(b []byte) [][]byte {
	var lines [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b) - 1
		}
		lines = append(lines, b[:i+1])
		b = b[i+1:]
	}
	return lines
}

// chomp drops a line's \n, so that RE2's $ matches where Python's does: before it.
func chomp(line []byte) []byte { return bytes.TrimSuffix(line, []byte("\n")) }

// expandPython expands a Python re replacement template (\1, \g<1>, \g<name>, \n, \\) with the
// submatches m of re in src.
func expandPython(re *pyRegexp, tmpl, src []byte, m []int) []byte {
	group := func(ref string) []byte {
		n, err := strconv.Atoi(ref)
		if err != nil {
			n = re.SubexpIndex(ref)
		}
		if n < 0 || 2*n+1 >= len(m) || m[2*n] < 0 {
			return nil
		}
		return src[m[2*n]:m[2*n+1]]
	}
	var out []byte
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '\\' || i+1 == len(tmpl) {
			out = append(out, c)
			continue
		}
		i++
		switch n := tmpl[i]; {
		case n >= '0' && n <= '9':
			j := i + 1
			if j < len(tmpl) && tmpl[j] >= '0' && tmpl[j] <= '9' {
				j++
			}
			out = append(out, group(string(tmpl[i:j]))...)
			i = j - 1
		case n == 'g' && i+1 < len(tmpl) && tmpl[i+1] == '<':
			if end := bytes.IndexByte(tmpl[i:], '>'); end > 0 {
				out = append(out, group(string(tmpl[i+2:i+end]))...)
				i += end
			} else {
				out = append(out, '\\', n)
			}
		case n == 'n':
			out = append(out, '\n')
		case n == 't':
			out = append(out, '\t')
		case n == 'r':
			out = append(out, '\r')
		case n == '\\':
			out = append(out, '\\')
		default:
			out = append(out, '\\', n)
		}
	}
	return out
}

// validateContent runs the validate command (see validateFile) as lineinfile, blockinfile,
// replace and assemble do, and returns their failure if it fails.
func validateContent(ctx context.Context, t *Task, validate, dest string, data []byte) (Result, error) {
	res, failed, err := validateFile(ctx, t, validate, dest, data, 0o600)
	if err != nil || failed != nil {
		return failed, err
	}
	if res.RC != 0 {
		return fail(fmt.Sprintf("failed to validate: rc:%d error:%s", res.RC, res.Stderr)), nil
	}
	return nil, nil
}

// validateFile runs the validate command on a temporary file next to dest that holds data
// with mode, as Ansible's modules run it: `validate % path` (Python's % formatting), split as
// shlex does and run without a shell. It returns the command's outcome; failed is set when
// validate has no %s, or is a module exception when Python's formatting or splitting would
// raise.
func validateFile(ctx context.Context, t *Task, validate, dest string, data []byte, mode uint32) (res connection.Result, failed Result, err error) {
	if !strings.Contains(validate, "%s") {
		return res, fail("validate must contain %s: " + validate), nil
	}
	tmp := fmt.Sprintf("%s.tally-validate-%d", dest, time.Now().UnixNano())
	cmd, err := template.Percent(validate, tmp)
	if err != nil {
		return res, moduleException(err.Error()), nil
	}
	argv, err := pytext.ShlexSplit(cmd, false)
	if err != nil {
		return res, moduleException(err.Error()), nil
	}
	if err := t.Conn.Put(ctx, tmp, data, connection.FileMode(mode), t.Become); err != nil {
		return res, nil, err
	}
	defer t.sh(context.WithoutCancel(ctx), "rm -f -- "+shPath(tmp), nil)
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = connection.Quote(a)
	}
	res, err = t.sh(ctx, strings.Join(quoted, " "), nil)
	return res, nil, err
}

// backupFile copies path to Ansible's backup name, path.PID.YYYY-MM-DD@HH:MM:SS~, keeping its
// mode and times, and returns that name.
func backupFile(ctx context.Context, t *Task, path string) (string, error) {
	name := fmt.Sprintf("%s.%d.%s~", path, os.Getpid(), time.Now().Format("2006-01-02@15:04:05"))
	if _, err := t.probe(ctx, fmt.Sprintf("cp -p -- %s %s", shPath(path), shPath(name))); err != nil {
		return "", fmt.Errorf("backup %s: %w", path, err)
	}
	return name, nil
}
