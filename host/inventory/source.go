package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tallyrun/tally/internal/pypath"
	"github.com/tallyrun/tally/internal/pytext"
)

// This file is InventoryManager.parse_sources: which plugin reads which source.

// Load reads inventory sources as ansible-playbook -i does. A source is a file (YAML or
// INI, told apart as Ansible does), a directory (every inventory file in it, skipping what
// Ansible skips, such as *.ini, *.cfg, *.txt and dot files, recursively), or, when it
// contains a comma and is not an existing path, a host list "h1,h2,". Several sources
// merge, later ones setting variables last. The group_vars/ and host_vars/ next to each
// source (in the directory source itself, or beside a file) are read too.
//
// Unlike Ansible, which only warns and goes on without it, a source that does not exist
// or cannot be parsed is an error; a *ParseError gives the file and line.
func Load(sources []string) (*Inventory, error) { return LoadWith(sources, Options{}) }

// LoadWith is Load with options.
func LoadWith(sources []string, opts Options) (*Inventory, error) {
	inv := newInventory(opts.Warn)
	inv.vault = opts.Vault
	parsed := false
	for _, src := range sources {
		if src == "" {
			continue
		}
		ok, err := inv.parseSource(src)
		if err != nil {
			return nil, err
		}
		parsed = parsed || ok
	}
	if err := inv.reconcile(); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	if !parsed {
		inv.warnf("No inventory was parsed, only implicit localhost is available")
	}
	for _, src := range sources {
		dir, ok := sourceVarsDir(src)
		if !ok {
			continue
		}
		d, err := inv.loadVarsDir(dir)
		if err != nil {
			return nil, err
		}
		inv.invDirs = append(inv.invDirs, d)
	}
	inv.refreshVars()
	return inv, nil
}

// isHostList reports whether Ansible's host_list plugin takes src.
func isHostList(src string) bool {
	if !strings.Contains(src, ",") {
		return false
	}
	_, err := os.Stat(src)
	return err != nil
}

// sourceVarsDir is the directory whose group_vars/ and host_vars/ belong to src.
func sourceVarsDir(src string) (string, bool) {
	if src == "" || isHostList(src) {
		return "", false
	}
	path := unfrackPath(src)
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return path, true
	}
	return filepath.Dir(path), true
}

func (inv *Inventory) parseSource(src string) (bool, error) {
	if isHostList(src) {
		// Ansible's basedir() of a host list is None, which it stores as the text "None".
		inv.curFile, inv.curDir = src, "None"
		inv.parseHostList(src)
		return true, nil
	}
	path := src
	if !strings.Contains(src, ",") {
		path = unfrackPath(src)
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		// As Ansible: a source that does not exist is a warning; the run goes on with the
		// other sources and the implicit localhost.
		inv.warnf("Unable to parse %s as an inventory source", path)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inventory source: %w", err)
	}
	if fi.IsDir() {
		return inv.parseDir(path)
	}
	return true, inv.parseFile(path)
}

// ignoredEntry matches the directory entries Ansible does not read as inventory: dot
// files, vars directories and the INVENTORY_IGNORE_EXTS extensions.
var ignoredEntry = regexp.MustCompile(`^\.|^host_vars$|^group_vars$|^vars_plugins$|(?:\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$`)

func (inv *Inventory) parseDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("inventory source: %w", err)
	}
	parsed := false
	for _, e := range entries {
		if ignoredEntry.MatchString(e.Name()) {
			continue
		}
		full := filepath.Join(dir, e.Name())
		fi, err := os.Stat(full)
		var ok bool
		switch {
		case err != nil:
			// A broken link: no plugin accepts it.
			inv.warnf("Unable to parse %s as an inventory source", full)
		case fi.IsDir():
			if ok, err = inv.parseDir(full); err != nil {
				return false, err
			}
		default:
			if err := inv.parseFile(full); err != nil {
				return false, err
			}
			ok = true
		}
		parsed = parsed || ok
	}
	if !parsed {
		inv.warnf("Unable to parse %s as an inventory source", dir)
	}
	return parsed, nil
}

// yamlExtensions are the file extensions Ansible's yaml plugin accepts (none included).
var yamlExtensions = []string{"", ".yaml", ".yml", ".json"}

// parseFile reads an inventory file as Ansible's plugin chain does: the yaml plugin first
// for files without an extension or with a YAML one, then the ini plugin for any file.
// A plugin failing halfway leaves what it added, as in Ansible.
func (inv *Inventory) parseFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &ParseError{File: path, Err: err}
	}
	if data, err = inv.vault.Plain(data, path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	inv.curFile, inv.curDir = path, dir
	defer func() { inv.curFile, inv.curDir = nil, nil }()

	ext := pyExt(path)
	var yamlErr error
	yamlShaped := false
	for _, e := range yamlExtensions {
		if e == ext {
			yamlShaped, yamlErr = inv.parseYAML(path, data)
			if yamlErr == nil {
				return nil
			}
			break
		}
	}
	iniErr := inv.parseINI(path, data)
	switch {
	case iniErr == nil:
		return nil
	case yamlErr != nil && (ext != "" || yamlShaped):
		// A YAML file (by name or content): the INI error would only be noise.
		return yamlErr
	case isScript(path, data):
		return fmt.Errorf("%w (tally does not run inventory scripts)", iniErr)
	}
	return iniErr
}

// isScript reports whether Ansible's script plugin would try to run path.
func isScript(path string, data []byte) bool {
	fi, err := os.Stat(path)
	return strings.HasPrefix(string(data), "#!") || (err == nil && fi.Mode()&0o111 != 0)
}

// parseHostList is Ansible's host_list plugin: "h1,h2:2222,10.0.0.1" names ungrouped hosts;
// ranges are not expanded.
func (inv *Inventory) parseHostList(src string) {
	ungrouped := inv.groupIndex["ungrouped"]
	for _, item := range strings.Split(src, ",") {
		item = pytext.Strip(item)
		if item == "" {
			continue
		}
		name, port, err := parseAddress(item, false)
		if err != nil {
			name, port = item, -1
		}
		if inv.hostIndex[name] == nil {
			// Cannot fail: the name is not empty.
			_, _ = inv.addHost(name, ungrouped, port)
		}
	}
}

// unfrackPath is Ansible's unfrackpath(path, follow=False): environment variables and ~
// expanded, made absolute and clean, symbolic links kept.
func unfrackPath(path string) string {
	path = pypath.ExpandUser(pypath.ExpandVars(path))
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return filepath.Clean(path)
}
