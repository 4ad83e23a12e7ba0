package module

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
)

var waitForSpec = &argSpec{module: "wait_for", options: map[string]option{
	"host":            {kind: kindStr, def: "127.0.0.1"},
	"timeout":         {kind: kindInt, def: 300},
	"connect_timeout": {kind: kindInt, def: 5},
	"delay":           {kind: kindInt, def: 0},
	"port":            {kind: kindInt},
	"path":            {kind: kindPath},
	"state":           {kind: kindStr, def: "started", choices: []string{"absent", "present", "started", "stopped"}},
	"sleep":           {kind: kindInt, def: 1},
	"msg":             {kind: kindStr},
}}

// Markers the wait_for script ends with.
const (
	markOK      = "tally:ok"
	markTimeout = "tally:timeout"
	markNoProbe = "tally:noprobe"
)

// runWaitFor waits on the host, in one Exec that loops there, for a path or a TCP port (as
// seen from the host) to reach a state. The port check needs bash (/dev/tcp) or nc.
var runWaitFor = withSpec(waitForSpec, waitFor)

func waitFor(ctx context.Context, t *Task, p params) (Result, error) {
	if t.Check {
		return noCheckMode("wait_for"), nil
	}
	pth, port, state := p.str("path"), p.int("port"), p.str("state")
	switch {
	case port != 0 && pth != "":
		return fail("port and path parameter can not both be passed to wait_for", "elapsed", 0), nil
	case pth != "" && state == "stopped":
		return fail("state=stopped should only be used for checking a port in the wait_for module", "elapsed", 0), nil
	}
	if err := checkPath("path", pth); err != nil {
		return nil, err
	}
	var script strings.Builder
	script.WriteString(shHelpers)
	absent := state == "absent" || state == "stopped"
	switch {
	case pth != "":
		// On success, Ansible's result tells about the path (add_path_info): its record follows.
		fmt.Fprintf(&script, "p=%s\ntally_check() { [ -e \"$p\" ]; }\ntally_done() { echo %s; tally_stat \"$p\"; }\n", shPath(pth), markOK)
	case port != 0:
		fmt.Fprintf(&script, "tally_done() { echo %s; }\n", markOK)
		probe := fmt.Sprintf(`bash -c 'exec 3<>"/dev/tcp/$0/$1"' %s %d`, connection.Quote(p.str("host")), port)
		fmt.Fprintf(&script, `if command -v bash >/dev/null 2>&1; then
	if command -v timeout >/dev/null 2>&1; then tally_check() { timeout %[1]d %[2]s; } else tally_check() { %[2]s; }; fi
elif command -v nc >/dev/null 2>&1; then tally_check() { nc -z -w %[1]d %[3]s %[4]d; }
else echo %[5]s; exit 0; fi
`, p.int("connect_timeout"), probe, connection.Quote(p.str("host")), port, markNoProbe)
	}
	want := "tally_check >/dev/null 2>&1"
	if absent {
		want = "! " + want
	}
	if pth == "" && port == 0 {
		// Nothing to wait for but the timeout, as Ansible.
		fmt.Fprintf(&script, "sleep %d; sleep %d; echo %s", p.int("delay"), p.int("timeout"), markOK)
	} else {
		fmt.Fprintf(&script, `s=$(date +%%s)
sleep %d
while [ $(($(date +%%s) - s)) -lt %d ]; do
	if %s; then tally_done; exit 0; fi
	sleep %d
done
echo %s`, p.int("delay"), p.int("timeout"), want, p.int("sleep"), markTimeout)
	}
	start := time.Now()
	res, err := t.sh(ctx, script.String(), nil)
	if err != nil {
		return nil, err
	}
	elapsed := int(time.Since(start).Seconds())
	var portV, pathV any
	if port != 0 {
		portV = port
	}
	if pth != "" {
		pathV = pth
	}
	l := newLines(string(res.Stdout))
	mark, err := l.take(1)
	if err != nil {
		return nil, err
	}
	switch mark[0] {
	case markOK:
		r := Result{"changed": false, "elapsed": elapsed, "state": state, "port": portV, "path": pathV,
			"search_regex": nil, "match_groups": []any{}, "match_groupdict": map[string]any{}}
		if pth == "" {
			return r, nil
		}
		fi, err := l.stat()
		if err != nil {
			return nil, err
		}
		return addPathInfo(r, fi), nil
	case markTimeout:
		msg := p.str("msg")
		if msg == "" {
			msg = timeoutMsg(p, state)
		}
		return fail(msg, "elapsed", elapsed, "changed", false), nil
	case markNoProbe:
		return nil, fmt.Errorf("wait_for port %d: the host has neither bash nor nc to test a TCP port", port)
	}
	return nil, fmt.Errorf("wait_for: unexpected output from the host (rc %d): %s", res.RC, strings.TrimSpace(string(res.Stderr)))
}

// timeoutMsg is Ansible's message for a wait that timed out.
func timeoutMsg(p params, state string) string {
	host, port, pth := p.str("host"), p.int("port"), p.str("path")
	switch {
	case port != 0 && (state == "absent" || state == "stopped"):
		return fmt.Sprintf("Timeout when waiting for %s:%d to stop.", host, port)
	case port != 0:
		return fmt.Sprintf("Timeout when waiting for %s:%d", host, port)
	case state == "absent":
		return fmt.Sprintf("Timeout when waiting for %s to be absent.", pth)
	}
	return fmt.Sprintf("Timeout when waiting for file %s", pth)
}
