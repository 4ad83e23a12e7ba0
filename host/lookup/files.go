package lookup

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/tallyrun/tally/host/template"
)

// readFile reads a controller file, decrypting vault text in memory.
func (c *call) readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return c.r.vault.Plain(data, path)
}

// readFound finds name in the search path (in subdir first) and reads it; notFound is the
// error when it is not there.
func (c *call) readFound(subdir, name string, notFound error) ([]byte, error) {
	path, ok := c.findOrWarn(subdir, name)
	if !ok {
		return nil, notFound
	}
	return c.readFile(path)
}

// fileLookup returns each file's content (vault-encrypted files decrypted), stripped at the
// end (rstrip, default true) and at the start (lstrip, default false).
func fileLookup(c *call, terms []any) ([]any, error) {
	if err := c.strictOpts("rstrip", "lstrip"); err != nil {
		return nil, err
	}
	rstrip, lstrip := template.Truthy(c.opt("rstrip", true)), template.Truthy(c.opt("lstrip", false))
	out := []any{}
	for _, t := range terms {
		term := fmt.Sprint(t)
		data, err := c.readFound("files", term, fmt.Errorf("could not locate file in lookup: %s", term))
		if err != nil {
			return nil, err
		}
		s := string(data)
		if lstrip {
			s = strings.TrimLeftFunc(s, unicode.IsSpace)
		}
		if rstrip {
			s = strings.TrimRightFunc(s, unicode.IsSpace)
		}
		out = append(out, s)
	}
	return out, nil
}

// unvaultLookup returns each file's content, decrypted when it is vault text, unstripped.
func unvaultLookup(c *call, terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		term := fmt.Sprint(t)
		data, err := c.readFound("files", term, fmt.Errorf("Unable to find file matching \"%s\" ", term))
		if err != nil {
			return nil, err
		}
		out = append(out, string(data))
	}
	return out, nil
}

// templateLookup renders each template (searched in templates/) with the caller's variables,
// Ansible's template_* variables and the template_vars option, in Jinja's syntax or the
// variable and comment delimiters given; with convert_data (the default) a result that reads as
// a list, dict or bool becomes one.
func templateLookup(c *call, terms []any) ([]any, error) {
	if err := c.strictOpts("convert_data", "template_vars", "jinja2_native", "variable_start_string",
		"variable_end_string", "comment_start_string", "comment_end_string"); err != nil {
		return nil, err
	}
	delims := map[string]string{}
	for _, k := range []string{"variable_start_string", "variable_end_string", "comment_start_string", "comment_end_string"} {
		delims[k] = c.optString(k, "")
	}
	extra, _ := c.opt("template_vars", map[string]any{}).(map[string]any)
	out := []any{}
	for _, t := range terms {
		term := fmt.Sprint(t)
		path, ok := c.findOrWarn("templates", term)
		if !ok {
			return nil, fmt.Errorf("the template file %s could not be found for the lookup", term)
		}
		data, err := c.readFile(path)
		if err != nil {
			return nil, err
		}
		vars := make(map[string]any, len(c.vars)+len(extra)+8)
		for k, v := range c.vars {
			vars[k] = v
		}
		fv, err := template.FileVars(term, path, "", c.r.managed)
		if err != nil {
			return nil, err
		}
		for k, v := range fv {
			vars[k] = v
		}
		for k, v := range extra {
			vars[k] = v
		}
		// includes and imports are searched as Ansible's template lookup sets Jinja's
		// searchpath: the template's directory, then each search directory's templates/
		// and the directory itself
		dirs := []string{filepath.Dir(path)}
		for _, p := range c.searchPath() {
			dirs = append(dirs, filepath.Join(p, "templates"), p)
		}
		s, err := c.r.tmpl.RenderFile(string(data), vars, template.FileOptions{Dirs: dirs, Delimiters: delims})
		if err != nil {
			return nil, err
		}
		if c.opt("convert_data", true) == true {
			out = append(out, template.ConvertData(s))
		} else {
			out = append(out, s)
		}
	}
	return out, nil
}

