package module

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
)

var copySpec = &argSpec{module: "copy", options: withAttrs(map[string]option{
	"src":     {kind: kindPath},
	"content": {kind: kindRaw, noLog: true},
	"dest":    {kind: kindPath},
	"force":   {kind: kindBool, def: true, aliases: []string{"thirsty"}},
	"decrypt": {kind: kindBool, def: true},
	// remote_src copies a file or directory of the host.
	"remote_src":     {kind: kindBool, def: false},
	"local_follow":   {kind: kindBool}, // unset: true for a controller src, see copyRemoteDir
	"directory_mode": {kind: kindRaw},
	"follow":         {kind: kindBool, def: false},
	"backup":         {kind: kindBool, def: false},
	"validate":       {kind: kindStr},
})}

var templateSpec = &argSpec{module: "template", options: withAttrs(map[string]option{
	"src":                   {kind: kindPath},
	"dest":                  {kind: kindPath},
	"force":                 {kind: kindBool, def: true},
	"trim_blocks":           {kind: kindBool, def: true},
	"lstrip_blocks":         {kind: kindBool, def: false},
	"newline_sequence":      {kind: kindStr, def: "\n"},
	"block_start_string":    {kind: kindStr, def: "{%"},
	"block_end_string":      {kind: kindStr, def: "%}"},
	"variable_start_string": {kind: kindStr, def: "{{"},
	"variable_end_string":   {kind: kindStr, def: "}}"},
	"comment_start_string":  {kind: kindStr, def: "{#"},
	"comment_end_string":    {kind: kindStr, def: "#}"},
	"follow":                {kind: kindBool, def: false},
	"output_encoding":       {kind: kindStr, def: "utf-8"},
	"backup":                {kind: kindBool, def: false},
	"validate":              {kind: kindStr},
})}

// templateDelimiters are the template module's options that replace Jinja's delimiters.
var templateDelimiters = []string{"block_start_string", "block_end_string", "variable_start_string",
	"variable_end_string", "comment_start_string", "comment_end_string"}

// runCopy puts content, or a file from the controller, at dest (see fileToPut.put).
var runCopy = withSpec(copySpec, copyModule)

func copyModule(ctx context.Context, t *Task, p params) (Result, error) {
	var err error
	src, dest := p.str("src"), p.str("dest")
	content, hasContent := p["content"], p["content"] != nil
	var msg string
	switch {
	case src == "" && !hasContent:
		msg = "src (or content) is required"
	case dest == "":
		msg = "dest is required"
	case src != "" && hasContent:
		msg = "src and content are mutually exclusive"
	case hasContent && strings.HasSuffix(dest, "/"):
		msg = "can not use content with a dir as dest"
	}
	if msg != "" {
		return fail(msg), nil
	}
	f := newFileToPut(p, dest)
	if hasContent {
		switch c := content.(type) {
		case map[string]any, []any:
			// Ansible's copy action writes json.dumps(content); without a Converter it cannot fail.
			s, _ := pytext.DumpJSON(c, pytext.JSONOptions{EnsureASCII: true})
			f.data = []byte(s)
		default:
			f.data = []byte(pytext.Str(c))
		}
		f.localMode = 0o600 // Ansible's temporary file, which mode=preserve then copies
	} else {
		if p.bool("remote_src") {
			return f.putRemote(ctx, t, p, src)
		}
		if f.src, err = findFile(t, "files", src); err != nil {
			return nil, err
		}
		if fi, err := os.Stat(f.src); err == nil && fi.IsDir() {
			return copyDir(ctx, t, p, src, f.src)
		}
		if err := f.readSource(t, p.bool("decrypt")); err != nil {
			return nil, err
		}
		f.name = path.Base(src)
	}
	return f.put(ctx, t)
}

// runTemplate renders a template from the controller with the task's variables and puts the
// result at dest as copy does.
var runTemplate = withSpec(templateSpec, templateModule)

func templateModule(ctx context.Context, t *Task, p params) (Result, error) {
	var err error
	if p.str("src") == "" || p.str("dest") == "" {
		return nil, errors.New("src and dest are required")
	}
	if t.RenderFile == nil {
		return nil, errors.New("template: no template engine for this task")
	}
	// As Ansible's template action, the escapes written out ('\r\n' in YAML) stand for the
	// line breaks.
	nl := p.str("newline_sequence")
	if escaped, ok := map[string]string{`\n`: "\n", `\r`: "\r", `\r\n`: "\r\n"}[nl]; ok {
		nl = escaped
	}
	switch nl {
	case "\n", "\r", "\r\n":
	default:
		return nil, fmt.Errorf("newline_sequence must be one of \\n, \\r or \\r\\n, got %q", p.str("newline_sequence"))
	}
	f := newFileToPut(p, p.str("dest"))
	f.name = path.Base(p.str("src"))
	if f.src, err = findFile(t, "templates", p.str("src")); err != nil {
		return nil, err
	}
	if err := f.readSource(t, true); err != nil {
		return nil, err
	}
	trim, lstrip := p.bool("trim_blocks"), p.bool("lstrip_blocks")
	dirs := []string{filepath.Dir(f.src)}
	for _, d := range t.SearchPaths {
		dirs = append(dirs, filepath.Join(d, "templates"), d)
	}
	delims := make(map[string]string, len(templateDelimiters))
	for _, k := range templateDelimiters {
		delims[k] = p.str(k)
	}
	text, err := t.RenderFile(string(f.data), template.FileOptions{Dirs: dirs, TrimBlocks: &trim, LstripBlocks: &lstrip,
		Delimiters: delims, NewlineSequence: nl, Path: p.str("src"), FullPath: f.src, Dest: f.dest})
	if err != nil {
		if msg := templateFailure(err); msg != "" {
			return Result{"failed": true, "changed": false, "msg": msg}, nil
		}
		return nil, fmt.Errorf("render template %s: %w", f.src, err)
	}
	if f.data, err = encodeText(text, p.str("output_encoding")); err != nil {
		return nil, fmt.Errorf("template %s: %w", f.src, err)
	}
	return f.put(ctx, t)
}

