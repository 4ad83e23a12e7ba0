package pluginhost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Found is a plugin file on the search path.
type Found struct {
	// Name is the plugin's name: its file name without .wasm.
	Name string
	// Path is the file, the first of that name on the search path.
	Path string
	// Shadows are the later files of the same name, which Path hides.
	Shadows []string
}

// Discover lists the plugins on the search path, sorted by name. A directory that does not
// exist is skipped, as Ansible skips missing plugin directories.
func Discover(path []string) ([]Found, error) {
	byName := map[string]*Found{}
	var errs []error
	for _, dir := range path {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin directory: %w", err))
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".wasm")
			if !ok || name == "" || e.IsDir() {
				continue
			}
			file := filepath.Join(dir, e.Name())
			if f := byName[name]; f != nil {
				f.Shadows = append(f.Shadows, file)
			} else {
				byName[name] = &Found{Name: name, Path: file}
			}
		}
	}
	out := make([]Found, 0, len(byName))
	for _, f := range byName {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Found) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

// Lookup returns the file of the plugin called name, the first on the search path, or "".
func Lookup(path []string, name string) string {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return ""
	}
	for _, dir := range path {
		file := filepath.Join(dir, name+".wasm")
		if st, err := os.Stat(file); err == nil && !st.IsDir() {
			return file
		}
	}
	return ""
}
