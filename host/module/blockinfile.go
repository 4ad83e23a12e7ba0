package module

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

var blockinfileSpec = &argSpec{module: "blockinfile", options: withAttrs(map[string]option{
	"path":         {kind: kindPath, required: true, aliases: []string{"dest", "destfile", "name"}},
	"state":        {kind: kindStr, def: "present", choices: []string{"absent", "present"}},
	"marker":       {kind: kindStr, def: "# {mark} ANSIBLE MANAGED BLOCK"},
	"block":        {kind: kindStr, def: "", aliases: []string{"content"}},
	"insertafter":  {kind: kindStr},
	"insertbefore": {kind: kindStr},
	"create":       {kind: kindBool, def: false},
	"backup":       {kind: kindBool, def: false},
	"validate":     {kind: kindStr},
	"marker_begin": {kind: kindStr, def: "BEGIN"},
	"marker_end":   {kind: kindStr, def: "END"},
}), exclusive: [][]string{{"insertbefore", "insertafter"}}}

// runBlockinfile puts a block of lines between marker lines in a file, or removes it, with
// Ansible's algorithm, one Exec to read the file, one Put when it changes and one Exec for
// attributes.
var runBlockinfile = withSpec(blockinfileSpec, blockinfile)

func init() { register("blockinfile", Spec{Run: runBlockinfile}) }

func blockinfile(ctx context.Context, t *Task, p params) (Result, error) {
	present := p.str("state") == "present"
	insertAfter, insertBefore := p.str("insertafter"), p.str("insertbefore")
	if !p.has("insertafter") && !p.has("insertbefore") {
		insertAfter = "EOF"
	}
	var insRe *pyRegexp
	for _, v := range []string{insertAfter, insertBefore} {
		if v != "" && v != "EOF" && v != "BOF" {
			var err error
			if insRe, err = compilePython(v); err != nil {
				return nil, fmt.Errorf("blockinfile insertafter/insertbefore %q: %w", v, err)
			}
			break
		}
	}
	f, err := readText(ctx, t, p.str("path"), p.bool("create"))
	if err != nil {
		return nil, err
	}
	path := f.fi.path
	switch {
	case f.fi.isDir():
		return fail(fmt.Sprintf("Path %s is a directory !", path), "rc", 256), nil
	case !f.fi.exists && !p.bool("create"):
		return fail(fmt.Sprintf("Path %s does not exist !", path), "rc", 257), nil
	}
	if !present && !f.fi.exists {
		return Result{"changed": false, "msg": fmt.Sprintf("File %s not present", path)}, nil
	}
	marker := p.str("marker")
	marker0 := []byte(strings.ReplaceAll(marker, "{mark}", p.str("marker_begin")) + "\n")
	marker1 := []byte(strings.ReplaceAll(marker, "{mark}", p.str("marker_end")) + "\n")
	var blockLines [][]byte
	if block := p.str("block"); present && block != "" {
		if !strings.HasSuffix(block, "\n") {
			block += "\n"
		}
		blockLines = append(append([][]byte{marker0}, splitKeepEnds([]byte(block))...), marker1)
	}
	lines := splitKeepEnds(f.before)
	n0, n1 := -1, -1
	for i, l := range lines {
		if bytes.Equal(l, marker0) {
			n0 = i
		}
		if bytes.Equal(l, marker1) {
			n1 = i
		}
	}
	switch {
	case n0 < 0 || n1 < 0:
		n0 = -1
		switch {
		case insRe == nil && insertBefore != "":
			n0 = 0 // BOF
		case insRe == nil:
			n0 = len(lines) // EOF
		case insRe.multiline:
			// Ansible searches the whole file with a (?m) pattern, and counts the lines
			// before the match's end (insertafter) or start (insertbefore).
			if m := insRe.FindSubmatchIndex(f.before); m != nil {
				at := m[0]
				if insertAfter != "" {
					at = m[1]
				}
				n0 = bytes.Count(f.before[:at], []byte("\n"))
			}
		default:
			for i, l := range lines {
				if insRe.Match(chomp(l)) {
					n0 = i
				}
			}
		}
		if insRe != nil {
			if n0 < 0 {
				n0 = len(lines)
			} else if insertAfter != "" {
				n0++
			}
		}
	case n0 < n1:
		lines = append(lines[:n0], lines[n1+1:]...)
	default:
		lines = append(lines[:n1], lines[n0+1:]...)
		n0 = n1
	}
	if n0 > 0 && !bytes.HasSuffix(lines[n0-1], []byte("\n")) {
		lines[n0-1] = append(append([]byte{}, lines[n0-1]...), '\n')
	}
	lines = append(lines[:n0], append(blockLines, lines[n0:]...)...)
	result := bytes.Join(lines, nil)
	// Ansible's diff has the content only in diff mode, and the attributes always.
	before, after := f.before, result
	if !t.Diff {
		before, after = nil, nil
	}
	var msg string
	changed := true
	switch {
	case f.fi.exists && bytes.Equal(f.before, result):
		msg, changed = "", false
	case !f.fi.exists:
		msg = "File created"
	case blockLines == nil:
		msg = "Block removed"
	default:
		msg = "Block inserted"
	}
	f.assumeCreated()
	diff := textDiff(path, attrsOf(p), f.fi, f.who.umask, before, after)
	if t.Check && !f.existed {
		return Result{"changed": changed, "msg": msg, "diff": diff[0]}, nil
	}
	s, err := f.save(ctx, t, p, result, changed)
	if err != nil || s.failed != nil {
		return s.failed, err
	}
	r := Result{"diff": diff}
	if s.backup != "" {
		r["backup_file"] = s.backup
	}
	r["msg"], r["changed"] = attrsMsg(msg, changed, s.attrsChanged)
	return r, nil
}
