package module

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/template"
)

var fileSpec = &argSpec{module: "file", options: withAttrs(map[string]option{
	"path":    {kind: kindPath, required: true, aliases: []string{"dest", "name"}},
	"state":   {kind: kindStr, choices: []string{"absent", "directory", "file", "hard", "link", "touch"}},
	"src":     {kind: kindPath},
	"force":   {kind: kindBool, def: false},
	"follow":  {kind: kindBool, def: true},
	"recurse": {kind: kindBool, def: false},
	// A time in its format, "now" or "preserve"; unset is now for touch, preserve otherwise.
	"modification_time":        {kind: kindStr},
	"modification_time_format": {kind: kindStr, def: "%Y%m%d%H%M.%S"},
	"access_time":              {kind: kindStr},
	"access_time_format":       {kind: kindStr, def: "%Y%m%d%H%M.%S"},
	// Ansible's internal options, which its action plugins (and some playbooks) pass.
	"_original_basename": {kind: kindStr},
	"_diff_peek":         {kind: kindBool},
})}

// fileState is what the file module found at a path.
type fileState struct {
	fi     *fileInfo // lstat of the path
	target *fileInfo // for a link: stat of what it resolves to
	srcOK  bool      // for state=link: the link's source exists
	absSrc string
	who    ids
}

// state names fi as the file module's get_state does.
func stateOf(fi *fileInfo) string {
	switch {
	case !fi.exists:
		return "absent"
	case fi.isLink():
		return "link"
	case fi.isDir():
		return "directory"
	case fi.nlink > 1:
		return "hard"
	}
	return "file"
}

// runFile manages a path's existence and attributes with one Exec to look, and one to change.
var runFile = withSpec(fileSpec, fileModule)

func fileModule(ctx context.Context, t *Task, p params) (Result, error) {
	pth, src := p.str("path"), p.str("src")
	if err := checkPath("path", pth); err != nil {
		return nil, err
	}
	if err := checkPath("src", src); err != nil {
		return nil, err
	}
	s, err := lookAt(ctx, t, pth, src)
	if err != nil {
		return nil, err
	}
	pth = s.fi.path
	state := p.str("state")
	// As Ansible's additional_parameter_handling: a path that is a directory (through links)
	// means the file of src's (or _original_basename's) name in it, for states but link and absent.
	base := p.str("_original_basename")
	if base == "" && src != "" {
		base = path.Base(src)
	}
	if base != "" && state != "link" && state != "absent" && s.target.isDir() {
		if s, err = lookAt(ctx, t, path.Join(pth, base), src); err != nil {
			return nil, err
		}
		pth = s.fi.path
	}
	if p.has("_diff_peek") {
		return diffPeek(ctx, t, pth)
	}
	if state == "" {
		// As Ansible: the current state, or file for a missing path.
		if state = stateOf(s.fi); state == "absent" {
			state = "file"
		}
	}
	if p.bool("recurse") {
		if state != "directory" {
			return addPathInfo(Result{"failed": true, "msg": "recurse option requires state to be 'directory'", "path": pth}, s.fi), nil
		}
		if p.str("modification_time") != "" || p.str("access_time") != "" {
			return nil, fmt.Errorf("file: recurse with modification_time or access_time is not supported by tally")
		}
	}
	if src != "" && state != "link" && state != "hard" {
		return addPathInfo(Result{"failed": true, "msg": "src option requires state to be 'link' or 'hard'", "path": pth}, s.fi), nil
	}
	f := fileTask{t: t, s: s, path: pth, src: src, attrs: attrsOf(p), follow: p.bool("follow"), force: p.bool("force")}
	for i, name := range []string{"modification_time", "access_time"} {
		if f.times[i], err = stampOf(p.str(name), p.str(name+"_format"), state); err != nil {
			return Result{"failed": true, "msg": err.Error()}, nil
		}
	}
	var d map[string]any
	if t.Diff && state != "hard" { // ensure_hardlink returns its diff even without --diff
		d = f.diff(state) // of the state before
	}
	r, err := f.ensure(ctx, state)
	if err == nil && r["failed"] != true && p.bool("recurse") {
		r, err = f.recurse(ctx, r)
	}
	if err == nil && r["failed"] != true && state != "absent" {
		diff := d
		if hd, ok := r["diff"].(map[string]any); ok {
			diff = hd
		}
		err = f.setTimes(ctx, r, state, diff)
	}
	if d != nil && err == nil && r["failed"] != true {
		if f.content != nil {
			d["before"].(map[string]any)["path_content"] = f.content
		}
		r["diff"] = d
	}
	return r, err
}

