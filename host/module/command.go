package module

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/internal/pytext"
)

// commandSpec is the command module's argument_spec; shell is command with _uses_shell, and
// Ansible names both ansible.legacy.command in its messages.
var commandSpec = &argSpec{module: "ansible.legacy.command", options: map[string]option{
	"_raw_params":       {kind: kindStr},
	"_uses_shell":       {kind: kindBool, def: false},
	"argv":              {kind: kindList},
	"chdir":             {kind: kindPath},
	"executable":        {kind: kindStr},
	"creates":           {kind: kindPath},
	"removes":           {kind: kindPath},
	"stdin":             {kind: kindStr},
	"stdin_add_newline": {kind: kindBool, def: true},
	"strip_empty_ends":  {kind: kindBool, def: true},
}}

// Markers a command wrapper prints as its first line of stdout, so that one Exec both checks
// chdir, creates and removes and runs the command.
const (
	markRun      = "tally:run"
	markCreates  = "tally:creates"
	markRemoves  = "tally:removes"
	markChdir    = "tally:chdir:"    // + errno
	markNotFound = "tally:notfound:" // + errno
)

// Python's errno values and messages, which Ansible's messages carry.
var errnoText = map[string]string{"2": "No such file or directory", "13": "Permission denied", "20": "Not a directory"}

func runCommand(ctx context.Context, t *Task, args map[string]any) (Result, error) {
	return commandOrShell(ctx, t, args, false)
}

func runShell(ctx context.Context, t *Task, args map[string]any) (Result, error) {
	return commandOrShell(ctx, t, args, true)
}

// commandModule runs command and shell in one Exec: a wrapper checks chdir, creates and removes
// and reports which stopped it, or runs the command.
var commandModule = withSpec(commandSpec, command)

// commandOrShell runs command, or shell: the command module told to use the shell, as Ansible
// does.
func commandOrShell(ctx context.Context, t *Task, args map[string]any, shell bool) (Result, error) {
	args, err := moveCmd(args)
	if err != nil {
		return nil, err
	}
	if shell {
		args = maps.Clone(args)
		args["_uses_shell"] = true
	}
	return commandModule(ctx, t, args)
}

// moveCmd accepts the cmd argument as the free-form text, as Ansible's task parser does.
func moveCmd(args map[string]any) (map[string]any, error) {
	cmd, ok := args["cmd"]
	if !ok {
		return args, nil
	}
	if raw, _ := args["_raw_params"].(string); strings.TrimSpace(raw) != "" {
		return nil, ansibleErr("The 'cmd' argument cannot be used when other raw parameters are specified. Please put everything in one or the other place.")
	}
	out := map[string]any{"_raw_params": cmd}
	for k, v := range args {
		if k != "cmd" && k != "_raw_params" {
			out[k] = v
		}
	}
	return out, nil
}

