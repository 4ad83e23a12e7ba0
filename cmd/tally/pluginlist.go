package main

import (
	"os"
	"path/filepath"
	"slices"
)

// withProjectPlugins puts ./callback_plugins first on the search path when it exists: the
// plugins command without --playbook looks where tally run looks for a playbook in the
// current directory.
func withProjectPlugins(path []string) []string {
	dir, err := filepath.Abs("callback_plugins")
	if st, serr := os.Stat(dir); err != nil || serr != nil || !st.IsDir() || slices.Contains(path, dir) {
		return path
	}
	return append([]string{dir}, path...)
}
