package module

import (
	"context"
	"fmt"
	"strings"

	"github.com/tallyrun/tally/host/connection"
)

// copyRemoteDir copies the host's directory src within the host, as Ansible's copy module
// does with remote_src: with one Exec that does the copy (or, in check mode, finds what it
// would do) and prints whether anything changed, the result path's record and the user's ids,
// then one more only to give that path the task's mode, owner or group.
//
// As Ansible's module (copy_diff_files, copy_left_only, copy_common_dirs), without a trailing
// slash src lands in dest/basename(src), with one its contents land in dest; an entry missing
// from the target is copied with its tree (shutil.copytree: modes and times kept), a file whose
// content differs is rewritten with the source's mode, and directories present on both sides
// are walked. Nothing is deleted. owner and group are then given to the whole target.
func copyRemoteDir(ctx context.Context, t *Task, p params, src string, srcMode uint32) (Result, error) {
	dest := p.str("dest")
	if err := checkPath("dest", dest); err != nil {
		return nil, err
	}
	into := !strings.HasSuffix(src, "/") // src itself goes into dest
	// local_follow has no default in the module: unset, links are neither followed nor
	// recreated when synced into an existing tree, and copied trees keep them.
	follow := "unset"
	if v, ok := p["local_follow"].(bool); ok {
		follow = fmt.Sprint(v)
	}
	var sc strings.Builder
	fmt.Fprintf(&sc, "S=%s\nD=%s\ncheck=%t\nfollow=%s\nch=0\n", shPath(strings.TrimSuffix(src, "/")), shPath(dest), t.Check, follow)
	sc.WriteString(copyRemoteDirScript)
	if into {
		sc.WriteString(`if [ -d "$D" ]; then
	R=${D%/}/${S##*/}
	if [ ! -e "$R" ]; then ch=1; $check || tally_copytree "$S" "$R" || exit 1
	else tally_sync "$S" "$R" || exit 1
	fi
	T=$R
elif [ -d "$(dirname -- "$D")" ]; then
	R=$D T=${D%/}/${S##*/}
	if $check; then ch=1
	else mkdir -p -- "$T" && tally_sync "$S" "$T" || exit 1
	fi
else echo noparent; exit 0
fi
`)
	} else {
		sc.WriteString(`if [ -d "$D" ]; then
	R=${D%/}/ T=$D
	tally_sync "$S" "$T" || exit 1
elif [ -d "$(dirname -- "$D")" ]; then
	R=$D T=$D
	ch=1; $check || tally_copytree "$S" "$D" || exit 1
else echo noparent; exit 0
fi
`)
	}
	for _, own := range []struct{ test, set, who string }{{"-user", "chown", p.str("owner")}, {"-group", "chgrp", p.str("group")}} {
		if own.who != "" {
			fmt.Fprintf(&sc, "if [ -e \"$T\" ] && [ -n \"$(find \"$T\" ! %s %s -print | head -n 1)\" ]; then ch=1; $check || %s -R %s -- \"$T\" || exit 1; fi\n",
				own.test, connection.Quote(own.who), own.set, connection.Quote(own.who))
		}
	}
	sc.WriteString("echo ok\necho $ch\necho \"$R\"\ntally_stat \"$R\"\ntally_ids\n")
	out, err := t.probe(ctx, sc.String())
	if err != nil {
		return nil, fmt.Errorf("copy directory %s to %s: %w", src, dest, err)
	}
	l := newLines(out)
	head, err := l.take(1)
	if err != nil {
		return nil, err
	}
	switch head[0] {
	case "parent": // check mode, dest's directory missing: the module's own early answer
		return Result{"changed": true, "msg": "dest directory " + strings.TrimSuffix(dest, "/") + " would be created", "src": src}, nil
	case "noparent":
		return Result{"failed": true, "changed": false, "msg": "Destination directory " + pyDirname(dest) + " does not exist"}, nil
	}
	state, err := l.take(2)
	if err != nil {
		return nil, err
	}
	fi, who, err := l.statIDs()
	if err != nil {
		return nil, err
	}
	r := Result{"changed": state[0] == "1", "dest": state[1], "src": src, "md5sum": nil, "checksum": nil}
	if !fi.exists { // check mode: nothing was made
		return r, nil
	}
	if p["mode"] == "preserve" { // as the module, which then reports this mode as its argument
		p["mode"] = fmt.Sprintf("0%03o", srcMode)
	}
	return applyAttrs(ctx, t, p, fi, who, r)
}

// copyRemoteDirScript defines the copy's shell functions and makes a dest written with a
// trailing slash, as Ansible's copy module does. tally_copytree is shutil.copytree (links kept
// unless local_follow is true); tally_left copies an entry that only the source has, as
// copy_left_only; tally_sync is one directory's copy_diff_files, copy_left_only and
// copy_common_dirs (filecmp.dircmp ignores no name there: the module gives it bytes paths).
// Any difference sets ch.
const copyRemoteDirScript = `tally_copytree() {
	if [ "$follow" = true ]; then cp -R -L --preserve=mode,timestamps -- "$1" "$2"
	else cp -R -P --preserve=mode,timestamps -- "$1" "$2"
	fi
}
tally_left() {
	if [ -L "$1" ]; then
		[ -e "$1" ] || return 0
		case $follow in
		true) if [ -d "$1" ]; then tally_copytree "$1" "$2"; else cat -- "$1" > "$2"; fi ;;
		false) cp -P -- "$1" "$2" ;;
		esac
	elif [ -f "$1" ]; then cp -- "$1" "$2" && chmod --reference="$1" -- "$2"
	elif [ -d "$1" ]; then tally_copytree "$1" "$2"
	fi
}
tally_sync() {
	for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		d="$2/${e##*/}"
		if [ ! -e "$d" ] && [ ! -L "$d" ]; then
			ch=1; $check || tally_left "$e" "$d" || return 1
		elif [ -f "$e" ] && [ -f "$d" ]; then
			cmp -s -- "$e" "$d" || { ch=1; $check || { cp -- "$e" "$d" && chmod --reference="$e" -- "$d"; } || return 1; }
		elif [ -d "$e" ] && [ -d "$d" ]; then
			tally_sync "$e" "$d" || return 1
		fi
	done
}
case $D in */)
	if [ ! -d "$D" ]; then
		if $check; then echo parent; exit 0; fi
		mkdir -p -- "$D" || exit 1
	fi
esac
`
