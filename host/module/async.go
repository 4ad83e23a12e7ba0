package module

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/internal/pytext"
)

// Async tasks (the async and poll keywords) run as a job on the host, in the directory
// ~/.ansible_async/<jid>/ of the user the task runs as:
//
//   - command and shell start their command as a POSIX shell background job that writes
//     its stdin, stdout, stderr and exit status to files there, and a watchdog ends it after
//     the async timeout;
//   - the other modules Ansible runs asynchronously (those without an action plugin of their
//     own: file, stat, lineinfile, ...) run to the end at once, and leave their result there;
//   - the rest (copy, template, debug, ...) fail with Ansible's "async is not supported".
//
// async_status reads the job back: a finished command job is turned into the command
// module's result by running the module again on a connection that replays the recorded
// output, so both give one result (its start and end are those of the reading).

// asyncDir is where jobs live on the host, as Ansible's default async_dir.
const asyncDir = "$HOME/.ansible_async"

// asyncRefused are the modules whose Ansible action plugin does not support async.
var asyncRefused = map[string]bool{"copy": true, "template": true, "script": true, "raw": true}

// asyncMeta is what a job records of its task, for async_status.
type asyncMeta struct {
	Module string         `json:"module"`
	Args   map[string]any `json:"args"`
}

// AsyncRun returns spec's module run as an async task of at most timeout seconds that is
// checked every poll seconds until it finishes; with poll 0 it only starts the job and
// reports its jid (fire and forget). sleep waits between checks.
func AsyncRun(name string, spec Spec, timeout, poll int, sleep func(context.Context, time.Duration)) Func {
	return func(ctx context.Context, t *Task, args map[string]any) (Result, error) {
		if spec.Controller || asyncRefused[name] {
			return Result{"failed": true, "changed": false, "msg": "async is not supported for this task."}, nil
		}
		started, err := startJob(ctx, name, spec, t, args, timeout)
		if err != nil || poll <= 0 {
			return started, err
		}
		// As Ansible's _poll_async_result, the time left counts poll steps, not the clock.
		var st Result
		for left := timeout; left > 0 && ctx.Err() == nil; left -= poll {
			sleep(ctx, time.Duration(poll)*time.Second)
			if st, err = runAsyncStatus(ctx, t, map[string]any{"jid": started["ansible_job_id"]}); err != nil {
				return nil, err
			}
			if st["finished"] == 1 {
				return st, nil
			}
		}
		return Result{"failed": true, "changed": false, "async_result": st,
			"msg": fmt.Sprintf("async task did not complete within the requested time - %ds", timeout)}, nil
	}
}

// startJob starts module name as job and returns Ansible's record of a started job.
func startJob(ctx context.Context, name string, spec Spec, t *Task, args map[string]any, timeout int) (Result, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e12))
	if err != nil {
		return nil, err
	}
	jid := fmt.Sprintf("j%d.%d", n, os.Getpid())
	meta, err := json.Marshal(asyncMeta{Module: name, Args: args})
	if err != nil {
		return nil, fmt.Errorf("async: record the arguments of %s: %w", name, err)
	}
	dir, err := t.probe(ctx, fmt.Sprintf("d=%s/%s; mkdir -p \"$d\" && printf %%s %s > \"$d/meta\" && echo \"$d\"",
		asyncDir, jid, connection.Quote(string(meta))))
	if err != nil {
		return nil, fmt.Errorf("async: create the job directory: %w", err)
	}
	dir = strings.TrimSpace(dir)
	if name == "command" || name == "shell" {
		lt := *t
		lt.Conn = &launchConn{Connection: t.Conn, dir: dir, timeout: timeout}
		if _, err := spec.Run(ctx, &lt, args); !errors.Is(err, errLaunched) {
			if err == nil {
				err = fmt.Errorf("async: %s finished without starting its command", name)
			}
			return nil, err
		}
	} else {
		res, err := spec.Run(ctx, t, args)
		if err != nil {
			if connection.IsUnreachable(err) {
				return nil, err
			}
			res = Result{"failed": true, "msg": err.Error()}
		}
		data, err := json.Marshal(res)
		if err != nil {
			return nil, fmt.Errorf("async: record the result of %s: %w", name, err)
		}
		if _, err := t.probe(ctx, fmt.Sprintf("printf %%s %s > %s/result", connection.Quote(string(data)), shPath(dir))); err != nil {
			return nil, fmt.Errorf("async: record the result of %s: %w", name, err)
		}
	}
	return Result{"ansible_job_id": jid, "started": 1, "finished": 0, "failed": 0, "changed": true,
		"results_file": dir}, nil
}

// errLaunched stops a module once launchConn has started its command in the background.
var errLaunched = errors.New("async job launched")

// launchConn starts the command a module runs as a background job in dir instead of
// waiting for it.
type launchConn struct {
	connection.Connection
	dir     string
	timeout int
}

// jobScript runs $2 with stdin, stdout and stderr in the files of job directory $1, ends it
// after $3 seconds, and writes its exit status last, to mark the job finished.
const jobScript = `d=$1; /bin/sh -c "$2" < "$d/in" > "$d/out" 2> "$d/err" & p=$!
(sleep "$3"; kill $p 2>/dev/null) > /dev/null 2>&1 & w=$!
wait $p; rc=$?; kill $w 2>/dev/null; echo $rc > "$d/rc.tmp"; mv "$d/rc.tmp" "$d/rc"`

