package executor

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/tallyrun/tally/host/module"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
)

// include_vars runs in the executor: what it loads becomes host variables (Ansible's vars
// cache, below set_fact), which no module can set. This ports plugins/action/include_vars.py.

var (
	includeVarsDirArgs  = []string{"dir", "depth", "files_matching", "ignore_files", "extensions", "ignore_unknown_extensions"}
	includeVarsFileArgs = []string{"file", "_raw_params"}
	includeVarsAllArgs  = []string{"name", "hash_behaviour"}
)

// includeVarsResult loads the variables an include_vars task c asks for with args.
func (r *playRun) includeVarsResult(c *compiled, args, vars map[string]any) map[string]any {
	dirs, files := 0, 0
	for k := range args {
		switch {
		case slices.Contains(includeVarsDirArgs, k):
			dirs++
		case slices.Contains(includeVarsFileArgs, k):
			files++
		case slices.Contains(includeVarsAllArgs, k):
		default:
			return failure(fmt.Sprintf("%s is not a valid option in include_vars", k))
		}
	}
	if dirs > 0 && files > 0 {
		return failure("You are mixing file only and dir only arguments, these are incompatible")
	}
	if hb, ok := args["hash_behaviour"]; ok && hb != nil && hb != "replace" {
		return failure("tally does not support hash_behaviour: merge in include_vars yet")
	}
	iv := &includedVars{opts: playbook.Options{Vault: r.x.cfg.Vault}, results: map[string]any{}}
	var err error
	if dir, _ := args["dir"].(string); dir != "" {
		err = iv.loadDir(r.includeVarsDir(c, dir), c.role(), args)
	} else {
		file, _ := args["file"].(string)
		if file == "" {
			raw, _ := args["_raw_params"].(string)
			file = strings.TrimRight(raw, "\n")
		}
		var path string
		if path, err = module.FindFile(r.searchPaths(c), "vars", file); err == nil {
			err = iv.load(path, nil)
		}
	}
	res := map[string]any{"changed": false}
	if err != nil {
		res["failed"], res["message"] = true, err.Error()
		iv.results = map[string]any{}
	}
	if name, _ := args["name"].(string); name != "" {
		iv.results = map[string]any{name: iv.results}
	}
	included := make([]any, len(iv.files))
	for i, f := range iv.files {
		included[i] = f
	}
	res["ansible_included_var_files"] = included
	res["ansible_facts"] = iv.results
	return res
}

// includeVarsDir is the directory an include_vars dir names (_set_root_dir): under the
// role's vars/ in a role, else next to the task's file.
func (r *playRun) includeVarsDir(c *compiled, dir string) string {
	if role := c.role(); role != nil {
		if strings.Split(dir, "/")[0] == "vars" {
			if p := filepath.Join(absPath(role.Path), dir); exists(p) {
				return p
			}
			return dir
		}
		return filepath.Join(absPath(role.Path), "vars", dir)
	}
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(absPath(filepath.Dir(c.task.Pos.File)), dir)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// includedVars accumulates the files an include_vars loads.
type includedVars struct {
	opts    playbook.Options // the vault that opens encrypted files
	results map[string]any
	files   []string
}

// load reads one vars file; with exts, its extension must be one of them.
func (iv *includedVars) load(path string, exts []string) error {
	if exts != nil && !validExt(path, exts) {
		return fmt.Errorf("%s does not have a valid extension: %s", path, strings.Join(exts, ", "))
	}
	m, err := playbook.LoadVars(path, iv.opts)
	if err != nil {
		return err
	}
	iv.files = append(iv.files, path)
	for k, v := range m {
		iv.results[k] = v
	}
	return nil
}

func validExt(path string, exts []string) bool {
	return slices.Contains(exts, strings.TrimPrefix(filepath.Ext(path), "."))
}

// loadDir reads the vars files of dir, directory by directory in name order, down to depth.
func (iv *includedVars) loadDir(dir string, role *playbook.Role, args map[string]any) error {
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("%s directory does not exist", dir)
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	depth := 0
	if d, ok := args["depth"]; ok && d != nil {
		n, err := toFloat(d)
		if err != nil {
			return fmt.Errorf("depth: %w", err)
		}
		depth = int(n)
	}
	var matcher *regexp.Regexp
	if fm, _ := args["files_matching"].(string); fm != "" {
		if matcher, err = regexp.Compile(fm); err != nil {
			return fmt.Errorf("Invalid regular expression: %s", fm)
		}
	}
	var ignore []*regexp.Regexp
	switch ig := args["ignore_files"].(type) {
	case string:
		for _, p := range strings.Fields(ig) {
			re, err := regexp.Compile(p + "$")
			if err != nil {
				return fmt.Errorf("Invalid regular expression: %s", p)
			}
			ignore = append(ignore, re)
		}
	case []any:
		for _, p := range ig {
			re, err := regexp.Compile(template.String(p) + "$")
			if err != nil {
				return fmt.Errorf("Invalid regular expression: %v", p)
			}
			ignore = append(ignore, re)
		}
	}
	exts := []string{"yaml", "yml", "json"}
	if e, ok := args["extensions"].([]any); ok {
		exts = nil
		for _, x := range e {
			exts = append(exts, template.String(x))
		}
	}
	ignoreUnknown, _ := template.Bool(orFalse(args["ignore_unknown_extensions"]))

	// os.walk's directories, sorted by path, each with its sorted files.
	var roots []string
	filesIn := map[string][]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			roots = append(roots, p)
		} else {
			filesIn[filepath.Dir(p)] = append(filesIn[filepath.Dir(p)], d.Name())
		}
		return nil
	})
	slices.Sort(roots)
	for i, root := range roots {
		if depth != 0 && i+1 > depth {
			break
		}
		names := filesIn[root]
		slices.Sort(names)
		for _, name := range names {
			if role != nil && filepath.Join(absPath(role.Path), name) == filepath.Join(root, "vars", "main.yml") {
				continue
			}
			if matcher != nil && !matcher.MatchString(name) {
				continue
			}
			if slices.ContainsFunc(ignore, func(re *regexp.Regexp) bool { return re.MatchString(name) }) {
				continue
			}
			if ignoreUnknown && !validExt(name, exts) {
				continue
			}
			if err := iv.load(filepath.Join(root, name), exts); err != nil {
				return err
			}
		}
	}
	return nil
}