func command(ctx context.Context, t *Task, p params) (Result, error) {
	shell := p.bool("_uses_shell")
	r := Result{"changed": false, "stdout": "", "stderr": "", "rc": nil, "cmd": nil, "start": nil, "end": nil,
		"delta": nil, "msg": ""}
	defer addLines(r)
	raw, argv := p.str("_raw_params"), p.list("argv")
	switch {
	case strings.TrimSpace(raw) == "" && len(argv) == 0:
		return failWith(r, 256, "no command given"), nil
	case raw != "" && len(argv) > 0:
		return failWith(r, 256, "only command or argv can be given, not both"), nil
	}
	var script strings.Builder
	if dir := p.str("chdir"); dir != "" {
		d := shPath(dir)
		fmt.Fprintf(&script, "[ -e %s ] || { echo %s2; exit 0; }; [ -d %s ] || { echo %s20; exit 0; }; cd -P %s 2>/dev/null || { echo %s13; exit 0; }\n",
			d, markChdir, d, markChdir, d, markChdir)
	}
	if c := p.str("creates"); c != "" {
		fmt.Fprintf(&script, "if tally_any %s; then echo %s; exit 0; fi\n", shGlob(c), markCreates)
	}
	if c := p.str("removes"); c != "" {
		fmt.Fprintf(&script, "if ! tally_any %s; then echo %s; exit 0; fi\n", shGlob(c), markRemoves)
	}
	var cmdText, run string // the command as failure messages show it; the line running it
	if shell {
		r["cmd"] = raw
		cmdText = raw
		exe := p.str("executable")
		if exe == "" {
			exe = "/bin/sh"
		}
		run = fmt.Sprintf("echo %s; exec %s -c %s", markRun, connection.Quote(exe), connection.Quote(raw))
	} else {
		if exe := p.str("executable"); exe != "" {
			r["warnings"] = []string{fmt.Sprintf("As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '%s'.", exe)}
		}
		if raw != "" {
			var err error
			if argv, err = shlexSplit(raw); err != nil {
				return nil, fmt.Errorf("split command %q: %w", raw, err)
			}
		}
		r["cmd"] = argv
		quoted := make([]string, len(argv))
		for i, a := range argv {
			quoted[i] = connection.Quote(a)
		}
		cmdText = strings.Join(quoted, " ")
		run = fmt.Sprintf("tally_found %s || exit 0; echo %s; exec %s", quoted[0], markRun, cmdText)
	}
	if t.Check {
		// As Ansible's command module in check mode: creates and removes decide, nothing runs.
		run = "echo " + markRun
	}
	script.WriteString(run)
	var stdin []byte
	if p.has("stdin") {
		stdin = []byte(p.str("stdin"))
		if p.bool("stdin_add_newline") {
			stdin = append(stdin, '\n')
		}
	}
	start := time.Now()
	res, err := t.sh(ctx, commandHelpers+script.String(), stdin)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	mark, out, _ := strings.Cut(string(res.Stdout), "\n")
	shoulda := "Did"
	if t.Check {
		shoulda = "Would"
	}
	switch {
	case mark == markRun && t.Check:
		r["rc"], r["msg"] = 0, "Command would have run if not in check mode"
		if p.str("creates") == "" && p.str("removes") == "" {
			r["skipped"] = true
		} else {
			r["changed"] = true
		}
	case mark == markRun:
		r["changed"] = true
		r["start"], r["end"], r["delta"] = pyDatetime(start), pyDatetime(end), pyTimedelta(end.Sub(start))
		r["rc"] = res.RC
		r["stdout"] = trimOutput([]byte(out), p.bool("strip_empty_ends"))
		r["stderr"] = trimOutput(res.Stderr, p.bool("strip_empty_ends"))
		if res.RC != 0 {
			r["msg"] = "non-zero return code"
			r["failed"] = true
		}
	case mark == markCreates:
		c := p.str("creates")
		r["rc"], r["msg"], r["stdout"] = 0, fmt.Sprintf("%s not run command since '%s' exists", shoulda, c), "skipped, since "+c+" exists"
	case mark == markRemoves:
		c := p.str("removes")
		r["rc"], r["msg"], r["stdout"] = 0, fmt.Sprintf("%s not run command since '%s' does not exist", shoulda, c), "skipped, since "+c+" does not exist"
	case strings.HasPrefix(mark, markChdir):
		errno := strings.TrimPrefix(mark, markChdir)
		failWith(r, nil, fmt.Sprintf("Unable to change directory before execution: [Errno %s] %s: b'%s'", errno, errnoText[errno], p.str("chdir")))
	case strings.HasPrefix(mark, markNotFound):
		// As Ansible when the executable cannot be run: no timing, cmd as one string.
		errno := strings.TrimPrefix(mark, markNotFound)
		delete(r, "start")
		delete(r, "end")
		delete(r, "delta")
		r["cmd"] = cmdText
		rc, _ := strconv.Atoi(errno)
		failWith(r, rc, fmt.Sprintf("[Errno %s] %s: b'%s'", errno, errnoText[errno], argv[0]))
	default:
		return nil, fmt.Errorf("run %s: unexpected output from the host (rc %d): %s", cmdText, res.RC, strings.TrimSpace(string(res.Stderr)))
	}
	return r, nil
}

// commandHelpers: tally_any PATTERN... succeeds when a glob matched an existing path;
// tally_found NAME succeeds when NAME can be executed, else prints the marker with the errno
// Python's exec would have failed with.
const commandHelpers = `tally_any() { for f do if [ -e "$f" ] || [ -L "$f" ]; then return 0; fi; done; return 1; }
tally_found() {
	case $1 in
	*/*) if [ ! -e "$1" ]; then echo ` + markNotFound + `2; return 1; fi
		if [ -d "$1" ] || [ ! -x "$1" ]; then echo ` + markNotFound + `13; return 1; fi;;
	*) IFS=:; for d in $PATH; do if [ -f "${d:-.}/$1" ] && [ -x "${d:-.}/$1" ]; then unset IFS; return 0; fi; done
		unset IFS; echo ` + markNotFound + `2; return 1;;
	esac
}
`

var rawArgs = []string{"_raw_params", "executable"}

// runRaw runs the free-form text through the shell, as-is: the task environment does not
// apply, as in Ansible.
func runRaw(ctx context.Context, t *Task, args map[string]any) (Result, error) {
	if err := checkValidArgs("raw", args, rawArgs...); err != nil {
		return nil, err
	}
	if t.Check {
		// As Ansible's raw action: always skipped in check mode.
		return Result{"changed": false, "skipped": true}, nil
	}
	cmd := pytext.Str(args["_raw_params"])
	if exe, ok := args["executable"]; ok && exe != nil && pytext.Str(exe) != "" {
		cmd = "exec " + connection.Quote(pytext.Str(exe)) + " -c " + connection.Quote(cmd)
	}
	res, err := t.Conn.Exec(ctx, connection.Command{Cmd: cmd, Become: t.Become})
	if err != nil {
		return nil, err
	}
	return execResult(res), nil
}