// ensure makes the path be in state.
func (f *fileTask) ensure(ctx context.Context, state string) (Result, error) {
	switch state {
	case "absent":
		return f.absent(ctx)
	case "touch":
		return f.touch(ctx)
	case "directory":
		return f.directory(ctx)
	case "link":
		return f.link(ctx)
	case "hard":
		return f.hard(ctx)
	}
	return f.file(ctx)
}

// lookAt stats pth (and, for a link, its target) and, when src is given, checks that the link
// source exists relative to pth's directory, as ensure_symlink does.
func lookAt(ctx context.Context, t *Task, pth, src string) (*fileState, error) {
	var script strings.Builder
	fmt.Fprintf(&script, "p=%s\ntally_stat \"$p\"\n", shPath(pth))
	script.WriteString("if [ -L \"$p\" ]; then tally_stat \"$(readlink -f -- \"$p\" || echo \"$p\")\" -L; else tally_stat \"$p\" -L; fi\n")
	if src != "" {
		fmt.Fprintf(&script, `if [ ! -L "$p" ] && [ -d "$p" ]; then r="$p"; else r=$(dirname -- "$p"); fi
case %[1]s in /*) a=%[1]s;; *) a="$r"/%[1]s;; esac
if [ -e "$a" ]; then echo 1; else echo 0; fi; printf '%%s\n' "$a"
`, connection.Quote(src))
	}
	script.WriteString("tally_ids\n")
	out, err := t.probe(ctx, script.String())
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", pth, err)
	}
	l := newLines(out)
	s := &fileState{}
	if s.fi, err = l.stat(); err != nil {
		return nil, err
	}
	if s.target, err = l.stat(); err != nil {
		return nil, err
	}
	if src != "" {
		v, err := l.take(2)
		if err != nil {
			return nil, err
		}
		s.srcOK, s.absSrc = v[0] == "1", v[1]
	}
	if s.who, err = l.ids(); err != nil {
		return nil, err
	}
	return s, nil
}

// fileTask is one run of the file module.
type fileTask struct {
	t             *Task
	s             *fileState
	path, src     string
	attrs         attrs
	follow, force bool
	content       map[string]any // for the diff: what a directory state=absent removes held
	times         [2]stamp       // modification_time, access_time
}

func (f *fileTask) absent(ctx context.Context) (Result, error) {
	if !f.s.fi.exists {
		return Result{"path": f.path, "changed": false, "state": "absent"}, nil
	}
	if f.t.Diff && f.s.fi.isDir() {
		var err error
		if f.content, err = pathContent(ctx, f.t, f.path); err != nil {
			return nil, err
		}
	}
	if f.t.Check {
		// As Ansible: the path as it still is.
		return addPathInfo(Result{"path": f.path, "changed": true, "state": "absent"}, f.s.fi), nil
	}
	rm := "rm -f -- "
	if f.s.fi.isDir() {
		rm = "rm -rf -- "
	}
	if _, err := f.t.probe(ctx, rm+connection.Quote(f.path)); err != nil {
		return fail(fmt.Sprintf("removing %s failed: %v", f.path, err), "path", f.path), nil
	}
	return Result{"path": f.path, "changed": true, "state": "absent"}, nil
}

// diff is the file module's diff (Ansible's initial_diff and the attributes): the path, its
// state before and after when they differ, and the attributes it changes on what existed. A
// file touch creates has none, as in Ansible.
func (f *fileTask) diff(state string) map[string]any {
	prev := stateOf(f.s.fi)
	if state == "touch" && prev == "absent" {
		return nil
	}
	var ch []attrChange
	if _, fi := f.resolved(); state != "absent" && fi.exists {
		ch, _ = f.attrs.changes(fi, f.s.who.umask) // the task computed them without error
	}
	d := attrsDiff(f.path, ch)
	if prev != state {
		d["before"].(map[string]any)["state"], d["after"].(map[string]any)["state"] = prev, state
	}
	return d
}

// finish applies the attributes to fi's path after the commands pre, and returns the result
// about path (an lstat of it).
func (f *fileTask) finish(ctx context.Context, r Result, pre []string, fi *fileInfo, path string) (Result, error) {
	cmds, err := f.attrs.commands(fi, f.s.who.umask)
	if err != nil {
		return modeFailure(err, path), nil
	}
	cmds = append(pre, cmds...)
	if len(cmds) == 0 {
		return addPathInfo(r, fi), nil
	}
	after, err := f.t.apply(ctx, cmds, path)
	if err != nil {
		return fail(err.Error(), "path", path), nil
	}
	r["changed"] = true
	return addPathInfo(r, after), nil
}

