package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/tallyrun/tally/host/artifacts"
	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/display"
	"github.com/tallyrun/tally/host/executor"
	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/pluginhost"
)

// runFlags are the flags of tally run, with ansible-playbook's names and meanings.
type runFlags struct {
	inventories []string
	forks       int
	limit       string
	extraVars   []string
	user        string
	connection  string
	become      bool
	becomeUser  string
	tags        []string
	skipTags    []string
	forceHandle bool
	listHosts   bool
	listTasks   bool
	syntaxCheck bool
	verbose     int
	jobID       string
	artifacts   string
	privateKey  string
	askPass     bool
	askBecome   bool
	timeout     int
	commonArgs  string
	extraArgs   string
	callbacks   pluginhost.Flags
}

func runCommand(args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := pflag.NewFlagSet("tally run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tally run [flags] PLAYBOOK...\n\nRuns Ansible playbooks. Flags:\n%s", fs.FlagUsages())
	}
	fs.SortFlags = false
	fs.StringArrayVarP(&f.inventories, "inventory", "i", nil, "inventory file, directory, or comma-separated host list (repeatable)")
	fs.IntVarP(&f.forks, "forks", "f", 5, "number of hosts worked on in parallel")
	fs.StringVarP(&f.limit, "limit", "l", "", "further limit hosts to a pattern (or @file)")
	fs.StringArrayVarP(&f.extraVars, "extra-vars", "e", nil, "extra variables: key=value, JSON/YAML, or @file (repeatable)")
	fs.StringVarP(&f.user, "user", "u", "", "connect as this user")
	fs.StringVarP(&f.connection, "connection", "c", "ssh", "connection type when the inventory sets none")
	fs.StringVar(&f.privateKey, "private-key", "", "use this `FILE` to authenticate the connection")
	fs.BoolVarP(&f.askPass, "ask-pass", "k", false, "ask for the connection password (on the terminal)")
	fs.IntVarP(&f.timeout, "timeout", "T", 0, "connection timeout in seconds, TCP and SSH handshake (default: the configuration's timeout, else 10)")
	fs.StringVar(&f.commonArgs, "ssh-common-args", "", "ssh options for every host, as ansible_ssh_common_args (-o, -J, -p, -l, -i)")
	fs.StringVar(&f.extraArgs, "ssh-extra-args", "", "more ssh options, as ansible_ssh_extra_args")
	fs.BoolVarP(&f.become, "become", "b", false, "run operations with become")
	fs.StringVar(&f.becomeUser, "become-user", "", "run operations as this user (default root)")
	fs.BoolVarP(&f.askBecome, "ask-become-pass", "K", false, "ask for the become password (on the terminal)")
	fs.StringSliceVarP(&f.tags, "tags", "t", nil, "only run tasks tagged with these (repeatable, comma-separated)")
	fs.StringSliceVar(&f.skipTags, "skip-tags", nil, "skip tasks tagged with these (repeatable, comma-separated)")
	fs.BoolVar(&f.forceHandle, "force-handlers", false, "run notified handlers even on hosts that failed")
	fs.BoolVar(&f.listHosts, "list-hosts", false, "list the hosts each play would run on, then exit")
	fs.BoolVar(&f.listTasks, "list-tasks", false, "list the tasks each play would run, then exit")
	fs.BoolVar(&f.syntaxCheck, "syntax-check", false, "check the playbooks' syntax, then exit")
	fs.StringVar(&f.jobID, "job-id", "", "the run's job ID (default: $TALLY_JOB_ID, else a new UUIDv7)")
	fs.StringVar(&f.artifacts, "artifacts", "", "write the run's events, stats, status and rc under `DIR`/<job_id>/")
	fs.CountVarP(&f.verbose, "verbose", "v", "more output (repeatable: -vvv)")
	addCallbackFlags(fs, &f.callbacks)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return executor.RCUnreachable + 1 // 5: bad options, as ansible-playbook
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "ERROR! You must specify a playbook file to run")
		return 5
	}
	return run(f, fs.Args(), stdout, stderr)
}

func errorf(stderr io.Writer, err error) {
	fmt.Fprintf(stderr, "ERROR! %v\n", err)
}

