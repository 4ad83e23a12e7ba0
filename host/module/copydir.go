package module

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tallyrun/tally/host/connection"
)

// srcTree is what Ansible's copy action's _walk_dirs finds under a source directory: paths
// relative to dest, with the controller file or the link target each comes from.
type srcTree struct {
	files [][2]string // controller path, relative dest path
	dirs  []string    // relative dest paths, parents first
	links [][2]string // link target, relative dest path
}

// walkSource walks the controller directory dir (whose copy is rel) into tree. With follow
// (local_follow), links to files are copied as files and links to directories walked, except
// a link back to a directory being walked (ancestors, by real path), which stays a link.
func walkSource(dir, rel string, follow bool, ancestors []string, tree *srcTree) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read copy src directory %s: %w", dir, err)
	}
	for _, e := range entries {
		full, r := filepath.Join(dir, e.Name()), path.Join(rel, e.Name())
		if e.Type()&os.ModeSymlink == 0 {
			if e.IsDir() {
				tree.dirs = append(tree.dirs, r)
				if err := walkSource(full, r, follow, ancestors, tree); err != nil {
					return err
				}
			} else {
				tree.files = append(tree.files, [2]string{full, r})
			}
			continue
		}
		target, err := os.Readlink(full)
		if err != nil {
			return fmt.Errorf("read link %s: %w", full, err)
		}
		real, err := filepath.EvalSymlinks(full)
		fi, statErr := os.Stat(full)
		switch {
		case !follow || err != nil || statErr != nil:
			tree.links = append(tree.links, [2]string{target, r})
		case !fi.IsDir():
			tree.files = append(tree.files, [2]string{real, r})
		case isAncestor(real, ancestors):
			tree.links = append(tree.links, [2]string{target, r})
		default:
			tree.dirs = append(tree.dirs, r)
			if err := walkSource(real, r, follow, append(ancestors, real), tree); err != nil {
				return err
			}
		}
	}
	return nil
}

