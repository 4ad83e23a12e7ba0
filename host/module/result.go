package module

import (
	"errors"
	"fmt"

	"github.com/tallyrun/tally/internal/pytext"
)

// fail is a failed result with msg and the extra keys and values kv.
func fail(msg string, kv ...any) Result {
	r := Result{"failed": true, "msg": msg}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	return r
}

// failWith marks r failed with rc and msg.
func failWith(r Result, rc any, msg string) Result {
	r["rc"], r["msg"], r["failed"] = rc, msg, true
	return r
}

// addLines adds stdout_lines and stderr_lines as Ansible's action plugins do.
func addLines(r Result) {
	for _, k := range []string{"stdout", "stderr"} {
		if s, ok := r[k].(string); ok {
			r[k+"_lines"] = pytext.SplitLines(s)
		}
	}
}

// modeFailure is the result Ansible fails with for a bad mode argument.
func modeFailure(err error, path string) Result {
	var me *modeError
	if errors.As(err, &me) {
		return fail(me.msg, "details", me.details, "path", path)
	}
	return fail(err.Error(), "path", path)
}

// noCheckMode is the result of a module without check mode support in check mode: skipped, as
// Ansible's AnsibleModule exits before doing anything.
func noCheckMode(module string) Result {
	return Result{"changed": false, "skipped": true, "msg": fmt.Sprintf("remote module (%s) does not support check mode", module)}
}

// moduleException is the result of an Ansible module that raised an exception with message
// exc: a module failure, the message on its stderr where Ansible's shows the traceback.
func moduleException(exc string) Result {
	return Result{"changed": false, "failed": true, "rc": 1, "module_stdout": "", "module_stderr": exc + "\n",
		"msg": "MODULE FAILURE\nSee stdout/stderr for the exact error"}
}
