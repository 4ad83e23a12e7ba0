package module

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

var assembleSpec = &argSpec{module: "assemble", options: withAttrs(map[string]option{
	"src":           {kind: kindPath, required: true},
	"dest":          {kind: kindPath, required: true},
	"delimiter":     {kind: kindStr},
	"backup":        {kind: kindBool, def: false},
	"remote_src":    {kind: kindBool, def: true},
	"regexp":        {kind: kindStr},
	"ignore_hidden": {kind: kindBool, def: false},
	"validate":      {kind: kindStr},
	"decrypt":       {kind: kindBool, def: true},
})}

// runAssemble concatenates the regular files of a directory (on the host, or on the
// controller with remote_src: false) in name order into dest: one Exec to read the fragments
// on the host, one to read dest, one Put when it differs and one Exec for attributes.
var runAssemble = withSpec(assembleSpec, assemble)

func init() { register("assemble", Spec{Run: runAssemble}) }

// fragment is one file assemble reads.
type fragment struct {
	name string
	data []byte
}

func assemble(ctx context.Context, t *Task, p params) (Result, error) {
	if t.Check {
		// Ansible's assemble action does not support check mode.
		return Result{"changed": false, "skipped": true, "msg": "check mode is not supported for this task."}, nil
	}
	src, dest, remote := p.str("src"), p.str("dest"), p.bool("remote_src")
	var nameRe *pyRegexp
	if p.has("regexp") {
		var err error
		if nameRe, err = compilePython(p.str("regexp")); err != nil {
			return fail(fmt.Sprintf("Invalid Regexp (%v) in \"%s\"", err, p.str("regexp"))), nil
		}
	}
	if v := p.str("validate"); v != "" && !strings.Contains(v, "%s") {
		return fail("validate must contain %s: " + v), nil
	}
	var frags []fragment
	var msg string
	var err error
	if remote {
		frags, msg, err = hostFragments(ctx, t, src)
	} else {
		frags, msg, err = controllerFragments(t, &src, p.bool("decrypt"))
	}
	if err != nil || msg != "" {
		return fail(msg), err
	}
	slices.SortFunc(frags, func(a, b fragment) int { return strings.Compare(a.name, b.name) })
	data := joinFragments(frags, nameRe, p.bool("ignore_hidden"), p.str("delimiter"))
	f, err := readText(ctx, t, dest, false)
	if err != nil {
		return nil, err
	}
	dest = f.fi.path
	if f.fi.isDir() {
		return fail(fmt.Sprintf("Destination %s is a directory", dest)), nil
	}
	changed := !f.existed || !bytes.Equal(f.before, data)
	var diff map[string]any
	if !remote && changed && t.Diff {
		diff = contentDiff(dest, f.fi, f.before, data, "")
	}
	f.assumeCreated()
	s, err := f.save(ctx, t, p, data, changed)
	if err != nil || s.failed != nil {
		return s.failed, err
	}
	after, err := t.apply(ctx, nil, dest)
	if err != nil {
		return nil, err
	}
	r := Result{"changed": changed || s.attrsChanged}
	switch {
	case remote:
		r["src"], r["dest"], r["checksum"], r["md5sum"], r["msg"] = src, dest, sha1Hex(data), md5Hex(data), "OK"
		if s.backup != "" {
			r["backup_file"] = s.backup
		}
	case changed:
		// As Ansible's action, which runs copy with the assembled file.
		r["src"], r["dest"], r["checksum"], r["md5sum"] = src, dest, sha1Hex(data), md5Hex(data)
		if diff != nil {
			r["diff"] = diff
		}
	default:
		// As Ansible's action, which runs file when the content is the same.
		r["path"] = dest
	}
	return addPathInfo(r, after), nil
}

// joinFragments is Ansible's assemble_from_fragments: the fragments whose names match, with
// the delimiter (its escapes decoded) between them, each ended by a line break.
func joinFragments(frags []fragment, nameRe *pyRegexp, ignoreHidden bool, delimiter string) []byte {
	delim := []byte(pytext.Unescape(delimiter, true)) // codecs.escape_decode
	var out []byte
	addNewline, delimit := false, false
	for _, f := range frags {
		if nameRe != nil && !nameRe.Match([]byte(f.name)) || ignoreHidden && strings.HasPrefix(f.name, ".") {
			continue
		}
		if addNewline {
			out = append(out, '\n')
		}
		if delimit && len(delim) > 0 {
			out = append(out, delim...)
			if delim[len(delim)-1] != '\n' {
				out = append(out, '\n')
			}
		}
		out = append(out, f.data...)
		delimit = true
		addNewline = !bytes.HasSuffix(f.data, []byte("\n"))
	}
	return out
}

// hostFragments reads the regular files of the directory src on the host in one Exec: each
// as its name, its size and its bytes.
func hostFragments(ctx context.Context, t *Task, src string) ([]fragment, string, error) {
	if err := checkPath("src", src); err != nil {
		return nil, "", err
	}
	out, err := t.probe(ctx, shCat+fmt.Sprintf(`s=%s
if [ ! -e "$s" ]; then echo ENOENT; exit 0; elif [ ! -d "$s" ]; then echo ENOTDIR; exit 0; fi
echo OK
for f in "$s"/* "$s"/.[!.]* "$s"/..?*; do [ ! -f "$f" ] || tally_cat "$f"; done`, shPath(src)))
	if err != nil {
		return nil, "", fmt.Errorf("read fragments in %s: %w", src, err)
	}
	status, rest, _ := strings.Cut(out, "\n")
	switch status {
	case "ENOENT":
		return nil, fmt.Sprintf("Source (%s) does not exist", src), nil
	case "ENOTDIR":
		return nil, fmt.Sprintf("Source (%s) is not a directory", src), nil
	}
	frags, err := parseCat(rest)
	if err != nil {
		return nil, "", fmt.Errorf("read fragments in %s: %w", src, err)
	}
	for i := range frags {
		frags[i].name = path.Base(frags[i].name)
	}
	return frags, "", nil
}

// controllerFragments reads the regular files of the directory src, looked up in the files
// search path and replaced by the path found, decrypting vault files with decrypt.
func controllerFragments(t *Task, src *string, decrypt bool) ([]fragment, string, error) {
	dir, err := findFile(t, "files", *src)
	if err != nil {
		return nil, err.Error(), nil
	}
	*src = dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Sprintf("Source (%s) is not a directory", dir), nil
	}
	var frags []fragment
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(p)
		if err == nil && decrypt {
			data, err = t.Vault.Plain(data, p)
		}
		if err != nil {
			return nil, "", fmt.Errorf("assemble: read %s: %w", p, err)
		}
		frags = append(frags, fragment{name: e.Name(), data: data})
	}
	return frags, "", nil
}