func (c *launchConn) Exec(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	d := connection.Quote(c.dir)
	// Ansible's async_wrapper checks its job every 5 seconds, so it ends one that outlives
	// its time at the next multiple of 5.
	limit := (c.timeout + 4) / 5 * 5
	script := fmt.Sprintf("cat > %s/in && nohup /bin/sh -c %s tally_async %s %s %d > /dev/null 2>&1 < /dev/null &",
		d, connection.Quote(jobScript), d, connection.Quote(cmd.Cmd), limit)
	res, err := c.Connection.Exec(ctx, connection.Command{Cmd: script, Stdin: cmd.Stdin, Env: cmd.Env, Become: cmd.Become})
	if err != nil {
		return res, err
	}
	if res.RC != 0 {
		return res, fmt.Errorf("async: start the job: %s", strings.TrimSpace(string(res.Stderr)))
	}
	return res, errLaunched
}

// replayConn answers a module's one command with a finished job's recorded output.
type replayConn struct {
	connection.Connection
	res connection.Result
}

func (c *replayConn) Exec(context.Context, connection.Command) (connection.Result, error) {
	return c.res, nil
}

// runAsyncStatus is the async_status module: the state of job jid, with the module's result
// once it has finished; mode=cleanup removes the job's directory.
func runAsyncStatus(ctx context.Context, t *Task, args map[string]any) (Result, error) {
	jid := fmt.Sprint(args["jid"])
	if args["jid"] == nil || jid == "" {
		return nil, errors.New("missing required arguments: jid")
	}
	if strings.ContainsAny(jid, "/ \t\n") || jid == "." || jid == ".." {
		return Result{"failed": true, "msg": "could not find job", "ansible_job_id": jid, "started": 1, "finished": 1}, nil
	}
	dirOut, err := t.probe(ctx, fmt.Sprintf("d=%s/%s; [ -d \"$d\" ] && echo \"$d\"; exit 0", asyncDir, jid))
	if err != nil {
		return nil, err
	}
	dir := strings.TrimSpace(dirOut)
	status := Result{"ansible_job_id": jid, "started": 1, "results_file": dir}
	if dir == "" {
		status["failed"], status["finished"], status["msg"] = true, 1, "could not find job"
		status["results_file"] = strings.Replace(asyncDir, "$HOME", "~", 1) + "/" + jid
		return status, nil
	}
	if mode, _ := args["mode"].(string); mode == "cleanup" {
		if _, err := t.probe(ctx, "rm -rf "+shPath(dir)); err != nil {
			return nil, err
		}
		status["erased"] = dir
		return status, nil
	}
	read := func(name string) (string, bool, error) {
		out, err := t.probe(ctx, fmt.Sprintf("f=%s/%s; [ -f \"$f\" ] || exit 0; echo x; cat \"$f\"", shPath(dir), name))
		if err != nil || out == "" {
			return "", false, err
		}
		return strings.TrimPrefix(out, "x\n"), true, nil
	}
	result, done, err := read("result")
	if err != nil {
		return nil, err
	}
	var res Result
	if done {
		// Numbers as Python's json reads them: 1 an int, 1.0 a float.
		dec := json.NewDecoder(strings.NewReader(result))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("async_status: read the result of job %s: %w", jid, err)
		}
		res = Result(pytext.JSONNumbers(m).(map[string]any))
	} else if res, done, err = replayJob(ctx, t, dir, read); err != nil {
		return nil, err
	}
	if !done {
		status["finished"], status["changed"] = 0, false
		return status, nil
	}
	for k, v := range status {
		res[k] = v
	}
	res["finished"] = 1
	return res, nil
}

// replayJob rebuilds a finished command job's result (false while it is running).
func replayJob(ctx context.Context, t *Task, dir string, read func(string) (string, bool, error)) (Result, bool, error) {
	rcText, done, err := read("rc")
	if err != nil || !done {
		return nil, false, err
	}
	var out [3]string
	for i, name := range []string{"meta", "out", "err"} {
		if out[i], _, err = read(name); err != nil {
			return nil, false, err
		}
	}
	var meta asyncMeta
	if err := json.Unmarshal([]byte(out[0]), &meta); err != nil {
		return nil, false, fmt.Errorf("async_status: read the job in %s: %w", dir, err)
	}
	spec, ok := Lookup(meta.Module)
	if !ok {
		return nil, false, fmt.Errorf("async_status: unknown module %q in %s", meta.Module, dir)
	}
	rc, err := strconv.Atoi(strings.TrimSpace(rcText))
	if err != nil {
		return nil, false, fmt.Errorf("async_status: read the exit status in %s: %w", dir, err)
	}
	rt := *t
	rt.Conn = &replayConn{Connection: t.Conn, res: connection.Result{RC: rc, Stdout: []byte(out[1]), Stderr: []byte(out[2])}}
	res, err := spec.Run(ctx, &rt, meta.Args)
	if err != nil {
		return Result{"failed": true, "msg": err.Error()}, true, nil
	}
	return res, true, nil
}
