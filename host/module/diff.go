package module

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"
)

// maxDiffSize is Ansible's MAX_FILE_SIZE_FOR_DIFF: larger files are not diffed.
const maxDiffSize = 104448

// contentDiff is the diff Ansible's copy and template actions report for a file whose content
// changes: before is what dest held (fi is its record, before its first maxDiffSize+1 bytes),
// after the new content, headed by its controller-side source when it has one.
func contentDiff(dest string, fi *fileInfo, before, after []byte, source string) map[string]any {
	d := map[string]any{}
	switch {
	case !fi.exists:
		d["before"] = ""
	case bytes.IndexByte(before[:min(len(before), 8192)], 0) >= 0:
		d["dst_binary"] = 1
	case fi.size > maxDiffSize:
		d["dst_larger"] = maxDiffSize
	default:
		d["before_header"], d["before"] = dest, string(before)
	}
	switch {
	case len(after) > maxDiffSize:
		d["src_larger"] = maxDiffSize
	case bytes.IndexByte(after, 0) >= 0:
		d["src_binary"] = 1
	default:
		if source != "" {
			d["after_header"] = source
		}
		d["after"] = string(after)
	}
	return d
}

// attrsDiff is the diff of the attributes changes set on path, as Ansible's file module and
// set_fs_attributes_if_different report it: before and after name the path (when path is not
// empty) and each changed attribute.
func attrsDiff(path string, changes []attrChange) map[string]any {
	before, after := map[string]any{}, map[string]any{}
	if path != "" {
		before["path"], after["path"] = path, path
	}
	for _, c := range changes {
		before[c.name], after[c.name] = c.before, c.after
	}
	return map[string]any{"before": before, "after": after}
}

// readForDiff is shell text that prints the regular file at the variable p's path, at most one
// byte more than a diff takes, when diff mode asks for it.
func readForDiff(t *Task, p string) string {
	if !t.Diff {
		return ""
	}
	return fmt.Sprintf("if [ -f \"$%[1]s\" ] && [ -r \"$%[1]s\" ]; then head -c %[2]d -- \"$%[1]s\"; fi\n", p, maxDiffSize+1)
}

// pathContent lists what the directory dir holds, as the file module's diff shows a directory
// that state=absent removes: the directories and the files in os.walk's order (each
// directory's entries as readdir gives them, then each subdirectory's in turn).
func pathContent(ctx context.Context, t *Task, dir string) (map[string]any, error) {
	out, err := t.probe(ctx, "find "+shPath(dir)+` -mindepth 1 -exec sh -c 'for p do if [ -d "$p" ] && [ ! -L "$p" ]; then echo "d$p"; else echo "f$p"; fi; done' sh {} +`)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	children := map[string][]string{} // find's pre-order keeps each directory's readdir order
	isDir := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if len(l) < 2 {
			continue
		}
		p := l[1:]
		isDir[p] = l[0] == 'd'
		children[path.Dir(p)] = append(children[path.Dir(p)], p)
	}
	dirs, files := []any{}, []any{}
	var walk func(base string)
	walk = func(base string) {
		var sub []string
		for _, p := range children[base] {
			if isDir[p] {
				dirs, sub = append(dirs, p), append(sub, p)
			} else {
				files = append(files, p)
			}
		}
		for _, p := range sub {
			walk(p)
		}
	}
	walk(path.Clean(dir))
	return map[string]any{"directories": dirs, "files": files}, nil
}
