package module

import (
	"context"
	"fmt"
	"strings"
)

var statSpec = &argSpec{module: "stat", options: map[string]option{
	"path":           {kind: kindPath, required: true, aliases: []string{"dest", "name"}},
	"follow":         {kind: kindBool, def: false},
	"get_checksum":   {kind: kindBool, def: true},
	"get_mime":       {kind: kindBool, def: true, aliases: []string{"mime", "mime_type", "mime-type"}},
	"get_attributes": {kind: kindBool, def: true, aliases: []string{"attr", "attributes"}},
	"checksum_algorithm": {kind: kindStr, def: "sha1", aliases: []string{"checksum", "checksum_algo"},
		choices: []string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}},
}}

// runStat reports on a path with one Exec. get_mime asks the host's file command, when it
// has one (else mimetype and charset are unknown, as in Ansible); get_attributes is accepted
// but gathers nothing: it needs lsattr.
var runStat = withSpec(statSpec, statModule)

func statModule(ctx context.Context, t *Task, p params) (Result, error) {
	if err := checkPath("path", p.str("path")); err != nil {
		return nil, err
	}
	follow, alg := `""`, `""`
	if p.bool("follow") {
		follow = "-L"
	}
	if p.bool("get_checksum") {
		alg = p.str("checksum_algorithm")
	}
	script := fmt.Sprintf("tally_stat %s %s %s", shPath(p.str("path")), follow, alg)
	if p.bool("get_mime") {
		// As Ansible, file looks at the path itself, followed or not.
		script += fmt.Sprintf("\n! command -v file >/dev/null 2>&1 || file --mime-type --mime-encoding -- %s 2>/dev/null || true", shPath(p.str("path")))
	}
	out, err := t.probe(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", p.str("path"), err)
	}
	l := newLines(out)
	fi, err := l.stat()
	if err != nil {
		return nil, err
	}
	r := Result{"changed": false}
	if !fi.exists {
		r["stat"] = map[string]any{"exists": false}
		return r, nil
	}
	st := modeInfo(fi)
	st["exists"], st["path"] = true, fi.path
	st["readable"], st["writeable"], st["executable"] = fi.readable, fi.writeable, fi.executable
	if fi.isLink() {
		st["lnk_source"], st["lnk_target"] = fi.linkSource, fi.linkTarget
	}
	// stat prints UNKNOWN for ids without a name, where Ansible leaves the key out.
	if fi.owner != "UNKNOWN" {
		st["pw_name"] = fi.owner
	}
	if fi.group != "UNKNOWN" {
		st["gr_name"] = fi.group
	}
	if p.bool("get_mime") {
		st["mimetype"], st["charset"] = "unknown", "unknown"
		// "PATH: TYPE; charset=CHARSET", split at the last colon as Ansible does.
		if line := strings.TrimSpace(l.rest()); strings.Contains(line, "; charset=") {
			typ, charset, _ := strings.Cut(line[strings.LastIndex(line, ":")+1:], ";")
			st["mimetype"], st["charset"] = strings.TrimSpace(typ), strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(charset), "charset="))
		}
	}
	if fi.checksum != "" {
		st["checksum"] = fi.checksum
	}
	r["stat"] = st
	return r, nil
}

// modeInfo is what Ansible's stat and find report of every file: its type, mode bits, ids,
// size, inode and times.
func modeInfo(fi *fileInfo) map[string]any {
	m := fi.mode
	bit := func(b uint32) bool { return m&b != 0 }
	typ := m & typeMask
	return map[string]any{
		"mode":  fmt.Sprintf("%04o", m&permBits),
		"isdir": typ == typeDir, "ischr": typ == typeChar, "isblk": typ == typeBlock, "isreg": typ == typeReg,
		"isfifo": typ == typeFIFO, "islnk": typ == typeLink, "issock": typ == typeSock,
		"uid": fi.uid, "gid": fi.gid, "size": fi.size, "inode": fi.inode, "dev": fi.dev, "nlink": fi.nlink,
		"atime": fi.atime, "mtime": fi.mtime, "ctime": fi.ctime,
		"wusr": bit(0o200), "rusr": bit(0o400), "xusr": bit(0o100),
		"wgrp": bit(0o020), "rgrp": bit(0o040), "xgrp": bit(0o010),
		"woth": bit(0o002), "roth": bit(0o004), "xoth": bit(0o001),
		"isuid": bit(modeSUID), "isgid": bit(modeSGID),
	}
}
