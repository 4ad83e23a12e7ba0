// Package bridge runs a playbook with the real ansible-playbook and turns what Ansible's
// callbacks see into tally's events (`tally run --engine ansible`).
//
// It writes a small stdout callback plugin of its own (tally_bridge.py, embedded) to a private
// directory and makes it Ansible's stdout callback. The plugin writes one record per v2
// callback call to a pipe that ansible-playbook inherits as a file descriptor: a 4-byte
// big-endian length, then the event as JSON in tally's schema (docs/events.md). The bridge
// reads the pipe and hands each event to the same collector tally's own engine emits to, so
// plugins, artifacts and the final stats call work as they do for tally's engine.
package bridge

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/executor"
	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk/event"
)

//go:embed tally_bridge.py
var callbackSource []byte

// CallbackName is the name of the bridge's callback plugin, as Ansible loads it.
const CallbackName = "tally_bridge"

// FDVariable names the environment variable that tells the callback its pipe's descriptor.
const FDVariable = "TALLY_BRIDGE_FD"

// maxRecord bounds one record, so a corrupt length cannot make tally allocate without end.
const maxRecord = 1 << 30

// drainGrace is how long the bridge keeps reading after ansible-playbook has exited: a process
// it started in the background may still hold the pipe open, and must not hold up the run.
const drainGrace = 5 * time.Second

// ErrTerminalInterrupt is the cancel cause of a run's context for a Ctrl-C that the terminal
// sent to the whole foreground process group, ansible-playbook included: Run then waits for it
// without sending a SIGINT of its own.
var ErrTerminalInterrupt = errors.New("interrupted at the terminal")

// Config is one run of ansible-playbook.
type Config struct {
	// AnsiblePlaybook is the program to run; "" finds ansible-playbook on PATH.
	AnsiblePlaybook string
	// Args are ansible-playbook's arguments: its flags and the playbooks.
	Args []string
	// Env is ansible-playbook's environment (nil: tally's own), to which the bridge adds the
	// settings that load its callback.
	Env []string
	// Stdin, Stdout and Stderr are ansible-playbook's own; what it prints besides the
	// callback's output (warnings, deprecations, prompts) passes through them.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Emitter receives the events (the collector).
	Emitter executor.Emitter
}

// Outcome is how the run ended, and Ansible's own recap.
type Outcome struct {
	executor.Outcome
	// AnsibleStats are the counters of Ansible's own v2_playbook_on_stats call, to check the
	// collector's count of the events against; nil when Ansible made none (an interrupt, a
	// crash, an error before the first play).
	AnsibleStats *event.Stats
}

// Run runs ansible-playbook with the bridge as its stdout callback until it exits, emitting
// every event its callback sees. Cancelling ctx sends ansible-playbook SIGINT and waits for it:
// the outcome is then interrupted (99). An ansible-playbook that crashes, is killed or closes
// the pipe before its final stats ends the run with status error and its exit code (or 1).
func Run(ctx context.Context, cfg Config) Outcome {
	fail := func(err error) Outcome {
		return Outcome{Outcome: executor.Outcome{RC: executor.RCError, Status: executor.StatusError, Err: err}}
	}
	program := cfg.AnsiblePlaybook
	if program == "" {
		program = "ansible-playbook"
	}
	path, err := exec.LookPath(program)
	if err != nil {
		return fail(fmt.Errorf("--engine ansible: %w", err))
	}
	dir, err := os.MkdirTemp("", "tally-bridge-") // 0700: no one else may replace the plugin
	if err != nil {
		return fail(fmt.Errorf("--engine ansible: %w", err))
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, CallbackName+".py"), callbackSource, 0o600); err != nil {
		return fail(fmt.Errorf("--engine ansible: %w", err))
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail(fmt.Errorf("--engine ansible: %w", err))
	}
	defer r.Close()

	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	cmd := exec.CommandContext(ctx, path, cfg.Args...)
	cmd.Env = callbackEnv(env, dir, 3)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = cfg.Stdin, cfg.Stdout, cfg.Stderr
	cmd.ExtraFiles = []*os.File{w} // descriptor 3 in ansible-playbook
	cmd.Cancel = func() error {
		if errors.Is(context.Cause(ctx), ErrTerminalInterrupt) {
			return nil // it has its SIGINT: a second one breaks Ansible's orderly end
		}
		return cmd.Process.Signal(os.Interrupt)
	}
	err = cmd.Start()
	w.Close() // ansible-playbook has its copy; the pipe ends when it is gone
	if err != nil {
		return fail(fmt.Errorf("--engine ansible: starting %s: %w", path, err))
	}

	read := make(chan readResult, 1)
	go func() { read <- forward(r, cfg.Emitter) }()
	waitErr := cmd.Wait()
	r.SetReadDeadline(time.Now().Add(drainGrace))
	got := <-read
	return outcome(ctx, cmd.ProcessState, waitErr, got)
}

