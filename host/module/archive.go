package module

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/tallyrun/tally/host/connection"
)

var archiveSpec = &argSpec{module: "archive", options: withAttrs(map[string]option{
	"path":               {kind: kindList, required: true},
	"dest":               {kind: kindPath},
	"format":             {kind: kindStr, def: "gz", choices: []string{"bz2", "gz", "tar", "xz", "zip"}},
	"exclude_path":       {kind: kindList, def: []string{}},
	"exclusion_patterns": {kind: kindList},
	"force_archive":      {kind: kindBool, def: false},
	"remove":             {kind: kindBool, def: false},
})}

// runArchive is community.general's archive: the host's tar, gzip, bzip2, xz or zip write the
// archive (or compress one file). One Exec expands the paths (globs with the host's shell) and
// reads the ids; one writes the archive, compares its contents with the archive it replaces
// (members' listings for tar, names and CRCs for zip, the data's checksum for one compressed
// file: what Ansible compares), removes the sources when asked and stats dest; one sets the
// attributes when they differ.
var runArchive = withSpec(archiveSpec, archive)

func init() {
	register("archive", Spec{Run: runArchive})
	register("community.general.archive", Spec{Run: runArchive})
}

// compressors are the tar flag and the tool of each compressed format.
var compressors = map[string]struct{ flag, tool string }{
	"gz": {"-z", "gzip"}, "bz2": {"-j", "bzip2"}, "xz": {"-J", "xz"}, "tar": {"", ""},
}

