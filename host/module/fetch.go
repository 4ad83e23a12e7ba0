package module

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

// fetchArgs are the arguments of Ansible's fetch action.
var fetchArgs = []string{"src", "dest", "flat", "fail_on_missing", "validate_checksum"}

// runFetch copies a file from the host to the controller, to dest/HOST/PATH (or to dest itself
// with flat), with one Exec that reads it, writing it only when its checksum differs.
func runFetch(ctx context.Context, t *Task, args map[string]any) (Result, error) {
	if err := checkValidArgs("fetch", args, fetchArgs...); err != nil {
		return nil, err
	}
	if t.Check {
		return Result{"changed": false, "skipped": true, "msg": "check mode not (yet) supported for this module"}, nil
	}
	src, srcOK := args["src"].(string)
	dest, destOK := args["dest"].(string)
	switch {
	case args["src"] == nil || args["dest"] == nil:
		return fail("src and dest are required"), nil
	case !destOK:
		return fail("Invalid type supplied for dest option, it must be a string"), nil
	case !srcOK:
		return fail("Invalid type supplied for source option, it must be a string"), nil
	}
	flat, failOnMissing := truthy(args["flat"]), args["fail_on_missing"] == nil || truthy(args["fail_on_missing"])
	data, source, msg, err := readRemote(ctx, t, src)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(msg, "source is a directory"):
		msg = "remote file is a directory, fetch cannot work on directories"
		if !failOnMissing {
			return Result{"msg": msg + ", not transferring, ignored"}, nil
		}
		return Result{"changed": false, "failed": true, "msg": msg}, nil
	case msg != "":
		if strings.HasPrefix(msg, "file not found") {
			msg = "the remote file does not exist, not transferring, ignored"
		}
		if !failOnMissing {
			return Result{"changed": false, "file": source, "msg": msg}, nil
		}
		// As Ansible: the failed slurp's result, with fetch's message.
		return Result{"changed": false, "failed": true, "msg": msg,
			"invocation": map[string]any{"module_args": map[string]any{"src": source}}}, nil
	}
	if flat {
		if fi, err := os.Stat(dest); err == nil && fi.IsDir() && !strings.HasSuffix(dest, "/") {
			return fail("dest is an existing directory, use a trailing slash if you want to fetch src into that directory"), nil
		}
		if strings.HasSuffix(dest, "/") {
			dest = path.Join(dest, path.Base(source))
		}
		dest = controllerPath(t, dest)
	} else {
		host := t.Host
		if name, ok := t.Vars["inventory_hostname"]; ok {
			host = pytext.Str(name)
		}
		dest = controllerPath(t, dest) + "/" + host + "/" + source
	}
	dest = filepath.Clean(dest)
	sum := sha1Hex(data)
	local, err := os.ReadFile(dest)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fetch: read %s: %w", dest, err)
	}
	if err == nil && sha1Hex(local) == sum {
		return Result{"changed": false, "md5sum": md5Hex(local), "file": source, "dest": dest, "checksum": sum}, nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fail(fmt.Sprintf("Failed to fetch the file: %v", err)), nil
	}
	if err := os.WriteFile(dest, data, 0o644); err != nil {
		return fail(fmt.Sprintf("Failed to fetch the file: %v", err)), nil
	}
	return Result{"changed": true, "md5sum": md5Hex(data), "dest": dest, "remote_md5sum": nil,
		"checksum": sum, "remote_checksum": sum}, nil
}

func init() { register("fetch", Spec{Run: runFetch}) }

// controllerPath is a controller path as Ansible's path_dwim makes it: a relative one is
// taken from the playbook's directory (the last search path).
func controllerPath(t *Task, p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = home + p[1:]
		}
	}
	if filepath.IsAbs(p) || len(t.SearchPaths) == 0 {
		return p
	}
	return filepath.Join(t.SearchPaths[len(t.SearchPaths)-1], p)
}