// templateFailure is the message of Ansible's template action for a template that fails to
// render: the exception's class and text. It is "" for errors whose class tally does not know.
func templateFailure(err error) string {
	var (
		undef *template.UndefinedError
		load  *template.LoadError
		syn   *template.SyntaxError
	)
	switch {
	case errors.As(err, &undef):
		return "AnsibleUndefinedVariable: " + undef.Msg + ". " + undef.Msg
	case errors.As(err, &syn):
		return "AnsibleError: " + syn.Error()
	case errors.As(err, &load):
		// Raised while the template runs, it is not made an AnsibleError; Jinja's text ends
		// with the line, which Ansible's loader gives as 0.
		return "TemplateSyntaxError: " + load.Error() + "\n  line 0"
	}
	return ""
}

// fileToPut is a copy or template task's file: data to put at dest on the host.
type fileToPut struct {
	data      []byte
	src       string // controller-side source, "" for content
	name      string // base name used when dest is a directory
	localMode uint32 // permission bits of the source, for mode=preserve
	dest      string
	attrs     attrs
	force     bool
	follow    bool   // a link at dest is followed and its target written, not replaced
	backup    bool   // an existing dest that changes is first copied to Ansible's backup name
	validate  string // a command (%s is the new content's file) that must pass before dest changes
}

// newFileToPut is a file for dest with the task's attributes, force, follow, backup and
// validate.
func newFileToPut(p params, dest string) fileToPut {
	return fileToPut{dest: dest, attrs: attrsOf(p), force: p.bool("force"), follow: p.bool("follow"),
		backup: p.bool("backup"), validate: p.str("validate")}
}

// readSource reads the source file on the controller; vault text is decrypted (in memory
// only) when decrypt is set, as Ansible's copy and template actions do.
func (f *fileToPut) readSource(t *Task, decrypt bool) error {
	fi, err := os.Stat(f.src)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.src, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("copy src %s: copying a directory is not supported by tally", f.src)
	}
	f.localMode = connection.UnixMode(fi.Mode())
	f.data, err = os.ReadFile(f.src)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.src, err)
	}
	if decrypt {
		f.data, err = t.Vault.Plain(f.data, f.src)
	}
	return err
}

// putRemote puts the host's file src at dest, as copy with remote_src: the file is read from
// the host, and mode=preserve takes its mode. A directory is copyRemoteDir's.
func (f *fileToPut) putRemote(ctx context.Context, t *Task, p params, src string) (Result, error) {
	if err := checkPath("src", src); err != nil {
		return nil, err
	}
	out, err := t.probe(ctx, "tally_stat "+shPath(src)+" -L\n")
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", src, err)
	}
	fi, err := newLines(out).stat()
	if err != nil {
		return nil, err
	}
	switch {
	case !fi.exists:
		return Result{"failed": true, "msg": fmt.Sprintf("Source %s not found", src)}, nil
	case !fi.readable:
		return Result{"failed": true, "msg": fmt.Sprintf("Source %s not readable", src)}, nil
	case fi.isDir():
		return copyRemoteDir(ctx, t, p, src, fi.perm())
	}
	if f.data, err = t.Conn.Fetch(ctx, src, t.Become); err != nil {
		return nil, fmt.Errorf("read %s: %w", src, err)
	}
	f.src, f.name, f.localMode = src, path.Base(src), fi.perm()
	return f.put(ctx, t)
}