func run(f runFlags, playbookPaths []string, stdout, stderr io.Writer) int {
	warn := func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }

	var pbs []*playbook.Playbook
	for _, p := range playbookPaths {
		pb, err := playbook.Load(p)
		if err != nil {
			errorf(stderr, err)
			return executor.RCUnreachable
		}
		pbs = append(pbs, pb)
	}
	if f.syntaxCheck {
		for _, pb := range pbs {
			fmt.Fprintf(stdout, "\nplaybook: %s\n", pb.Path)
		}
		return executor.RCOK
	}

	inv, err := inventory.LoadWith(f.inventories, inventory.Options{Warn: warn})
	if err != nil {
		errorf(stderr, err)
		return executor.RCUnreachable
	}
	if len(inv.Hosts()) == 0 {
		warn("provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'")
	}
	for _, pb := range pbs {
		if err := inv.AddVarsDir(filepath.Dir(pb.Path)); err != nil {
			errorf(stderr, err)
			return executor.RCUnreachable
		}
	}
	if f.limit != "" {
		if err := inv.Limit(f.limit); err != nil {
			errorf(stderr, err)
			return executor.RCError
		}
	}
	extra, err := parseExtraVars(f.extraVars)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	if f.listHosts || f.listTasks {
		return list(stdout, stderr, inv, pbs, f, extra)
	}

	cfg, err := config.Read(os.Getenv, warn)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	sshOpts, becomePass, err := sshOptions(f, cfg)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	jobID, err := newJobID(f.jobID)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	plugins, err := startCallbacks(context.Background(), cfg, f.callbacks, playbookPaths, jobID,
		display.Options{Verbosity: f.verbose, DisplaySkippedHosts: true, DisplayOKHosts: true, Color: colorWanted(stdout)},
		stdout, stderr, warn)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	defer plugins.Close()
	callbacks := plugins.Callbacks()
	if f.artifacts != "" {
		aw, err := artifacts.New(f.artifacts, jobID)
		if err != nil {
			errorf(stderr, err)
			return executor.RCError
		}
		callbacks = append(callbacks, aw)
	}
	col := collector.New(jobID, callbacks, collector.WithWarnings(warn))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		<-sigs
		fmt.Fprintln(stderr, "[ERROR]: User interrupted execution")
		cancel()
		<-sigs // a second signal gives up on the orderly end
		os.Exit(executor.RCInterrupted)
	}()

	x := executor.New(executor.Config{
		Inventory:     inv,
		Forks:         f.forks,
		ExtraVars:     extra,
		Tags:          f.tags,
		SkipTags:      f.skipTags,
		RemoteUser:    f.user,
		Connection:    f.connection,
		Become:        f.become,
		BecomeUser:    f.becomeUser,
		BecomePass:    becomePass,
		Verbosity:     f.verbose,
		ForceHandlers: f.forceHandle,
		Emitter:       col,
		Connect:       executor.SSHConnector(sshOpts),
		Warn:          warn,
	})
	out := x.Run(ctx, pbs)
	col.Finish(out.Status, out.RC)
	if out.Err != nil {
		errorf(stderr, out.Err)
	}
	if err := plugins.Err(); err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	return out.RC
}

// sshOptions gathers the run-wide SSH settings from the flags, the environment and the
// configuration file, in that order, asking for passwords when -k or -K say so.
func sshOptions(f runFlags, cfg *config.Config) (opts connection.SSHOptions, becomePass string, err error) {
	opts = connection.SSHOptions{
		User:           f.user,
		PrivateKeyFile: f.privateKey,
		Timeout:        cfg.Timeout,
		CommonArgs:     f.commonArgs,
		ExtraArgs:      f.extraArgs,
	}
	if f.timeout < 0 {
		return opts, "", fmt.Errorf("--timeout %d: must be positive", f.timeout)
	}
	if f.timeout > 0 {
		opts.Timeout = time.Duration(f.timeout) * time.Second
	}
	if cfg.HostKeyChecking != nil {
		opts.NoHostKeyChecking = !*cfg.HostKeyChecking
	}
	for _, name := range []string{"TALLY_HOST_KEY_CHECKING", "ANSIBLE_HOST_KEY_CHECKING"} {
		if v := os.Getenv(name); v != "" {
			check, ok := config.ParseBool(v)
			if !ok {
				return opts, "", fmt.Errorf("%s=%q: want true or false", name, v)
			}
			opts.NoHostKeyChecking = !check
			break
		}
	}
	if f.askPass {
		if opts.Password, err = connection.PromptPassword("SSH password: "); err != nil {
			return opts, "", err
		}
	}
	if f.askBecome {
		prompt := "BECOME password: "
		if f.askPass {
			prompt = "BECOME password[defaults to SSH password]: "
		}
		if becomePass, err = connection.PromptPassword(prompt); err != nil {
			return opts, "", err
		}
		if becomePass == "" {
			becomePass = opts.Password
		}
	}
	return opts, becomePass, nil
}

// parseExtraVars reads -e values as ansible-playbook does: @file, a JSON or YAML mapping, or
// key=value pairs (values stay strings).
func parseExtraVars(values []string) (map[string]any, error) {
	out := map[string]any{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		var m map[string]any
		switch {
		case strings.HasPrefix(v, "@"):
			data, err := os.ReadFile(v[1:])
			if err != nil {
				return nil, fmt.Errorf("extra vars: %w", err)
			}
			if err := yaml.Unmarshal(data, &m); err != nil {
				return nil, fmt.Errorf("extra vars %s: %w", v[1:], err)
			}
		case strings.HasPrefix(v, "{") || strings.HasPrefix(v, "["):
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				if yerr := yaml.Unmarshal([]byte(v), &m); yerr != nil {
					return nil, fmt.Errorf("extra vars %q: %w", v, yerr)
				}
			}
		default:
			kv, err := playbook.ParseKV(v)
			if err != nil {
				return nil, fmt.Errorf("extra vars %q: %w", v, err)
			}
			m = map[string]any{}
			for k, val := range kv {
				if k == "_raw_params" {
					return nil, fmt.Errorf("extra vars %q: expected key=value", v)
				}
				m[k] = val
			}
		}
		for k, val := range m {
			out[k] = val
		}
	}
	return out, nil
}

// colorWanted reports whether w is a terminal that wants colour (NO_COLOR unset).
func colorWanted(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("ANSIBLE_NOCOLOR") != "" {
		return false
	}
	file, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
