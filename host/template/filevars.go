package template

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FileVars are the variables that Ansible's template module and template lookup add for a
// template file (generate_ansible_template_vars): path as the task gave it, fullpath where it
// was found, dest where the result goes ("" for none), and ansible_managed: managed with
// {host}, {uid} and {file} replaced, then its strftime directives at the file's modification
// time, as Ansible expands DEFAULT_MANAGED_STR.
func FileVars(path, fullpath, dest, managed string) (map[string]any, error) {
	fi, err := os.Stat(fullpath)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	host, _ := os.Hostname()
	uid := ""
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid = strconv.FormatUint(uint64(st.Uid), 10)
		if u, err := user.LookupId(uid); err == nil {
			uid = u.Username
		}
	}
	m, err := formatManaged(managed, map[string]string{"host": host, "uid": uid, "file": path})
	if err != nil {
		return nil, err
	}
	v := map[string]any{
		"template_host":     host,
		"template_path":     path,
		"template_fullpath": fullpath,
		"template_mtime":    pyDatetime(fi.ModTime()),
		"template_uid":      uid,
		"template_run_date": pyDatetime(time.Now()),
		"template_destpath": nil,
		"ansible_managed":   strftime(fi.ModTime(), m),
	}
	if dest != "" {
		v["template_destpath"] = dest
	}
	return v, nil
}

// formatManaged is Python's str.format for the named fields of ansible_managed: {{ and }} are
// braces, any other field is an error as in Python.
func formatManaged(s string, fields map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case strings.HasPrefix(s[i:], "{{"), strings.HasPrefix(s[i:], "}}"):
			b.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("ansible_managed %q: single '{' encountered in format string", s)
			}
			v, ok := fields[s[i+1:i+end]]
			if !ok {
				return "", fmt.Errorf("ansible_managed %q: unknown field %q (it may use {host}, {uid} and {file})", s, s[i+1:i+end])
			}
			b.WriteString(v)
			i += end
		case c == '}':
			return "", fmt.Errorf("ansible_managed %q: single '}' encountered in format string", s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// pyDatetime is str() of a Python datetime: microseconds only when there are some.
func pyDatetime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}
