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
	if err := checkPath("path", dest); err != nil {
		return nil, err
	}
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
	e.insertAfter, e.insertBefore = p.str("insertafter"), p.str("insertbefore")
	if e.insertAfter == "" && e.insertBefore == "" {
		e.insertAfter = "EOF"
	}

	script := fmt.Sprintf("p=%s\ntally_stat \"$p\" -L\ntally_ids\n", shPath(dest))
	if present && p.bool("create") && !t.Check {
		// As Ansible, a missing file's directories are created even if no line is added.
		script += "[ -e \"$p\" ] || mkdir -p -- \"$(dirname -- \"$p\")\" || exit 1\n"
	}
	script += "if [ -f \"$p\" ]; then cat -- \"$p\" || exit 1; fi"
	out, err := t.probe(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dest, err)
	}
	l := newLines(out)
	fi, err := l.stat()
	if err != nil {
		return nil, err
	}
	who, err := l.ids()
	if err != nil {
		return nil, err
	}
	dest = fi.path
	switch {
	case fi.isDir():
		return fail(fmt.Sprintf("Path %s is a directory !", dest), "rc", 256), nil
	case !fi.exists && !present:
		return Result{"changed": false, "msg": "file not present"}, nil
	case !fi.exists && !p.bool("create"):
		return fail(fmt.Sprintf("Destination %s does not exist !", dest), "rc", 257), nil
	}
	before := []byte(l.rest())
	lines := splitKeepEnds(before)
	var msg string
	var changed bool
	r := Result{"backup": ""}
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
	if !fi.exists && !changed {
		r["changed"], r["msg"] = false, msg
		return r, nil
	}
	cur, existed := fi.perm(), fi.exists
	if !fi.exists {
		cur = 0o666 &^ who.umask
		fi = &fileInfo{path: dest, exists: true, mode: typeReg | cur, uid: who.uid, gid: who.gid, owner: who.user, group: who.group}
	}
	a := attrsOf(p)
	cmds, err := a.commands(fi, who.umask)
	if err != nil {
		return modeFailure(err, dest), nil
	}
	attrsChanged := len(cmds) > 0
	if t.Diff {
		r["diff"] = lineinfileDiff(dest, a, fi, who.umask, before, bytes.Join(lines, nil))
	}
	if changed && !t.Check {
		mode := cur
		if a.mode != nil {
			mode, _ = resolveMode(a.mode, cur, false, who.umask) // valid: commands resolved it
		}
		data := bytes.Join(lines, nil)
		if v := p.str("validate"); v != "" {
			if res, err := validateContent(ctx, t, v, dest, data); res != nil || err != nil {
				return res, err
			}
		}
		if p.bool("backup") && existed {
			if r["backup"], err = backupFile(ctx, t, dest); err != nil {
				return nil, err
			}
		}
		if err := t.Conn.Put(ctx, dest, data, connection.FileMode(mode), t.Become); err != nil {
			return nil, err
		}
		// Put set the mode and kept the owner and group.
		if cmds, err = a.ownership().commands(fi, who.umask); err != nil {
			return nil, err
		}
	}
	if len(cmds) > 0 {
		if _, err := t.apply(ctx, cmds, dest); err != nil {
			return nil, err
		}
	}
	if attrsChanged {
		if changed {
			msg += " and "
		}
		msg += "ownership, perms or SE linux context changed"
		changed = true
	}
	r["changed"], r["msg"] = changed, msg
	return r, nil
}

// lineinfileDiff is lineinfile's diff: the file's content before and after, and the attributes
// a sets on fi.
func lineinfileDiff(dest string, a attrs, fi *fileInfo, umask uint32, before, after []byte) []any {
	content := map[string]any{"before": string(before), "after": string(after),
		"before_header": dest + " (content)", "after_header": dest + " (content)"}
	attr := map[string]any{}
	if ch, _ := a.changes(fi, umask); len(ch) > 0 { // commands computed them without error
		attr = attrsDiff("", ch)
	}
	attr["before_header"], attr["after_header"] = dest+" (file attributes)", dest+" (file attributes)"
	return []any{content, attr}
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

// validateContent runs the validate command (with %s for a file holding data, next to dest)
// and returns a failed result when it exits non-zero, as Ansible's lineinfile does.
func validateContent(ctx context.Context, t *Task, validate, dest string, data []byte) (Result, error) {
	if !strings.Contains(validate, "%s") {
		return fail("validate must contain %s: " + validate), nil
	}
	tmp := fmt.Sprintf("%s.tally-validate-%d", dest, time.Now().UnixNano())
	if err := t.Conn.Put(ctx, tmp, data, 0o600, t.Become); err != nil {
		return nil, err
	}
	defer t.sh(context.WithoutCancel(ctx), "rm -f -- "+shPath(tmp), nil, nil)
	res, err := t.sh(ctx, strings.ReplaceAll(validate, "%s", shPath(tmp)), nil, t.Env)
	if err != nil {
		return nil, err
	}
	if res.RC != 0 {
		return fail(fmt.Sprintf("failed to validate: rc:%d error:%s", res.RC, res.Stderr)), nil
	}
	return nil, nil
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