func (f *fileTask) touch(ctx context.Context) (Result, error) {
	touch := "touch -- " + connection.Quote(f.path)
	fi := *f.s.target
	if !f.times[0].now || !f.times[1].now {
		// Other times than now: the file is created if missing, and setTimes sets them.
		if fi.exists {
			return f.finish(ctx, Result{"dest": f.path, "changed": false}, nil, &fi, f.path)
		}
		touch = ": >> " + connection.Quote(f.path)
	}
	if !fi.exists {
		// The new empty file, as touch will leave it.
		fi = fileInfo{path: f.path, exists: true, mode: typeReg | 0o666&^f.s.who.umask,
			uid: f.s.who.uid, gid: f.s.who.gid, owner: f.s.who.user, group: f.s.who.group}
	}
	// Touching always changes the timestamps.
	return f.finish(ctx, Result{"dest": f.path, "changed": true}, []string{touch}, &fi, f.path)
}

// resolved returns the path to work on: a link's target when following it.
func (f *fileTask) resolved() (string, *fileInfo) {
	if f.follow && f.s.fi.isLink() {
		return f.s.target.path, f.s.target
	}
	return f.path, f.s.fi
}

func (f *fileTask) file(ctx context.Context) (Result, error) {
	pth, fi := f.resolved()
	if st := stateOf(fi); st != "file" && st != "hard" {
		return fail(fmt.Sprintf("file (%s) is %s, cannot continue", pth, st), "path", pth, "state", st), nil
	}
	return f.finish(ctx, Result{"path": pth, "changed": false}, nil, fi, pth)
}

func (f *fileTask) directory(ctx context.Context) (Result, error) {
	pth, fi := f.resolved()
	switch st := stateOf(fi); st {
	case "directory":
		return f.finish(ctx, Result{"path": pth, "changed": false}, nil, fi, pth)
	case "absent":
	default:
		return fail(fmt.Sprintf("%s already exists as a %s", pth, st), "path", pth), nil
	}
	// As Ansible: each directory created gets the attributes, not only the last.
	newDir := fileInfo{exists: true, mode: typeDir | 0o777&^f.s.who.umask,
		uid: f.s.who.uid, gid: f.s.who.gid, owner: f.s.who.user, group: f.s.who.group}
	var cmds []string
	cur := ""
	if strings.HasPrefix(pth, "/") {
		cur = "/"
	}
	for _, part := range strings.Split(strings.Trim(pth, "/"), "/") {
		cur = path.Join(cur, part)
		newDir.path = cur
		set, err := f.attrs.commands(&newDir, f.s.who.umask)
		if err != nil {
			return modeFailure(err, pth), nil
		}
		q := connection.Quote(cur)
		// Another host on the same machine may create it first: as Ansible, an EEXIST that
		// left a directory is no error (the last mkdir only repeats a real error's message).
		mkdir := fmt.Sprintf("{ mkdir -- %s 2>/dev/null || [ -d %s ] || mkdir -- %s; }", q, q, q)
		cmds = append(cmds, fmt.Sprintf("if [ ! -d %s ]; then %s; fi", q, strings.Join(append([]string{mkdir}, set...), " && ")))
	}
	after, err := f.t.apply(ctx, cmds, pth)
	if err != nil {
		return fail(fmt.Sprintf("There was an issue creating %s as requested: %v", pth, err), "path", pth), nil
	}
	return addPathInfo(Result{"path": pth, "changed": true}, after), nil
}

// recurse sets the attributes on everything under the directory too, as Ansible's
// recursive_set_attributes, in one Exec to look and one to change. Symbolic links under it are
// left as they are (Ansible sets a link's owner and, with follow, its target's attributes).
func (f *fileTask) recurse(ctx context.Context, r Result) (Result, error) {
	script := fmt.Sprintf("find %s -mindepth 1 ! -type l | while IFS= read -r f; do tally_stat \"$f\"; done\n", shPath(f.path))
	out, err := f.t.probe(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", f.path, err)
	}
	var cmds []string
	for l := newLines(out); len(l.l) > 0 && l.l[0] != ""; {
		fi, err := l.stat()
		if err != nil {
			return nil, err
		}
		set, err := f.attrs.commands(fi, f.s.who.umask)
		if err != nil {
			return modeFailure(err, f.path), nil
		}
		cmds = append(cmds, set...)
	}
	if len(cmds) == 0 {
		return r, nil
	}
	r["changed"] = true
	if _, err := f.t.apply(ctx, cmds, f.path); err != nil {
		return nil, err
	}
	return r, nil
}

