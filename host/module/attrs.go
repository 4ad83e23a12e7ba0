package module

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/connection"
)

// attrOptions are the file attributes options of Ansible's add_file_common_args that tally
// supports.
var attrOptions = map[string]option{
	"mode":  {kind: kindRaw},
	"owner": {kind: kindStr},
	"group": {kind: kindStr},
}

// withAttrs returns options plus attrOptions.
func withAttrs(options map[string]option) map[string]option {
	out := maps.Clone(options)
	maps.Copy(out, attrOptions)
	return out
}

// attrs are the attributes a task asks a file to have.
type attrs struct {
	mode         any // nil: keep
	owner, group string
}

func attrsOf(p params) attrs {
	return attrs{mode: p["mode"], owner: p.str("owner"), group: p.str("group")}
}

// ownership returns a without the mode.
func (a attrs) ownership() attrs { return attrs{owner: a.owner, group: a.group} }

// none reports whether no attribute is asked for.
func (a attrs) none() bool { return a.mode == nil && a.owner == "" && a.group == "" }

// sameID reports whether want (a name or a numeric id) names the owner name/id.
func sameID(want, name string, id int) bool {
	if n, err := strconv.Atoi(want); err == nil {
		return n == id
	}
	return want == name
}

// attrChange is an attribute a file does not have yet: its name as Ansible's diff names it,
// its value before and after, and the command that sets it.
type attrChange struct {
	name          string
	before, after any
	cmd           string
}

// changes returns the attributes the existing file fi lacks (owner and group first: chown may
// clear setuid bits), none when it has them already.
func (a attrs) changes(fi *fileInfo, umask uint32) ([]attrChange, error) {
	q := connection.Quote(fi.path)
	var out []attrChange
	if a.owner != "" && !sameID(a.owner, fi.owner, fi.uid) {
		out = append(out, attrChange{"owner", fi.uid, idValue(a.owner), "chown -- " + connection.Quote(a.owner) + " " + q})
	}
	if a.group != "" && !sameID(a.group, fi.group, fi.gid) {
		out = append(out, attrChange{"group", fi.gid, idValue(a.group), "chgrp -- " + connection.Quote(a.group) + " " + q})
	}
	if a.mode != nil {
		m, err := resolveMode(a.mode, fi.perm(), fi.isDir(), umask)
		if err != nil {
			return nil, err
		}
		if m != fi.perm() {
			out = append(out, attrChange{"mode", octalMode(fi.perm()), octalMode(m), fmt.Sprintf("chmod %o -- %s", m, q)})
		}
	}
	return out, nil
}

// idValue is an owner or group as a diff shows it after the change: the id when given as a
// number, else the name (Ansible shows the id it resolved on the host).
func idValue(s string) any {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return s
}

// commands returns the shell commands giving the existing file fi the attributes, none when it
// has them already.
func (a attrs) commands(fi *fileInfo, umask uint32) ([]string, error) {
	ch, err := a.changes(fi, umask)
	if err != nil {
		return nil, err
	}
	var cmds []string
	for _, c := range ch {
		cmds = append(cmds, c.cmd)
	}
	return cmds, nil
}

// apply runs cmds (stopping at the first failure), then returns the lstat record of path.
func (t *Task) apply(ctx context.Context, cmds []string, path string) (*fileInfo, error) {
	if t.Check {
		cmds = nil // check mode: the record of path as it is
	}
	script := strings.Join(append(cmds, "tally_stat "+connection.Quote(path)), " &&\n")
	out, err := t.probe(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("set attributes of %s: %w", path, err)
	}
	return newLines(out).stat()
}

// addPathInfo adds what Ansible's add_path_info adds to a result about the existing path fi
// (an lstat record).
func addPathInfo(r Result, fi *fileInfo) Result {
	if !fi.exists || !fi.resolves {
		return r
	}
	r["uid"], r["gid"], r["owner"], r["group"] = fi.uid, fi.gid, fi.owner, fi.group
	r["mode"] = octalMode(fi.mode)
	r["size"] = fi.size
	switch {
	case fi.isLink():
		r["state"] = "link"
	case fi.isDir():
		r["state"] = "directory"
	case fi.nlink > 1:
		r["state"] = "hard"
	default:
		r["state"] = "file"
	}
	return r
}
