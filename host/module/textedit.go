package module

import (
	"context"
	"fmt"

	"github.com/tallyrun/tally/host/connection"
)

// textFile is a file that lineinfile, replace or blockinfile edits in place: its record
// (followed, as Ansible edits a link's target), the host user's identity, and its content.
type textFile struct {
	fi      *fileInfo
	who     ids
	before  []byte
	existed bool
}

// readText reads the file at path with its stat record and the user's identity in one Exec.
// With mkParent a missing file's directory is created (outside check mode), as the modules'
// create option does even when nothing is written.
func readText(ctx context.Context, t *Task, path string, mkParent bool) (*textFile, error) {
	if err := checkPath("path", path); err != nil {
		return nil, err
	}
	script := fmt.Sprintf("p=%s\ntally_stat \"$p\" -L\ntally_ids\n", shPath(path))
	if mkParent && !t.Check {
		script += "[ -e \"$p\" ] || mkdir -p -- \"$(dirname -- \"$p\")\" || exit 1\n"
	}
	script += "if [ -f \"$p\" ]; then cat -- \"$p\" || exit 1; fi"
	out, err := t.probe(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	l := newLines(out)
	f := &textFile{}
	if f.fi, err = l.stat(); err != nil {
		return nil, err
	}
	if f.who, err = l.ids(); err != nil {
		return nil, err
	}
	f.before, f.existed = []byte(l.rest()), f.fi.exists
	return f, nil
}

// assumeCreated makes a missing file's record the one a new file would have: the user's,
// with the umask's mode.
func (f *textFile) assumeCreated() {
	if f.fi.exists {
		return
	}
	f.fi = &fileInfo{path: f.fi.path, exists: true, resolves: true, mode: typeReg | 0o666&^f.who.umask,
		uid: f.who.uid, gid: f.who.gid, owner: f.who.user, group: f.who.group}
}

// saved is what save did.
type saved struct {
	attrsChanged bool   // the file's attributes differed from the task's
	backup       string // the backup's name, "" without one
	failed       Result // a failed result (a bad mode, a failed validation), nil when it went well
}

// save writes data over the file when changed (with its mode, or the task's), after validate
// and backup, and gives it the task's attributes, in check mode only reporting whether they
// differ. The file must exist or have been assumeCreated.
func (f *textFile) save(ctx context.Context, t *Task, p params, data []byte, changed bool) (saved, error) {
	var s saved
	a := attrsOf(p)
	cmds, err := a.commands(f.fi, f.who.umask)
	if err != nil {
		s.failed = modeFailure(err, f.fi.path)
		return s, nil
	}
	s.attrsChanged = len(cmds) > 0
	if changed && !t.Check {
		mode := f.fi.perm()
		if a.mode != nil {
			mode, _ = resolveMode(a.mode, mode, false, f.who.umask) // valid: commands resolved it
		}
		if v := p.str("validate"); v != "" {
			if s.failed, err = validateContent(ctx, t, v, f.fi.path, data); s.failed != nil || err != nil {
				return s, err
			}
		}
		if p.bool("backup") && f.existed {
			if s.backup, err = backupFile(ctx, t, f.fi.path); err != nil {
				return s, err
			}
		}
		if err := t.Conn.Put(ctx, f.fi.path, data, connection.FileMode(mode), t.Become); err != nil {
			return s, err
		}
		// Put set the mode and kept the owner and group.
		if cmds, err = a.ownership().commands(f.fi, f.who.umask); err != nil {
			return s, err
		}
	}
	if len(cmds) > 0 {
		if _, err := t.apply(ctx, cmds, f.fi.path); err != nil {
			return s, err
		}
	}
	return s, nil
}

// attrsMsg adds Ansible's note of changed attributes to msg.
func attrsMsg(msg string, changed, attrsChanged bool) (string, bool) {
	if !attrsChanged {
		return msg, changed
	}
	if changed {
		msg += " and "
	}
	return msg + "ownership, perms or SE linux context changed", true
}

// textDiff is the diff of lineinfile and blockinfile: the file's content before and after, and the attributes
// a sets on fi.
func textDiff(dest string, a attrs, fi *fileInfo, umask uint32, before, after []byte) []any {
	content := map[string]any{"before": string(before), "after": string(after),
		"before_header": dest + " (content)", "after_header": dest + " (content)"}
	attr := map[string]any{}
	if ch, _ := a.changes(fi, umask); len(ch) > 0 { // commands computed them without error
		attr = attrsDiff("", ch)
	}
	attr["before_header"], attr["after_header"] = dest+" (file attributes)", dest+" (file attributes)"
	return []any{content, attr}
}
