package module

import (
	"context"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
)

var unarchiveSpec = &argSpec{module: "unarchive", options: map[string]option{
	"src":        {kind: kindPath, required: true},
	"dest":       {kind: kindPath, required: true},
	"remote_src": {kind: kindBool, def: false},
	"copy":       {kind: kindBool, def: true},
	"creates":    {kind: kindPath},
	"list_files": {kind: kindBool, def: false},
	"extra_opts": {kind: kindList, def: []string{}},
	"decrypt":    {kind: kindBool, def: true},
}}

// runUnarchive unpacks a tar (plain, gzip, bzip2, xz) or zip archive into a directory on the
// host with the host's tar or unzip: from the controller (sent with one Put) or, with
// remote_src, from the host. One Exec looks at dest, src and creates; one tells the format,
// whether dest already holds the archive's files, and extracts them when it does not.
var runUnarchive = withSpec(unarchiveSpec, unarchive)

func init() { register("unarchive", Spec{Run: runUnarchive}) }

// archiveHandlers are Ansible's handlers in the order it tries them, with the shell test that
// recognizes an archive ($s) and the extraction command's arguments.
var archiveHandlers = []struct{ name, test, flag string }{
	{"ZipArchive", `unzip -Z1 "$s"`, ""},
	{"TgzArchive", `tar -tzf "$s"`, "-z"},
	{"TarArchive", `tar -tf "$s"`, ""},
	{"TarBzipArchive", `tar -tjf "$s"`, "-j"},
	{"TarXzArchive", `tar -tJf "$s"`, "-J"},
}