func isAncestor(dir string, ancestors []string) bool {
	for _, a := range ancestors {
		if dir == a || strings.HasPrefix(a, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// copyDir copies the controller directory src (found at found) as Ansible's copy action does:
// without a trailing slash the directory itself lands in dest, with one only its contents.
// Directories are made (and given directory_mode) with one Exec after one Exec that stats
// them; each file then goes as a single-file copy does.
func copyDir(ctx context.Context, t *Task, p params, src, found string) (Result, error) {
	dest := p.str("dest")
	if err := checkPath("dest", dest); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(dest, "/") {
		dest += "/"
	}
	var tree srcTree
	rel := ""
	if !strings.HasSuffix(src, "/") {
		rel = filepath.Base(found)
	}
	real, err := filepath.EvalSymlinks(found)
	if err != nil {
		return nil, fmt.Errorf("copy src %s: %w", found, err)
	}
	if err := walkSource(found, rel, p["local_follow"] != false, []string{real}, &tree); err != nil {
		return nil, err
	}
	source := strings.TrimSuffix(found, "/")
	if strings.HasSuffix(src, "/") {
		source += "/"
	}
	changed, err := makeDirs(ctx, t, p, dest, rel, &tree)
	if err != nil {
		return nil, err
	}
	var last Result
	for _, f := range tree.files {
		fp := newFileToPut(p, path.Join(dest, f[1]))
		fp.src = f[0]
		if err := fp.readSource(t, p.bool("decrypt")); err != nil {
			return nil, err
		}
		if last, err = fp.put(ctx, t); err != nil {
			return nil, err
		}
		if last["failed"] == true {
			return last, nil
		}
		changed = changed || last["changed"] == true
	}
	if len(tree.links) > 0 {
		c, err := makeLinks(ctx, t, dest, tree.links)
		if err != nil {
			return nil, err
		}
		changed = changed || c
	}
	if len(tree.files) == 1 && len(tree.dirs) == 0 && len(tree.links) == 0 {
		// As Ansible's action: one file copied reports that copy's result.
		return last, nil
	}
	return Result{"dest": dest, "src": source, "changed": changed}, nil
}

// makeDirs makes dest and the tree's directories. As Ansible's copy, dest and the top
// directory get directory_mode only when created; every directory below gets it always.
func makeDirs(ctx context.Context, t *Task, p params, dest, top string, tree *srcTree) (bool, error) {
	type dir struct {
		path   string
		always bool
	}
	dirs := []dir{{strings.TrimSuffix(dest, "/"), false}}
	if top != "" {
		dirs = append(dirs, dir{path.Join(dest, top), false})
	}
	for _, d := range tree.dirs {
		dirs = append(dirs, dir{path.Join(dest, d), true})
	}
	var script strings.Builder
	script.WriteString("tally_ids\n")
	for _, d := range dirs {
		fmt.Fprintf(&script, "tally_stat %s\n", connection.Quote(d.path))
	}
	out, err := t.probe(ctx, script.String())
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", dest, err)
	}
	l := newLines(out)
	who, err := l.ids()
	if err != nil {
		return false, err
	}
	want := attrs{mode: p["directory_mode"], owner: p.str("owner"), group: p.str("group")}
	var cmds []string
	changed := false
	for _, d := range dirs {
		fi, err := l.stat()
		if err != nil {
			return false, err
		}
		switch {
		case fi.exists && !fi.isDir() && !(fi.isLink() && fi.resolves):
			return false, fmt.Errorf("copy dest %s exists and is not a directory", d.path)
		case fi.exists && !d.always:
			continue
		case !fi.exists:
			changed = true
			mk, err := mkdirCmd(d.path, p["directory_mode"], who.umask)
			if err != nil {
				return false, err
			}
			cmds = append(cmds, mk)
			after := *fi
			after.exists, after.resolves, after.mode = true, true, typeDir|(0o777&^who.umask)
			after.uid, after.gid, after.owner, after.group = who.uid, who.gid, who.user, who.group
			fi = &after
		}
		c, err := want.commands(fi, who.umask)
		if err != nil {
			return false, fmt.Errorf("directory_mode of %s: %w", d.path, err)
		}
		changed = changed || len(c) > 0
		cmds = append(cmds, c...)
	}
	if len(cmds) == 0 || t.Check {
		return changed, nil
	}
	if _, err := t.probe(ctx, strings.Join(cmds, " &&\n")+"\n"); err != nil {
		return false, fmt.Errorf("make directories under %s: %w", dest, err)
	}
	return changed, nil
}

// mkdirCmd makes dir and its missing parents; as Ansible's copy module, each directory it
// makes gets directory_mode (when set).
func mkdirCmd(dir string, mode any, umask uint32) (string, error) {
	q := connection.Quote(dir)
	if mode == nil {
		return "mkdir -p -- " + q, nil
	}
	m, err := resolveMode(mode, 0o777&^umask, true, umask)
	if err != nil {
		return "", fmt.Errorf("directory_mode of %s: %w", dir, err)
	}
	return fmt.Sprintf(`set -- && p=%s && while [ ! -e "$p" ]; do set -- "$@" "$p"; p=$(dirname -- "$p"); done && mkdir -p -- %s && chmod %o "$@"`, q, q, m), nil
}

// makeLinks recreates the source's links under dest (local_follow false, or a link that
// cannot be followed), replacing what is there, as the file module's state=link with force.
func makeLinks(ctx context.Context, t *Task, dest string, links [][2]string) (bool, error) {
	var script strings.Builder
	for _, l := range links {
		to, at := connection.Quote(l[0]), connection.Quote(path.Join(dest, l[1]))
		fmt.Fprintf(&script, "if [ -L %s ] && [ \"$(readlink -- %s)\" = %s ]; then echo same; else echo new", at, at, to)
		if !t.Check {
			fmt.Fprintf(&script, "; rm -rf -- %s && ln -s -- %s %s || exit 1", at, to, at)
		}
		script.WriteString("; fi\n")
	}
	out, err := t.probe(ctx, script.String())
	if err != nil {
		return false, fmt.Errorf("make links under %s: %w", dest, err)
	}
	return strings.Contains(out, "new"), nil
}
