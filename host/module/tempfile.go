package module

import (
	"context"
	"fmt"
	"strings"

	"github.com/tallyrun/tally/host/connection"
)

var tempfileSpec = &argSpec{module: "tempfile", options: map[string]option{
	"state":  {kind: kindStr, def: "file", choices: []string{"file", "directory"}},
	"path":   {kind: kindPath},
	"prefix": {kind: kindStr, def: "ansible."},
	"suffix": {kind: kindStr, def: ""},
}}

// runTempfile makes a temporary file or directory on the host with its mktemp, in one Exec.
var runTempfile = withSpec(tempfileSpec, tempfileModule)

func init() { register("tempfile", Spec{Run: runTempfile}) }

func tempfileModule(ctx context.Context, t *Task, p params) (Result, error) {
	if t.Check {
		return noCheckMode("tempfile"), nil
	}
	prefix, suffix := p.str("prefix"), p.str("suffix")
	if strings.Contains(prefix+suffix, "/") {
		return fail("prefix and suffix must not contain a slash"), nil
	}
	dir := `"${TMPDIR:-/tmp}"` // Python's gettempdir, on the host
	if p.has("path") {
		if err := checkPath("path", p.str("path")); err != nil {
			return nil, err
		}
		dir = shPath(p.str("path"))
	}
	flag := ""
	if p.str("state") == "directory" {
		flag = "-d "
	}
	// Python's mkstemp names have 8 random characters; GNU mktemp takes a suffix after them.
	out, err := t.probe(ctx, fmt.Sprintf("p=$(mktemp %s-- %s/%s) || exit 1\ntally_stat \"$p\"", flag, dir,
		connection.Quote(prefix+"XXXXXXXX"+suffix)))
	if err != nil {
		return fail(err.Error()), nil
	}
	fi, err := newLines(out).stat()
	if err != nil {
		return nil, err
	}
	return addPathInfo(Result{"changed": true, "path": fi.path}, fi), nil
}
