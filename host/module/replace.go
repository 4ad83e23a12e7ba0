package module

import (
	"bytes"
	"context"
	"fmt"
)

var replaceSpec = &argSpec{module: "replace", options: withAttrs(map[string]option{
	"path":     {kind: kindPath, required: true, aliases: []string{"dest", "destfile", "name"}},
	"regexp":   {kind: kindStr, required: true},
	"replace":  {kind: kindStr, def: ""},
	"after":    {kind: kindStr},
	"before":   {kind: kindStr},
	"backup":   {kind: kindBool, def: false},
	"validate": {kind: kindStr},
	"encoding": {kind: kindStr, def: "utf-8"},
})}

// runReplace replaces every match of a regular expression in a file (multiline, as Ansible's
// re.subn with re.MULTILINE), optionally only between after and before, with one Exec to read
// the file, one Put when its content changes, and one Exec for attributes.
var runReplace = withSpec(replaceSpec, replaceModule)

func init() { register("replace", Spec{Run: runReplace}) }

func replaceModule(ctx context.Context, t *Task, p params) (Result, error) {
	re, err := compilePython("(?m)" + p.str("regexp"))
	if err != nil {
		return nil, fmt.Errorf("replace regexp %q: %w", p.str("regexp"), err)
	}
	var pattern string
	switch after, before := p.str("after"), p.str("before"); {
	case after != "" && before != "":
		pattern = after + "(?P<subsection>.*?)" + before
	case after != "":
		pattern = after + "(?P<subsection>.*)"
	case before != "":
		pattern = "(?P<subsection>.*)" + before
	}
	var section *pyRegexp
	if pattern != "" {
		if section, err = compilePython("(?s)" + pattern); err != nil {
			return nil, fmt.Errorf("replace after/before pattern %q: %w", pattern, err)
		}
	}
	f, err := readText(ctx, t, p.str("path"), false)
	if err != nil {
		return nil, err
	}
	path := f.fi.path
	switch {
	case f.fi.isDir():
		return fail(fmt.Sprintf("Path %s is a directory !", path), "rc", 256), nil
	case !f.fi.exists:
		return fail(fmt.Sprintf("Path %s does not exist !", path), "rc", 257), nil
	}
	contents := f.before
	lo, hi := 0, len(contents)
	if section != nil {
		m := section.FindSubmatchIndex(contents)
		if m == nil {
			return Result{"changed": false, "rc": 0,
				"msg": "Pattern for before/after params did not match the given file: " + pattern}, nil
		}
		g := section.SubexpIndex("subsection")
		lo, hi = m[2*g], m[2*g+1]
	}
	replaced, n := re.subn(contents[lo:hi], []byte(p.str("replace")))
	r := Result{"rc": 0}
	changed := n > 0 && !bytes.Equal(replaced, contents[lo:hi])
	after := contents
	msg := ""
	if changed {
		after = bytes.Join([][]byte{contents[:lo], replaced, contents[hi:]}, nil)
		msg = fmt.Sprintf("%d replacements made", n)
		if t.Diff {
			r["diff"] = map[string]any{"before_header": path, "before": string(contents), "after_header": path, "after": string(after)}
		}
	}
	s, err := f.save(ctx, t, p, after, changed)
	if err != nil || s.failed != nil {
		return s.failed, err
	}
	if s.backup != "" {
		r["backup_file"] = s.backup
	}
	r["msg"], r["changed"] = attrsMsg(msg, changed, s.attrsChanged)
	return r, nil
}
