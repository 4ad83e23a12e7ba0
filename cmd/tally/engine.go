package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tallyrun/tally/host/bridge"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/executor"
)

// addEngineFlags declares the flags that choose the engine.
func addEngineFlags(fs *pflag.FlagSet, f *runFlags) {
	fs.StringVar(&f.engine, "engine", "", "what runs the playbooks: tally, or ansible (the real ansible-playbook, with tally's record and plugins) (default: $TALLY_ENGINE, the configuration's engine, else tally)")
	fs.StringVar(&f.ansiblePlaybook, "ansible-playbook", "", "the ansible-playbook `PATH` of --engine ansible (default: the configuration's ansible_playbook, else ansible-playbook on PATH)")
}

// tallyOnlyFlags are tally's flags that ansible-playbook does not have: --engine ansible keeps
// them from it.
var tallyOnlyFlags = []string{"engine", "ansible-playbook", "job-id", "artifacts", "callback-path", "stdout-callback", "callbacks", "callback-opt"}

// ansibleValueFlags are ansible-playbook's flags that tally's engine does not have and that take
// a value, so that the value is passed with them.
var ansibleValueFlags = []string{
	"--become-method", "--become-password-file", "--become-pass-file", "--connection-password-file",
	"--conn-pass-file", "--inventory-file", "--key-file", "-M", "--module-path", "--scp-extra-args",
	"--sftp-extra-args", "--start-at-task", "--vault-id", "--vault-password-file", "--vault-pass-file",
}

// engineOf returns the engine of a run: --engine (looked for in args before any "--"), else
// $TALLY_ENGINE, else the configuration's engine, else tally.
func engineOf(args []string) (string, error) {
	engine := ""
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--engine="); ok {
			engine = v
		} else if a == "--engine" && i+1 < len(args) {
			engine = args[i+1]
		}
	}
	from := "--engine"
	if engine == "" {
		engine, from = os.Getenv("TALLY_ENGINE"), "TALLY_ENGINE"
	}
	if engine == "" {
		// A configuration that cannot be read is reported by the run that reads it (exit 1).
		if cfg, err := config.Read(os.Getenv, func(string) {}); err == nil {
			engine, from = cfg.Engine, cfg.Path
		}
	}
	if engine == "" {
		return "tally", nil
	}
	if !slices.Contains(config.Engines, engine) {
		return "", fmt.Errorf("%s: unknown engine %q (want tally or ansible)", from, engine)
	}
	return engine, nil
}

// splitEngineArgs splits tally run's arguments for --engine ansible: tallyArgs are those tally
// parses (its own flags and the playbooks), ansibleArgs those ansible-playbook gets (all but
// tally's own flags, flags tally does not know included, and everything after "--").
func splitEngineArgs(fs *pflag.FlagSet, args []string) (tallyArgs, ansibleArgs []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return tallyArgs, append(ansibleArgs, args[i+1:]...)
		}
		var fl *pflag.Flag
		name, _, inline := strings.Cut(a, "=")
		switch {
		case strings.HasPrefix(a, "--"):
			fl = fs.Lookup(name[2:])
		case strings.HasPrefix(a, "-") && len(a) > 1:
			fl = fs.ShorthandLookup(a[1:2])
			name, inline = a[:2], len(a) > 2
		default:
			tallyArgs, ansibleArgs = append(tallyArgs, a), append(ansibleArgs, a)
			continue
		}
		n := 1
		if !inline && i+1 < len(args) && (fl != nil && fl.NoOptDefVal == "" || fl == nil && slices.Contains(ansibleValueFlags, name)) {
			n = 2 // the flag and its value
		}
		words := args[i : i+n]
		i += n - 1
		if fl != nil {
			tallyArgs = append(tallyArgs, words...)
			if slices.Contains(tallyOnlyFlags, fl.Name) {
				continue
			}
		}
		ansibleArgs = append(ansibleArgs, words...)
	}
	return tallyArgs, ansibleArgs
}

// runAnsible runs the playbooks with the real ansible-playbook (--engine ansible): its events
// go through tally's collector to tally's plugins and artifacts, as under tally's engine.
func runAnsible(f runFlags, ansibleArgs, playbookPaths []string, stdout, stderr io.Writer) int {
	warn := func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
	cfg, err := config.Read(os.Getenv, warn)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	program := f.ansiblePlaybook
	if program == "" {
		program = cfg.AnsiblePlaybook
	}
	if f.listHosts || f.listTasks || f.syntaxCheck {
		// These print and exit without running a play: nothing to record.
		return runPlain(program, ansibleArgs, stdout, stderr)
	}
	jobID, err := newJobID(f.jobID)
	if err != nil {
		errorf(stderr, err)
		return RCBadOptions
	}
	rec, err := startRecord(f, cfg, jobID, playbookPaths, stdout, stderr, warn)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	defer rec.plugins.Close()
	ctx, cancel := interruptible(stderr)
	defer cancel()
	out := bridge.Run(ctx, bridge.Config{
		AnsiblePlaybook: program,
		Args:            ansibleArgs,
		Stdin:           os.Stdin,
		Stdout:          stdout,
		Stderr:          stderr,
		Emitter:         rec.col,
	})
	st := rec.col.Finish(out.Status, out.RC)
	if out.Err != nil {
		errorf(stderr, out.Err)
	}
	if diff := bridge.CompareStats(out.AnsibleStats, st); diff != "" {
		warn("tally's count of the events differs from Ansible's own recap:\n" + diff)
	}
	if err := rec.plugins.Err(); err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	return out.RC
}

// runPlain runs ansible-playbook without the bridge and returns its exit code.
func runPlain(program string, args []string, stdout, stderr io.Writer) int {
	if program == "" {
		program = "ansible-playbook"
	}
	cmd := exec.Command(program, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return executor.RCOK
	case errors.As(err, &exitErr) && exitErr.ExitCode() > 0:
		return exitErr.ExitCode()
	}
	errorf(stderr, fmt.Errorf("--engine ansible: %w", err))
	return executor.RCError
}

// engineHint is what an error of tally's engine adds when the error is something tally's engine
// does not have (a role, a module it does not know), which the real ansible-playbook runs.
func engineHint(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "not support") || strings.Contains(msg, "couldn't resolve module") {
		return "tally's engine runs a subset of Ansible; `tally run --engine ansible` runs the playbook with ansible-playbook, keeping tally's record and plugins\n"
	}
	return ""
}