// put makes dest hold the data with one Exec to learn dest's state (a directory dest gets the
// source's name appended, as Ansible's copy does), one Put when the content differs, and one
// Exec more only for owner, group or a mode change alone.
func (f *fileToPut) put(ctx context.Context, t *Task) (Result, error) {
	if err := checkPath("dest", f.dest); err != nil {
		return nil, err
	}
	var script strings.Builder
	fmt.Fprintf(&script, "d=%s\n", shPath(f.dest))
	if strings.HasSuffix(f.dest, "/") && !t.Check {
		// As Ansible's copy: a dest written as a directory is created.
		fmt.Fprintf(&script, "mkdir -p -- \"$d\" || exit 1\n")
	}
	if f.name != "" {
		fmt.Fprintf(&script, "if [ -d \"$d\" ]; then echo dir; d=\"${d%%/}\"/%s; else echo file; fi\n", connection.Quote(f.name))
	} else {
		script.WriteString("if [ -d \"$d\" ]; then echo dir; else echo file; fi\n")
	}
	if f.follow {
		script.WriteString("if [ -L \"$d\" ]; then d=$(readlink -f -- \"$d\") || exit 1; fi\n")
	}
	script.WriteString("tally_stat \"$d\" -L sha1\nif [ -d \"$(dirname -- \"$d\")\" ]; then echo 1; else echo 0; fi\ntally_ids\n")
	script.WriteString(readForDiff(t, "d"))
	out, err := t.probe(ctx, script.String())
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", f.dest, err)
	}
	l := newLines(out)
	kind, err := l.take(1)
	if err != nil {
		return nil, err
	}
	fi, err := l.stat()
	if err != nil {
		return nil, err
	}
	parent, err := l.take(1)
	if err != nil {
		return nil, err
	}
	who, err := l.ids()
	if err != nil {
		return nil, err
	}
	dest := fi.path
	switch {
	case kind[0] == "dir" && f.name == "":
		return Result{"failed": true, "msg": "can not use content with a dir as dest"}, nil
	case parent[0] != "1" && !t.Check:
		// In check mode Ansible's copy action reports the change before its module could
		// find the directory missing.
		return Result{"failed": true, "checksum": sha1Hex(f.data), "msg": fmt.Sprintf("Destination directory %s does not exist", path.Dir(dest))}, nil
	case fi.exists && !fi.isReg():
		return Result{"failed": true, "msg": fmt.Sprintf("dest %s exists and is not a regular file", dest)}, nil
	}
	r := Result{"changed": false, "dest": dest, "checksum": sha1Hex(f.data)}
	if fi.exists && !f.force {
		return addPathInfo(r, fi), nil
	}
	cur := fi.perm()
	if !fi.exists {
		cur = 0o666 &^ who.umask
	}
	mode := cur
	if f.attrs.mode == "preserve" {
		mode = f.localMode
	} else if f.attrs.mode != nil {
		if mode, err = resolveMode(f.attrs.mode, cur, false, who.umask); err != nil {
			return modeFailure(err, dest), nil
		}
	}
	want := f.attrs
	want.mode = int(mode)
	if fi.exists && fi.checksum == r["checksum"] {
		cmds, err := want.commands(fi, who.umask)
		if err != nil {
			return nil, err
		}
		if t.Diff {
			// As the file module Ansible's copy then runs: the path and what changes of it.
			ch, _ := want.changes(fi, who.umask) // commands computed them without error
			r["diff"] = attrsDiff(dest, ch)
		}
		if len(cmds) > 0 {
			if fi, err = t.apply(ctx, cmds, dest); err != nil {
				return nil, err
			}
			r["changed"] = true
		}
		r["path"] = dest
		return addPathInfo(r, fi), nil
	}
	if t.Diff {
		source := f.src
		if source != "" {
			source, _ = filepath.Abs(source) // it was found, so its directory exists
		}
		r["diff"] = []any{contentDiff(dest, fi, []byte(l.rest()), f.data, source)}
	}
	if t.Check {
		// As Ansible's copy action: changed, and the diff, nothing else.
		out := Result{"changed": true}
		if d, ok := r["diff"]; ok {
			out["diff"] = d
		}
		return out, nil
	}
	if f.backup && fi.exists {
		if r["backup_file"], err = backupFile(ctx, t, dest); err != nil {
			return nil, err
		}
	}
	if f.validate != "" {
		// As Ansible's copy module: after the backup, on the new content with its mode.
		res, failed, err := validateFile(ctx, t, f.validate, dest, f.data, mode)
		if err != nil || failed != nil {
			return failed, err
		}
		if res.RC != 0 {
			return Result{"failed": true, "msg": "failed to validate", "exit_status": res.RC,
				"stdout": string(res.Stdout), "stderr": string(res.Stderr)}, nil
		}
	}
	if err := t.Conn.Put(ctx, dest, f.data, connection.FileMode(mode), t.Become); err != nil {
		return nil, err
	}
	r["changed"], r["md5sum"] = true, md5Hex(f.data)
	if f.src != "" {
		r["src"] = f.src
	}
	// What Put left: the data with mode, owned as before or by the user writing it.
	after := *fi
	after.exists, after.resolves, after.mode, after.size, after.nlink = true, true, typeReg|mode, int64(len(f.data)), 1
	if !fi.exists {
		after.uid, after.gid, after.owner, after.group = who.uid, who.gid, who.user, who.group
	}
	cmds, err := want.commands(&after, who.umask)
	if err != nil {
		return nil, err
	}
	if len(cmds) > 0 {
		fi, err := t.apply(ctx, cmds, dest)
		if err != nil {
			return nil, err
		}
		return addPathInfo(r, fi), nil
	}
	return addPathInfo(r, &after), nil
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}