func archive(ctx context.Context, t *Task, p params) (Result, error) {
	format := p.str("format")
	for _, v := range append(append(append([]string{p.str("dest")}, p.list("path")...), p.list("exclude_path")...), p.list("exclusion_patterns")...) {
		if err := checkPath("path", v); err != nil {
			return nil, err
		}
	}
	var b strings.Builder
	b.WriteString("tally_ids\ntally_kind() { if [ -d \"$1\" ]; then echo \"d $1\"; elif [ -e \"$1\" ] || [ -L \"$1\" ]; then echo \"f $1\"; else echo \"m $1\"; fi; }\n")
	for _, s := range p.list("path") {
		b.WriteString(expandScript(s, "tally_kind"))
	}
	b.WriteString("echo E\n")
	for _, s := range p.list("exclude_path") {
		b.WriteString(expandScript(s, "printf 'x %s\\n'"))
	}
	if p.has("dest") {
		fmt.Fprintf(&b, "printf '%%s\\n' %s\n", shPath(p.str("dest")))
	}
	out, err := t.probe(ctx, b.String())
	if err != nil {
		return nil, fmt.Errorf("archive: expand %v: %w", p.list("path"), err)
	}
	l := newLines(out)
	who, err := l.ids()
	if err != nil {
		return nil, err
	}
	var expanded, excluded []string
	kinds := map[string]byte{}
	for len(l.l) > 0 && l.l[0] != "E" {
		kinds[l.l[0][2:]] = l.l[0][0]
		expanded = append(expanded, l.l[0][2:])
		l.l = l.l[1:]
	}
	l.l = l.l[1:]
	for len(l.l) > 0 && strings.HasPrefix(l.l[0], "x ") {
		excluded = append(excluded, l.l[0][2:])
		l.l = l.l[1:]
	}
	var paths []string
	for _, e := range expanded {
		if !slices.Contains(excluded, e) && !slices.Contains(paths, e) {
			paths = append(paths, e)
		}
	}
	slices.Sort(paths)
	if len(paths) == 0 {
		return fail("Error, no source paths were found", "path", strings.Join(p.list("path"), ", "),
			"expanded_paths", strings.Join(expanded, ", "), "expanded_exclude_paths", strings.Join(excluded, ", ")), nil
	}
	root := commonPath(paths)
	globs := slices.ContainsFunc(p.list("path"), func(s string) bool { return strings.ContainsAny(s, "*?") })
	must := p.bool("force_archive") || globs || kinds[paths[0]] == 'd' || len(paths) > 1
	dest := ""
	if p.has("dest") {
		dest = l.l[0]
	} else if !must {
		dest = paths[0] + "." + format
	} else {
		return fail(`Error, must specify "dest" when archiving multiple files or trees`, "dest", "None", "path", strings.Join(p.list("path"), ", ")), nil
	}
	if p.bool("remove") {
		for _, s := range paths {
			if kinds[s] == 'd' && strings.HasPrefix(dest, strings.TrimSuffix(s, "/")+"/") {
				return fail("Error, created archive can not be contained in source paths when remove=true", "path", strings.Join(paths, ", ")), nil
			}
		}
	}
	var targets, missing []string
	for _, s := range paths {
		if kinds[s] == 'm' {
			missing = append(missing, s)
		} else {
			targets = append(targets, s)
		}
	}
	r := Result{"changed": false, "dest": dest, "dest_state": "absent", "arcroot": root, "archived": []any{},
		"missing": anyList(missing), "expanded_paths": anyList(expanded), "expanded_exclude_paths": anyList(excluded)}
	script := "d=" + connection.Quote(dest) + "\n"
	switch {
	case len(targets) == 0:
		script += "if [ -e \"$d\" ]; then echo exists; else echo none; fi\n"
	case t.Check:
		script += "if [ -e \"$d\" ]; then echo exists; else echo none; fi\n"
	default:
		script += writeScript(format, root, targets, must, p.list("exclusion_patterns"), p.bool("remove"), paths)
	}
	out, err = t.probe(ctx, script+"tally_stat \"$d\"\n")
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", dest, err)
	}
	l = newLines(out)
	head, err := l.take(1)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(head[0], "missing "):
		tool := strings.TrimPrefix(head[0], "missing ")
		return fail(fmt.Sprintf("the host has no %s, which archive needs for format %s", tool, format), "dest", dest), nil
	case len(targets) == 0:
		if head[0] == "exists" {
			r["dest_state"] = "compress"
			if isArchiveName(dest) {
				r["dest_state"] = "archive"
			}
		}
	case t.Check:
		r["changed"] = must || head[0] == "none"
	default:
		if res, err := archiveWritten(l, r, head[0], format, root, must, len(missing) > 0); err != nil || res != nil {
			return res, err
		}
	}
	fi, err := l.stat()
	if err != nil {
		return nil, err
	}
	if !fi.exists {
		return r, nil
	}
	return applyAttrs(ctx, t, p, fi, who, r)
}

// archiveWritten reads what writeScript printed after its first line, first, into r: nil
// when it succeeded, else the failure.
func archiveWritten(l *lines, r Result, first, format, root string, must, incomplete bool) (Result, error) {
	dest := r["dest"].(string)
	if first == "failed" {
		msg, err := l.take(1)
		if err != nil {
			return nil, err
		}
		kind := format
		if kind != "zip" && kind != "tar" {
			kind = "tar." + format
		}
		return fail(fmt.Sprintf("Error when writing %s archive at %s: %s", kind, dest, msg[0])), nil
	}
	sums, err := l.take(1)
	if err != nil {
		return nil, err
	}
	archived := []any{}
	var rmErrs []any
	for len(l.l) > 0 && (strings.HasPrefix(l.l[0], "a ") || strings.HasPrefix(l.l[0], "r ")) {
		if l.l[0][0] == 'a' {
			archived = append(archived, l.l[0][2:])
		} else {
			rmErrs = append(rmErrs, l.l[0][2:])
		}
		l.l = l.l[1:]
	}
	// Ansible compares the checksums when the old archive was readable, else the sizes.
	f := strings.Fields(first + " " + sums[0])
	r["changed"] = f[0] == "have" && f[1] != f[3] || f[0] == "none" && f[2] != f[4]
	r["archived"] = archived
	r["dest_state"] = "archive"
	switch {
	case incomplete:
		r["dest_state"] = "incomplete"
	case !must && format != "zip" && format != "tar":
		r["dest_state"] = "compress"
	}
	if rmErrs != nil {
		return fail("Error deleting some source files: ", "dest", dest, "files", rmErrs), nil
	}
	return nil, nil
}