// fileglobLookup returns the files matching each pattern: a pattern with a directory is
// looked up as a file in the search path; a bare one in each search directory's files/ and
// the directory itself; the first directory with matches wins.
func fileglobLookup(c *call, terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		term := fmt.Sprint(t)
		base := filepath.Base(term)
		var dirs []string
		if base != term {
			if d, ok := c.findOrWarn("files", filepath.Dir(term)); ok {
				dirs = append(dirs, d)
			}
		} else {
			for _, p := range c.searchPath() {
				dirs = append(dirs, filepath.Join(p, "files"), p)
			}
		}
		for _, d := range dirs {
			matches, _ := filepath.Glob(filepath.Join(d, base))
			var files []any
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
					files = append(files, m)
				}
			}
			if len(files) > 0 {
				out = append(out, files...)
				break
			}
		}
	}
	return out, nil
}

// firstFoundLookup returns the first file found of the terms: names, lists of names, or
// mappings with files, paths and skip (the lists may be split on , ; and paths on :).
func firstFoundLookup(c *call, terms []any) ([]any, error) {
	search, skip, err := c.firstFoundTerms(terms)
	if err != nil {
		return nil, err
	}
	for _, fn := range search {
		v, err := c.render(fn)
		if err != nil {
			continue // an undefined name is skipped, as Ansible's first_found does
		}
		if p, ok := c.find(c.subdir, fmt.Sprint(v)); ok {
			return []any{p}, nil
		}
	}
	if skip {
		return []any{}, nil
	}
	return nil, &Error{Msg: "No file was found when using first_found."}
}

func (c *call) firstFoundTerms(terms []any) ([]string, bool, error) {
	var total []string
	skip := false
	for _, t := range terms {
		opts := c.opts
		switch x := t.(type) {
		case map[string]any:
			opts = x
		case string:
		case []any:
			part, s, err := c.firstFoundTerms(x)
			if err != nil {
				return nil, false, err
			}
			total = append(total, part...)
			skip = s
			continue
		default:
			return nil, false, &Error{Msg: fmt.Sprintf("Invalid term supplied, can handle string, mapping or list of strings but got: %T for %v", t, t)}
		}
		files, paths := splitOn(opts["files"], ",;"), splitOn(opts["paths"], ",:;")
		skip = template.Truthy(opts["skip"])
		switch {
		case len(paths) > 0:
			for _, p := range paths {
				for _, f := range files {
					total = append(total, filepath.Join(p, f))
				}
			}
		case len(files) > 0:
			total = files
		default:
			if s, ok := t.(string); ok {
				total = append(total, s)
			}
		}
	}
	return total, skip, nil
}

// splitOn splits a string (or each string of a list) on any of seps, as first_found's
// _split_on.
func splitOn(v any, seps string) []string {
	var out []string
	switch x := v.(type) {
	case string:
		for _, f := range strings.FieldsFunc(x, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
			out = append(out, f)
		}
	case []any:
		for _, e := range x {
			out = append(out, splitOn(e, seps)...)
		}
	}
	return out
}

// run runs a shell command in the basedir, as the pipe and lines lookups do.
func (c *call) run(term string) ([]byte, error) {
	cmd := exec.Command("/bin/sh", "-c", term)
	cmd.Dir = c.basedir()
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("lookup_plugin.%s(%s) returned %d", c.name, term, exit.ExitCode())
		}
		return nil, err
	}
	return out, nil
}

// pipeLookup returns each command's output, stripped at the end.
func pipeLookup(c *call, terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		b, err := c.run(fmt.Sprint(t))
		if err != nil {
			return nil, err
		}
		out = append(out, strings.TrimRightFunc(string(b), unicode.IsSpace))
	}
	return out, nil
}

// linesLookup returns the lines each command prints.
func linesLookup(c *call, terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		b, err := c.run(fmt.Sprint(t))
		if err != nil {
			return nil, err
		}
		for _, l := range splitLines(string(b)) {
			out = append(out, l)
		}
	}
	return out, nil
}

// splitLines is Python's str.splitlines for \n, \r\n and \r.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// envLookup returns environment variables of the controller (the first word of each term),
// or the default option.
func envLookup(c *call, terms []any) ([]any, error) {
	if err := c.strictOpts("default"); err != nil {
		return nil, err
	}
	def := c.opt("default", "")
	out := []any{}
	for _, t := range terms {
		fields := strings.Fields(fmt.Sprint(t))
		if len(fields) == 0 {
			return nil, fmt.Errorf("list index out of range")
		}
		if v, ok := os.LookupEnv(fields[0]); ok {
			out = append(out, v)
		} else {
			out = append(out, def)
		}
	}
	return out, nil
}