func (f *fileTask) link(ctx context.Context) (Result, error) {
	prev := stateOf(f.s.fi)
	src := f.src
	if src == "" && f.follow && f.s.fi.isLink() {
		src = f.s.fi.linkTarget
	}
	if !f.force && f.src != "" && !f.s.srcOK {
		return fail(`src file does not exist, use "force=yes" if you really want to create the link: `+f.s.absSrc,
			"path", f.path, "src", f.src), nil
	}
	switch {
	case prev == "directory" && !f.force, (prev == "file" || prev == "hard") && !f.force:
		return fail(fmt.Sprintf("refusing to convert from %s to symlink for %s", prev, f.path), "path", f.path), nil
	case prev != "link" && src == "":
		return fail("src is required for creating new symlinks"), nil
	}
	r := Result{"dest": f.path, "src": nil, "changed": false}
	if src != "" {
		r["src"] = src
	}
	var pre []string
	if prev != "link" || f.src != "" && f.src != f.s.fi.linkTarget {
		if prev == "directory" {
			// Only an empty directory, as Ansible: rmdir refuses any other.
			pre = append(pre, "rmdir -- "+connection.Quote(f.path))
		}
		pre = append(pre, "ln -sfn -- "+connection.Quote(src)+" "+connection.Quote(f.path))
		r["changed"] = true
	}
	if len(pre) == 0 {
		return f.linkAttrs(ctx, r)
	}
	after, err := f.t.apply(ctx, pre, f.path)
	if err != nil {
		return fail(fmt.Sprintf("Error while linking: %v", err), "path", f.path), nil
	}
	f.s.fi = after
	return f.linkAttrs(ctx, r)
}

// linkAttrs applies the attributes to what the link resolves to, when following it and it
// resolves: a symlink's own mode cannot be set on Linux.
func (f *fileTask) linkAttrs(ctx context.Context, r Result) (Result, error) {
	if f.attrs.none() || !f.follow {
		return addPathInfo(r, f.s.fi), nil
	}
	if r["changed"] == true {
		// The link is new: look again at what it resolves to.
		s, err := lookAt(ctx, f.t, f.path, "")
		if err != nil {
			return nil, err
		}
		f.s.target = s.target
	}
	if !f.s.target.exists {
		return addPathInfo(r, f.s.fi), nil
	}
	cmds, err := f.attrs.commands(f.s.target, f.s.who.umask)
	if err != nil {
		return modeFailure(err, f.path), nil
	}
	if len(cmds) > 0 {
		if _, err := f.t.apply(ctx, cmds, f.s.target.path); err != nil {
			return fail(err.Error(), "path", f.path), nil
		}
		r["changed"] = true
	}
	return addPathInfo(r, f.s.fi), nil
}

// hard makes path a hard link of src, as Ansible's ensure_hardlink: src (as given, not
// relative to path) must exist; a file or another hard link at path is replaced only with
// force, a directory never.
func (f *fileTask) hard(ctx context.Context) (Result, error) {
	prev := stateOf(f.s.fi)
	if prev != "hard" && f.src == "" {
		return fail("src is required for creating new hardlinks"), nil
	}
	var src *fileInfo
	if f.src != "" {
		out, err := f.t.probe(ctx, "tally_stat "+shPath(f.src)+" -L\n")
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", f.src, err)
		}
		if src, err = newLines(out).stat(); err != nil {
			return nil, err
		}
		if !src.exists {
			return f.hardFailure("src does not exist"), nil
		}
	}
	same := src != nil && f.s.target.exists && f.s.target.inode == src.inode && f.s.target.dev == src.dev
	changed := false
	switch prev {
	case "absent":
		changed = true
	case "link":
		changed = f.s.fi.linkTarget != f.src
	case "hard":
		if src != nil && !same {
			if !f.force {
				return f.hardFailure("Cannot link, different hard link exists at destination"), nil
			}
			changed = true
		}
	case "file":
		if !f.force {
			return f.hardFailure("Cannot link, file exists at destination"), nil
		}
		changed = true
	case "directory":
		if same {
			return Result{"path": f.path, "changed": false}, nil
		}
		return f.hardFailure("Cannot link: different hard link exists at destination"), nil
	}
	r := Result{"dest": f.path, "src": nil, "changed": changed}
	if f.src != "" {
		r["src"] = f.src
	}
	fi := f.s.fi
	var pre []string
	if changed {
		if f.t.Check && prev == "absent" {
			return r, nil
		}
		// ln -f replaces what path was, as Ansible's link to a temporary name and rename.
		pre = []string{"ln -f -- " + connection.Quote(f.src) + " " + connection.Quote(f.path)}
		linked := *src
		linked.path, linked.nlink = f.path, src.nlink+1
		fi = &linked
	}
	// Ansible's initial_diff, with the attributes that change on what path becomes.
	ch, _ := f.attrs.changes(fi, f.s.who.umask) // an error fails in finish
	d := attrsDiff(f.path, ch)
	if prev != "hard" {
		d["before"].(map[string]any)["state"], d["after"].(map[string]any)["state"] = prev, "hard"
	}
	r["diff"] = d
	return f.finish(ctx, r, pre, fi, f.path)
}