// writeScript writes the archive of targets to $d, printing "missing TOOL" when the host lacks
// one, else "failed" and the tool's error, or "have SUM SIZE" (or "none 0 SIZE" when there
// was no readable archive) of the archive it replaces, "SUM SIZE" of the new one, "a PATH" for
// each file archived and "r PATH" for each source it could not remove.
func writeScript(format, root string, targets []string, must bool, patterns []string, remove bool, paths []string) string {
	var b strings.Builder
	tools := []string{"zip", "unzip"}
	if c := compressors[format]; format != "zip" {
		tools = []string{"tar", c.tool}
		if !must && format != "tar" {
			tools = tools[1:]
		}
	}
	for _, tool := range tools {
		if tool != "" {
			fmt.Fprintf(&b, "command -v %s >/dev/null 2>&1 || { echo 'missing %s'; exit 0; }\n", tool, tool)
		}
	}
	c := compressors[format]
	if format == "zip" {
		// Names and CRCs, as Ansible's _get_checksums; an unreadable zip has none.
		b.WriteString(`sums() { unzip -lv "$1" 2>/dev/null | awk 'NR > 3 && $7 ~ /^[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]$/ { n = $0; sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ /, "", n); print $7, n }' | sort -u | cksum; }` + "\n")
	} else {
		// The members' listings (what their header checksums cover), else (none: GNU tar lists
		// no member of a short file that is not a tar) the data's checksum.
		data := ""
		if c.tool != "" {
			data = c.tool + " -dc <\"$1\" 2>/dev/null | cksum || "
		}
		fmt.Fprintf(&b, "sums() { { tar -tv --full-time -f \"$1\" 2>/dev/null | grep . || %s:; } | sort -u | cksum; }\n", data)
	}
	b.WriteString(`if [ -e "$d" ] && [ -r "$d" ]; then old="have $(sums "$d" | tr ' ' _)"; else old="none 0"; fi
old="$old $(stat -c %s -- "$d" 2>/dev/null || echo 0)"
w=$(mktemp -d) || exit 1
trap 'rm -rf -- "$w"' EXIT
a=$w/new.zip # zip adds .zip to a name without it
`)
	if !must && format != "zip" && format != "tar" {
		fmt.Fprintf(&b, "%s -c <%s >\"$a\" 2>\"$w/e\"; rc=$?\nprintf 'a %%s\\n' %s >\"$w/n\"\n", c.tool, connection.Quote(targets[0]), connection.Quote(targets[0]))
	} else {
		// The members: each target's tree below it (os.walk's, not the target directory itself),
		// without those matching the patterns (the member's name for tar, its path for zip).
		fmt.Fprintf(&b, "cd %s || exit 1\n{\n", connection.Quote(cmp.Or(root, ".")))
		for _, tg := range targets {
			n := connection.Quote(strings.TrimPrefix(tg, root))
			fmt.Fprintf(&b, "if [ -d %[1]s ]; then find -H %[1]s -mindepth 1; else printf '%%s\\n' %[1]s; fi\n", n)
		}
		prefix := ""
		if format == "zip" {
			prefix = root
		}
		if len(patterns) == 0 {
			b.WriteString("} >\"$w/m\"\n")
		} else {
			fmt.Fprintf(&b, "} | while IFS= read -r n; do case %s\"$n\" in %s) ;; *) printf '%%s\\n' \"$n\";; esac; done >\"$w/m\"\n",
				connection.Quote(prefix), exclusionCase(patterns))
		}
		if format == "zip" {
			b.WriteString(`if [ -s "$w/m" ]; then zip -q "$a" -@ <"$w/m" >/dev/null 2>"$w/e"; rc=$?
else printf 'PK\005\006\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >"$a"; rc=$?; fi
`)
			// zipfile's getinfo does not find a directory's member by its name: not archived.
			fmt.Fprintf(&b, "while IFS= read -r n; do [ -d \"$n\" ] || printf 'a %%s%%s\\n' %s \"$n\"; done <\"$w/m\" >\"$w/n\"\n", connection.Quote(root))
		} else {
			fmt.Fprintf(&b, "tar --no-recursion --verbatim-files-from -c %s -f \"$a\" -T \"$w/m\" 2>\"$w/e\"; rc=$?\n", c.flag)
			fmt.Fprintf(&b, "sed 's|^|a %s|' \"$w/m\" >\"$w/n\"\n", strings.NewReplacer(`\`, `\\`, "|", `\|`, "&", `\&`, "'", `'\''`).Replace(root))
		}
	}
	b.WriteString(`[ $rc -eq 0 ] || { echo failed; tr '\n' ' ' <"$w/e"; echo; exit 0; }
echo "$old"; echo "$(sums "$a" | tr ' ' _) $(stat -c %s -- "$a")"
cat -- "$a" >"$d" || exit 1
cat -- "$w/n"
`)
	if remove {
		b.WriteString("sed 's/^a //' \"$w/n\" | while IFS= read -r n; do if [ -e \"$n\" ]; then rm -rf -- \"$n\" || echo \"r $n\"; fi; done\n")
		for _, s := range paths {
			fmt.Fprintf(&b, "if [ -d %[1]s ]; then rm -rf -- %[1]s || printf 'r %%s\\n' %[1]s; fi\n", connection.Quote(s))
		}
	}
	return b.String()
}

// expandScript prints each path pattern p names through cmd, as Ansible's expand_paths: a
// pattern with * or ? is a glob (its matches that exist), any other path is itself.
func expandScript(p, cmd string) string {
	if !strings.ContainsAny(p, "*?") {
		return fmt.Sprintf("%s %s\n", cmd, shPath(p))
	}
	return fmt.Sprintf("for f in %s; do if [ -e \"$f\" ] || [ -L \"$f\" ]; then %s \"$f\"; fi; done\n", globWord(p), cmd)
}

// globWord is the shell word matching the glob p: its pattern characters as they are, every
// other character escaped, a leading ~/ the home directory.
func globWord(p string) string {
	var b strings.Builder
	if strings.HasPrefix(p, "~/") {
		b.WriteString(`"$HOME"`)
		p = p[1:]
	}
	for _, r := range p {
		switch {
		case strings.ContainsRune("*?[]!", r),
			r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("/._-", r):
		default:
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// exclusionCase is the case pattern matching any of fnmatch's patterns.
func exclusionCase(patterns []string) string {
	words := make([]string, len(patterns))
	for i, s := range patterns {
		words[i] = globWord(s)
	}
	return strings.Join(words, "|")
}

// commonPath is Ansible's common_path: the directory, with a trailing slash, the paths' parent
// directories share.
func commonPath(paths []string) string {
	prefix := withSlash(pyDirname(paths[0]))
	for _, s := range paths[1:] {
		d := withSlash(pyDirname(s))
		n := 0
		for n < len(prefix) && n < len(d) && prefix[n] == d[n] {
			n++
		}
		prefix = prefix[:n]
	}
	return withSlash(pyDirname(prefix))
}

// pyDirname is Python's os.path.dirname.
func pyDirname(p string) string {
	head := p[:strings.LastIndex(p, "/")+1]
	if strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head
}

// withSlash is Python's os.path.join(p, ""): p ended by a slash unless empty.
func withSlash(p string) string {
	if p == "" || strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// isArchiveName reports whether name ends as an archive's, as Ansible's is_archive.
func isArchiveName(name string) bool {
	n := strings.ToLower(path.Base(name))
	for _, ext := range []string{".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".zip"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// anyList returns s as a result's list.
func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