// readResult is what the pipe carried.
type readResult struct {
	stats *event.Stats // Ansible's own, nil if none came
	err   error        // a broken record or pipe
}

// outcome decides the run's status and exit code from how ansible-playbook ended and what its
// callback sent.
func outcome(ctx context.Context, ps *os.ProcessState, waitErr error, got readResult) Outcome {
	out := Outcome{AnsibleStats: got.stats}
	rc := -1
	if ps != nil {
		rc = ps.ExitCode()
	}
	switch {
	case ctx.Err() != nil || rc == executor.RCInterrupted:
		out.RC, out.Status = executor.RCInterrupted, executor.StatusInterrupted
	case got.stats == nil || got.err != nil || rc < 0:
		// Killed, crashed, or its callback stopped before the end: what was seen stands.
		out.RC, out.Status = rc, executor.StatusError
		if rc <= 0 {
			out.RC = executor.RCError
		}
		switch {
		case got.err != nil:
			out.Err = fmt.Errorf("--engine ansible: %w", got.err)
		case rc < 0:
			out.Err = fmt.Errorf("--engine ansible: ansible-playbook: %v", waitErr)
		case rc == 0:
			out.Err = errors.New("--engine ansible: ansible-playbook ended without its final stats")
		}
	default:
		out.RC, out.Status = rc, statusOf(rc)
	}
	return out
}

// statusOf is the status word of ansible-playbook's exit code.
func statusOf(rc int) string {
	switch rc {
	case executor.RCOK:
		return executor.StatusSuccessful
	case executor.RCFailed:
		return executor.StatusFailed
	case executor.RCUnreachable:
		return executor.StatusUnreachable
	case executor.RCInterrupted:
		return executor.StatusInterrupted
	}
	return executor.StatusError
}

// forward reads records from the pipe until it ends and emits them, in order; the record of
// Ansible's own stats call is kept, not emitted: tally's collector makes the stats call.
func forward(r io.Reader, em executor.Emitter) readResult {
	var res readResult
	br := bufio.NewReaderSize(r, 64<<10)
	var head [4]byte
	var body []byte
	for {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			// After Ansible's stats, a process that outlives ansible-playbook holding the
			// pipe (drainGrace) is no loss.
			if !errors.Is(err, io.EOF) && !(res.stats != nil && errors.Is(err, os.ErrDeadlineExceeded)) {
				res.err = fmt.Errorf("reading the bridge's pipe: %w", err)
			}
			return res
		}
		n := binary.BigEndian.Uint32(head[:])
		if n > maxRecord {
			res.err = fmt.Errorf("bridge record of %d bytes: the pipe is corrupt", n)
			return res
		}
		if cap(body) < int(n) {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(br, body); err != nil {
			res.err = fmt.Errorf("reading the bridge's pipe: a record cut short: %w", err)
			return res
		}
		e, err := Decode(body)
		if err != nil {
			res.err = err
			return res
		}
		if e.Event == event.PlaybookOnStats {
			res.stats = e.Data.Stats
			continue
		}
		em.Emit(e)
	}
}

