// Package pypath is Python's os.path expansions on the operator's machine, which Ansible applies
// to the paths it reads: the user's home directory for ~ and the environment for $NAME.
package pypath

import (
	"os"
	"os/user"
	"regexp"
	"strings"
)

// envVar matches $name and ${name} as os.path.expandvars does.
var envVar = regexp.MustCompile(`\$(\w+|\{[^}]*\})`)

// ExpandVars is os.path.expandvars: $NAME and ${NAME} of the environment; an unset one is left
// as written.
func ExpandVars(s string) string {
	return envVar.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSuffix(strings.TrimPrefix(m[1:], "{"), "}")
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return m
	})
}

// ExpandUser is os.path.expanduser: a leading ~ is the user's home directory, ~name that
// user's; a path without one, or naming a user that does not exist, is left as written.
func ExpandUser(s string) string {
	if !strings.HasPrefix(s, "~") {
		return s
	}
	name, rest, _ := strings.Cut(s[1:], "/")
	var home string
	if name == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return s
		}
		home = h
	} else {
		u, err := user.Lookup(name)
		if err != nil {
			return s
		}
		home = u.HomeDir
	}
	if rest == "" && !strings.Contains(s, "/") {
		return home
	}
	return strings.TrimSuffix(home, "/") + "/" + rest
}
