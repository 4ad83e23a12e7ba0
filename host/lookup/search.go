package lookup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tallyrun/tally/internal/pypath"
)

// basedir is the playbook's directory, Ansible's loader basedir.
func (c *call) basedir() string {
	if d, ok := c.vars["playbook_dir"].(string); ok && d != "" {
		return d
	}
	wd, _ := os.Getwd()
	return wd
}

// searchPath is the ansible_search_path variable, else the basedir alone.
func (c *call) searchPath() []string {
	switch p := c.vars["ansible_search_path"].(type) {
	case []string:
		return p
	case []any:
		out := make([]string, 0, len(p))
		for _, d := range p {
			out = append(out, fmt.Sprint(d))
		}
		return out
	}
	return []string{c.basedir()}
}

// candidates lists where Ansible's path_dwim_relative_stack looks for source: in each search
// directory its subdir, then the directory, and the basedir last. subdir is not added when
// source already starts with it.
func (c *call) candidates(subdir, source string) []string {
	var out []string
	add := func(dir string) {
		if first, _, _ := strings.Cut(source, "/"); first != subdir {
			out = append(out, filepath.Join(dir, subdir, source))
		}
		out = append(out, filepath.Join(dir, source))
	}
	for _, dir := range c.searchPath() {
		add(absDir(dir))
	}
	add(absDir(c.basedir()))
	return out
}

func absDir(d string) string {
	if abs, err := filepath.Abs(d); err == nil {
		return abs
	}
	return d
}

// find returns the first existing file for source (find_file_in_search_path); an absolute
// or ~ path is taken as it is. ok is false when none exists.
func (c *call) find(subdir, source string) (string, bool) {
	if strings.HasPrefix(source, "~") || filepath.IsAbs(source) {
		p := pypath.ExpandUser(source)
		_, err := os.Stat(p)
		return p, err == nil
	}
	for _, p := range c.candidates(subdir, source) {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// findOrWarn is find, with Ansible's warning when nothing is found.
func (c *call) findOrWarn(subdir, source string) (string, bool) {
	p, ok := c.find(subdir, source)
	if !ok {
		c.r.warn(fmt.Sprintf("Unable to find '%s' in expected paths (use -vvvvv to see paths)", source))
	}
	return p, ok
}

// pathDwim is Ansible's loader.path_dwim: an absolute or ~ path as it is, else relative to the
// basedir.
func (c *call) pathDwim(p string) string {
	if strings.HasPrefix(p, "~") || filepath.IsAbs(p) {
		return pypath.ExpandUser(p)
	}
	return filepath.Join(absDir(c.basedir()), p)
}