// Decode reads one record of the bridge's callback. Numbers in results and arguments become
// int when they are whole, float64 otherwise, as in the events of tally's own engine.
func Decode(body []byte) (*event.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	e := &event.Event{}
	if err := dec.Decode(e); err != nil {
		return nil, fmt.Errorf("bridge record %.80q: %w", body, err)
	}
	if e.Event == "" {
		return nil, fmt.Errorf("bridge record %.80q: no event type", body)
	}
	d := &e.Data
	d.Result = pytext.JSONNumbers(d.Result).(map[string]any)
	if d.Task != nil {
		d.Task.Args = pytext.JSONNumbers(d.Task.Args).(map[string]any)
	}
	if st := d.Stats; st != nil {
		st.GlobalCustomStats = pytext.JSONNumbers(st.GlobalCustomStats).(map[string]any)
		for h, m := range st.CustomStats {
			st.CustomStats[h] = pytext.JSONNumbers(m).(map[string]any)
		}
	}
	return e, nil
}

// callbackEnv returns env with the bridge as Ansible's stdout callback: its directory first on
// the callback search path (keeping the operator's), and the pipe's descriptor. The operator's
// ANSIBLE_CALLBACKS_ENABLED is kept, so their own callbacks run as before.
func callbackEnv(env []string, dir string, fd int) []string {
	out := make([]string, 0, len(env)+3)
	var paths string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "ANSIBLE_CALLBACK_PLUGINS":
			paths = v
			continue
		case "ANSIBLE_STDOUT_CALLBACK", FDVariable:
			continue
		}
		out = append(out, kv)
	}
	if paths == "" {
		paths = strings.Join(configuredCallbackPaths(env), string(filepath.ListSeparator))
	}
	if paths != "" {
		dir += string(filepath.ListSeparator) + paths
	}
	return append(out, "ANSIBLE_CALLBACK_PLUGINS="+dir, "ANSIBLE_STDOUT_CALLBACK="+CallbackName,
		fmt.Sprintf("%s=%d", FDVariable, fd))
}

// CompareStats describes how the collector's stats (counted from the events) differ from
// Ansible's own (its v2_playbook_on_stats), host by host, with both; "" when they agree or
// Ansible sent none.
func CompareStats(ansible, tally *event.Stats) string {
	if ansible == nil || tally == nil {
		return ""
	}
	var b strings.Builder
	hosts := slices.Sorted(maps.Keys(ansible.Hosts))
	for h := range tally.Hosts {
		if _, ok := ansible.Hosts[h]; !ok {
			hosts = append(hosts, h)
		}
	}
	for _, h := range hosts {
		a, inA := ansible.Hosts[h]
		t, inT := tally.Hosts[h]
		if a != t || inA != inT {
			fmt.Fprintf(&b, "  %s: ansible %s; tally %s\n", h, counters(a, inA), counters(t, inT))
		}
	}
	for _, c := range []struct {
		name string
		a, t any
	}{{"custom stats", ansible.CustomStats, tally.CustomStats}, {"global custom stats", ansible.GlobalCustomStats, tally.GlobalCustomStats}} {
		aj, _ := json.Marshal(c.a)
		tj, _ := json.Marshal(c.t)
		if !bytes.Equal(aj, tj) && !(len(aj) <= 4 && len(tj) <= 4) { // null and {} are both none
			fmt.Fprintf(&b, "  %s: ansible %s; tally %s\n", c.name, aj, tj)
		}
	}
	return b.String()
}

func counters(s event.HostStats, present bool) string {
	if !present {
		return "(no host)"
	}
	return fmt.Sprintf("ok=%d changed=%d unreachable=%d failed=%d skipped=%d rescued=%d ignored=%d",
		s.OK, s.Changed, s.Unreachable, s.Failures, s.Skipped, s.Rescued, s.Ignored)
}