// execResult is what Ansible's _low_level_execute_command gives raw and script.
func execResult(res connection.Result) Result {
	r := Result{"changed": true, "rc": res.RC, "stdout": string(res.Stdout), "stderr": string(res.Stderr)}
	if res.RC != 0 {
		r["failed"] = true
		r["msg"] = "non-zero return code"
	}
	addLines(r)
	return r
}

var scriptArgs = []string{"_raw_params", "cmd", "chdir", "creates", "removes", "executable", "decrypt"}

// runScript copies a local script to the host and runs it, in one Exec: the script arrives
// on stdin and goes to a private temporary file, removed after the run.
func runScript(ctx context.Context, t *Task, args map[string]any) (Result, error) {
	if err := checkValidArgs("script", args, scriptArgs...); err != nil {
		return nil, err
	}
	args, err := moveCmd(args)
	if err != nil {
		return nil, err
	}
	str := func(k string) string {
		if v, ok := args[k]; ok && v != nil {
			return pytext.Str(v)
		}
		return ""
	}
	chdir := str("chdir")
	if chdir != "" && !strings.HasPrefix(chdir, "/") {
		return nil, fmt.Errorf("chdir %s must be an absolute path for a Unix-aware remote node", chdir)
	}
	raw := strings.TrimSpace(str("_raw_params"))
	parts, err := shlexSplit(raw)
	if err != nil {
		return nil, fmt.Errorf("split script arguments %q: %w", raw, err)
	}
	if len(parts) == 0 {
		return nil, errors.New("script: no script given")
	}
	source, err := findFile(t, "files", parts[0])
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(source)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	decrypt := true
	if v, ok := args["decrypt"]; ok && v != nil {
		if decrypt, err = boolean(v); err != nil {
			return nil, fmt.Errorf("decrypt: %w", err)
		}
	}
	if decrypt {
		if data, err = t.Vault.Plain(data, source); err != nil {
			return nil, err
		}
	}
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return nil, err
	}
	tmp := "/tmp/.tally-script-" + hex.EncodeToString(suffix[:])
	// Keep the arguments as written, quoting included, as Ansible does.
	target := strings.Replace(raw, parts[0], tmp, 1)
	if exe := str("executable"); exe != "" {
		target = connection.Quote(exe) + " " + target
	}
	var script strings.Builder
	if c := str("creates"); c != "" {
		fmt.Fprintf(&script, "if [ -e %s ]; then echo %s; exit 0; fi\n", shPath(c), markCreates)
	}
	if c := str("removes"); c != "" {
		fmt.Fprintf(&script, "if [ ! -e %s ]; then echo %s; exit 0; fi\n", shPath(c), markRemoves)
	}
	if t.Check {
		// As Ansible's script action in check mode: creates and removes decide, nothing runs.
		if script.Len() == 0 {
			return Result{"changed": false, "skipped": true, "msg": "Check mode is not supported for this task."}, nil
		}
		script.WriteString("echo " + markRun + "; exit 0\n")
		data = nil
	}
	fmt.Fprintf(&script, "(umask 077; set -C; cat > %s) && chmod 700 %s || exit\necho %s\n", tmp, tmp, markRun)
	if chdir != "" {
		fmt.Fprintf(&script, "cd %s && ", connection.Quote(chdir))
	}
	fmt.Fprintf(&script, "%s\nrc=$?; rm -f %s; exit $rc", target, tmp)
	res, err := t.sh(ctx, script.String(), data)
	if err != nil {
		return nil, err
	}
	mark, out, _ := strings.Cut(string(res.Stdout), "\n")
	switch mark {
	case markCreates:
		return Result{"changed": false, "skipped": true, "msg": str("creates") + " exists, matching creates option"}, nil
	case markRemoves:
		return Result{"changed": false, "skipped": true, "msg": str("removes") + " does not exist, matching removes option"}, nil
	case markRun:
		if t.Check {
			return Result{"changed": true}, nil
		}
		res.Stdout = []byte(out)
		return execResult(res), nil
	}
	return nil, fmt.Errorf("copy script %s to the host: %s", source, strings.TrimSpace(string(res.Stderr)))
}

// findFile finds a controller-side file as Ansible's _find_needle does: an absolute path as
// is, else in each search path's subdir, then in the search path itself.
func findFile(t *Task, subdir, name string) (string, error) {
	if strings.HasPrefix(name, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			name = home + name[1:]
		}
	}
	const hint = " on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option"
	if strings.HasPrefix(name, "/") {
		if _, err := os.Stat(name); err != nil {
			return "", ansibleErr("Could not find or access '%s'%s", name, hint)
		}
		return name, nil
	}
	var tried []string
	for _, dir := range t.SearchPaths {
		for _, p := range []string{filepath.Join(dir, subdir, name), filepath.Join(dir, name)} {
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, p)
		}
	}
	return "", ansibleErr("Could not find or access '%s'\nSearched in:\n\t%s%s", name, strings.Join(tried, "\n\t"), hint)
}