func unarchive(ctx context.Context, t *Task, p params) (Result, error) {
	src, dest := p.str("src"), p.str("dest")
	remote := p.bool("remote_src") || !p.bool("copy")
	for _, v := range []string{src, dest, p.str("creates")} {
		if err := checkPath("path", v); err != nil {
			return nil, err
		}
	}
	script := fmt.Sprintf("d=%s\nif [ -d \"$d\" ]; then echo dir; else echo nodir; fi\nprintf '%%s\\n' \"$d\" \"${TMPDIR:-/tmp}\"\n", shPath(dest))
	if p.has("creates") {
		script += fmt.Sprintf("if [ -e %s ]; then echo exists; else echo no; fi\n", shPath(p.str("creates")))
	}
	if remote {
		script += fmt.Sprintf("if [ -f %s ]; then echo src; else echo nosrc; fi\n", shPath(src))
	}
	out, err := t.probe(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("unarchive: look at %s: %w", dest, err)
	}
	l := strings.Split(out, "\n")
	dest, tmpDir := l[1], l[2]
	l = l[3:]
	if p.has("creates") {
		if l[0] == "exists" {
			return Result{"changed": false, "skipped": true, "msg": fmt.Sprintf("skipped, since %s exists", p.str("creates"))}, nil
		}
		l = l[1:]
	}
	if remote && l[0] != "src" {
		return fail(fmt.Sprintf("Source '%s' does not exist", src)), nil
	}
	if out[:3] != "dir" {
		return fail(fmt.Sprintf("dest '%s' must be an existing dir", dest)), nil
	}
	if !remote {
		local, err := findFile(t, "files", src)
		if err != nil {
			return fail(err.Error()), nil
		}
		data, err := os.ReadFile(local)
		if err == nil && p.bool("decrypt") {
			data, err = t.Vault.Plain(data, local)
		}
		if err != nil {
			return nil, fmt.Errorf("unarchive: read %s: %w", local, err)
		}
		src = fmt.Sprintf("%s/tally-unarchive-%d-%s", strings.TrimSuffix(tmpDir, "/"), time.Now().UnixNano(), path.Base(local))
		if err := t.Conn.Put(ctx, src, data, 0o600, t.Become); err != nil {
			return nil, err
		}
		defer t.sh(context.WithoutCancel(ctx), "rm -f -- "+connection.Quote(src), nil)
	}
	var opts []string
	for _, o := range p.list("extra_opts") {
		opts = append(opts, connection.Quote(o))
	}
	extra := strings.Join(opts, " ")
	var b strings.Builder
	fmt.Fprintf(&b, "s=%s; d=%s\n", connection.Quote(src), connection.Quote(dest))
	b.WriteString("if false; then :\n")
	for _, h := range archiveHandlers {
		fmt.Fprintf(&b, "elif %s >/dev/null 2>&1; then h=%s\n", h.test, h.name)
	}
	b.WriteString("else echo unknown; exit 0; fi\necho \"$h\"\n")
	// Whether dest holds the archive already: tar's --diff, or each zip member compared.
	b.WriteString(`case $h in
ZipArchive) list() { unzip -Z1 "$s"; }; same() {
	unzip -Z1 "$s" | while IFS= read -r m; do
		case $m in */) [ -d "$d/$m" ] || exit 1;; *) [ -f "$d/$m" ] && unzip -p "$s" "$m" | cmp -s - "$d/$m" || exit 1;; esac
	done; }
	extract() { unzip -o "$s" -d "$d" ` + extra + `; }; cmd=$(command -v unzip);;
`)
	for _, h := range archiveHandlers[1:] {
		fmt.Fprintf(&b, "%s) list() { tar -t %s -f \"$s\"; }; same() { tar -d -C \"$d\" %s -f \"$s\" >/dev/null 2>&1; }; "+
			"extract() { tar --extract -C \"$d\" %s -f \"$s\" %s; }; cmd=$(command -v tar);;\n",
			h.name, h.flag, h.flag, h.flag, extra)
	}
	b.WriteString("esac\nif same; then echo same; else echo differs; fi\n")
	if !t.Check {
		b.WriteString(`if ! same; then o=$(mktemp) && e=$(mktemp) || exit 1
	extract >"$o" 2>"$e"; rc=$?; echo "extracted $rc"; printf '%s\n' "$cmd"
	wc -c < "$o"; cat -- "$o"; wc -c < "$e"; cat -- "$e"; rm -f -- "$o" "$e"
else echo kept; fi
`)
	}
	b.WriteString("tally_stat \"$d\" -L\n")
	if p.bool("list_files") {
		b.WriteString("list\n")
	}
	out, err = t.probe(ctx, b.String())
	if err != nil {
		return nil, fmt.Errorf("unarchive %s: %w", src, err)
	}
	handler, rest, _ := strings.Cut(out, "\n")
	if handler == "unknown" {
		return fail(fmt.Sprintf("Failed to find handler for \"%s\". Make sure the required command to extract the file is installed.", src)), nil
	}
	if t.Check && handler != "ZipArchive" {
		// As Ansible, whose tar handlers give up in check mode.
		return Result{"changed": false, "skipped": true, "msg": "remote module (unarchive) does not support check mode when using gtar"}, nil
	}
	state, rest, _ := strings.Cut(rest, "\n")
	r := Result{"changed": state == "differs", "dest": dest, "handler": handler, "src": src}
	if !t.Check {
		var done string
		if done, rest, _ = strings.Cut(rest, "\n"); strings.HasPrefix(done, "extracted ") {
			rc, _ := strconv.Atoi(strings.TrimPrefix(done, "extracted "))
			var cmd, o, e string
			cmd, rest, _ = strings.Cut(rest, "\n")
			if o, rest, err = sized(rest); err == nil {
				e, rest, err = sized(rest)
			}
			if err != nil {
				return nil, fmt.Errorf("unarchive %s: %w", src, err)
			}
			args := []any{cmd}
			for _, a := range strings.Fields(extractArgs(handler)) {
				args = append(args, strings.NewReplacer("$s", src, "$d", dest).Replace(a))
			}
			for _, o := range p.list("extra_opts") {
				args = append(args, o)
			}
			r["extract_results"] = map[string]any{"cmd": args, "rc": rc, "out": o, "err": e}
			if rc != 0 {
				r["failed"], r["msg"] = true, fmt.Sprintf("failed to unpack %s to %s", src, dest)
				return r, nil
			}
		}
	}
	ls := newLines(rest)
	fi, err := ls.stat()
	if err != nil {
		return nil, err
	}
	if p.bool("list_files") {
		files := []any{}
		for _, f := range strings.Split(strings.TrimSuffix(ls.rest(), "\n"), "\n") {
			if f != "" {
				files = append(files, f)
			}
		}
		r["files"] = files
	}
	return addPathInfo(r, fi), nil
}

// extractArgs are the arguments of the extraction command of handler, as its result shows them.
func extractArgs(handler string) string {
	for _, h := range archiveHandlers[1:] {
		if h.name == handler {
			return "--extract -C $d " + h.flag + " -f $s"
		}
	}
	return "-o $s -d $d"
}

// sized reads a byte count line and that many bytes.
func sized(s string) (string, string, error) {
	n, rest, _ := strings.Cut(s, "\n")
	size, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || size > len(rest) {
		return "", "", fmt.Errorf("unexpected output from the host: %q", s)
	}
	return rest[:size], rest[size:], nil
}