// hardFailure is ensure_hardlink's failure: msg, dest and src, and what is at dest (fail_json's
// add_path_info).
func (f *fileTask) hardFailure(msg string) Result {
	return addPathInfo(Result{"failed": true, "msg": msg, "dest": f.path, "src": f.src}, f.s.fi)
}

// stamp is a modification_time or access_time: preserve (neither set nor now), now, or a
// time.
type stamp struct {
	set, now bool
	at       int64 // seconds since the epoch
}

// diffPeek is Ansible's execute_diff_peek, which its actions use to tell a binary file: a NUL
// in the first 8192 bytes. An unreadable file is text.
func diffPeek(ctx context.Context, t *Task, pth string) (Result, error) {
	out, err := t.probe(ctx, fmt.Sprintf("head -c 8192 -- %s 2>/dev/null | tr -dc '\\000' | wc -c", shPath(pth)))
	if err != nil {
		return nil, fmt.Errorf("file _diff_peek %s: %w", pth, err)
	}
	return Result{"path": pth, "changed": false, "appears_binary": strings.TrimSpace(out) != "0"}, nil
}

// stampOf reads a time option as Ansible's get_timestamp_for_time, with its default for state
// (keep_backward_compatibility_on_timestamps). A time is read in the controller's local zone.
func stampOf(v, format, state string) (stamp, error) {
	if v == "" {
		v = "preserve"
		if state == "touch" {
			v = "now"
		}
	}
	switch v {
	case "preserve":
		return stamp{}, nil
	case "now":
		return stamp{now: true}, nil
	}
	t, err := template.Strptime(v, format)
	if err != nil {
		return stamp{}, fmt.Errorf("Error while obtaining timestamp for time %s using format %s: %v", v, format, err)
	}
	local := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.Local)
	return stamp{set: true, at: local.Unix()}, nil
}

// setTimes sets the path's times as Ansible's update_timestamp_for_file, after the state is
// ensured: changed when a time is now or differs from the path's, with the old and new
// times in diff when there is one. touch has set both to now already.
func (f *fileTask) setTimes(ctx context.Context, r Result, state string, diff map[string]any) error {
	mt, at := f.times[0], f.times[1]
	if !mt.set && !mt.now && !at.set && !at.now || state == "touch" && mt.now && at.now {
		return nil
	}
	pth := f.path
	if p, ok := r["path"].(string); ok {
		pth = p
	}
	q := connection.Quote(pth)
	out, err := f.t.probe(ctx, "tally_stat "+q+" -L\n")
	if err != nil {
		return fmt.Errorf("stat %s: %w", pth, err)
	}
	fi, err := newLines(out).stat()
	if err != nil || !fi.exists {
		return err
	}
	now := time.Now().Unix()
	want := func(s stamp, prev float64) float64 {
		switch {
		case s.now:
			return float64(now)
		case s.set:
			return float64(s.at)
		}
		return prev
	}
	newM, newA := want(mt, fi.mtime), want(at, fi.atime)
	if !mt.now && !at.now && newM == fi.mtime && newA == fi.atime {
		return nil
	}
	if !f.t.Check {
		cmd := fmt.Sprintf("touch -c -m -d @%d -- %s && touch -c -a -d @%d -- %s", int64(newM), q, int64(newA), q)
		if _, err := f.t.probe(ctx, cmd); err != nil {
			return fmt.Errorf("set the times of %s: %w", pth, err)
		}
	}
	r["changed"] = true
	if diff != nil {
		for _, c := range []struct {
			key       string
			old, next float64
		}{{"mtime", fi.mtime, newM}, {"atime", fi.atime, newA}} {
			if c.old != c.next {
				diff["before"].(map[string]any)[c.key], diff["after"].(map[string]any)[c.key] = c.old, c.next
			}
		}
	}
	return nil
}
