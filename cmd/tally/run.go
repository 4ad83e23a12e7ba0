package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
	"gopkg.in/yaml.v3"

	"github.com/tallyrun/tally/host/artifacts"
	"github.com/tallyrun/tally/host/bridge"
	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/display"
	"github.com/tallyrun/tally/host/executor"
	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/pluginhost"
	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// runFlags are the flags of tally run, with ansible-playbook's names and meanings.
type runFlags struct {
	inventories  []string
	forks        int
	limit        string
	extraVars    []string
	user         string
	connection   string
	become       bool
	becomeUser   string
	becomeMethod string
	tags         []string
	skipTags     []string
	forceHandle  bool
	listHosts    bool
	listTasks    bool
	listTags     bool
	startAt      string
	syntaxCheck  bool
	check        bool
	diff         bool
	verbose      int
	jobID        string
	artifacts    string
	privateKey   string
	askPass      bool
	askBecome    bool
	timeout      int
	commonArgs   string
	extraArgs    string
	callbacks    pluginhost.Flags
	vault        vault.Sources
	// engine and ansiblePlaybook choose what runs the playbooks (engine.go).
	engine, ansiblePlaybook string
}

func runCommand(args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := pflag.NewFlagSet("tally run", pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tally run [flags] PLAYBOOK...\n\nRuns Ansible playbooks. Flags:\n%s\nNot supported yet: %s.\n", fs.FlagUsages(), notYetList())
	}
	fs.SortFlags = false
	fs.StringArrayVarP(&f.inventories, "inventory", "i", nil, "inventory file, directory, or comma-separated host list (repeatable; default: $ANSIBLE_INVENTORY, else ansible.cfg's inventory)")
	fs.IntVarP(&f.forks, "forks", "f", 0, "number of hosts worked on in parallel (default: $ANSIBLE_FORKS, else ansible.cfg's forks, else 5)")
	fs.StringVarP(&f.limit, "limit", "l", "", "further limit hosts to a pattern (or @file)")
	fs.StringArrayVarP(&f.extraVars, "extra-vars", "e", nil, "extra variables: key=value, JSON/YAML, or @file (repeatable)")
	fs.StringVarP(&f.user, "user", "u", "", "connect as this user (default: $ANSIBLE_REMOTE_USER, else ansible.cfg's remote_user)")
	fs.StringVarP(&f.connection, "connection", "c", "ssh", "connection type when the inventory sets none")
	fs.StringVar(&f.privateKey, "private-key", "", "use this `FILE` to authenticate the connection (default: $ANSIBLE_PRIVATE_KEY_FILE, else ansible.cfg's private_key_file)")
	fs.BoolVarP(&f.askPass, "ask-pass", "k", false, "ask for the connection password (on the terminal)")
	fs.IntVarP(&f.timeout, "timeout", "T", 0, "connection timeout in seconds, TCP and SSH handshake (default: the configuration's timeout, else 10)")
	fs.StringVar(&f.commonArgs, "ssh-common-args", "", "ssh options for every host, as ansible_ssh_common_args (-o, -J, -p, -l, -i)")
	fs.StringVar(&f.extraArgs, "ssh-extra-args", "", "more ssh options, as ansible_ssh_extra_args")
	fs.BoolVarP(&f.become, "become", "b", false, "run operations with become (default: $ANSIBLE_BECOME, else ansible.cfg's become)")
	fs.StringVar(&f.becomeUser, "become-user", "", "run operations as this user (default: $ANSIBLE_BECOME_USER, ansible.cfg's become_user, else root)")
	fs.StringVar(&f.becomeMethod, "become-method", "", "privilege escalation method: sudo or su (default: $ANSIBLE_BECOME_METHOD, ansible.cfg's become_method, else sudo)")
	fs.BoolVarP(&f.askBecome, "ask-become-pass", "K", false, "ask for the become password (on the terminal)")
	fs.StringSliceVarP(&f.tags, "tags", "t", nil, "only run tasks tagged with these (repeatable, comma-separated)")
	fs.StringSliceVar(&f.skipTags, "skip-tags", nil, "skip tasks tagged with these (repeatable, comma-separated)")
	fs.BoolVarP(&f.check, "check", "C", false, "don't make any changes; report what would change instead")
	fs.BoolVarP(&f.diff, "diff", "D", false, "show the differences in the files and templates tasks change (with --check: would change)")
	fs.BoolVar(&f.forceHandle, "force-handlers", false, "run notified handlers even on hosts that failed")
	fs.BoolVar(&f.listHosts, "list-hosts", false, "list the hosts each play would run on, then exit")
	fs.BoolVar(&f.listTasks, "list-tasks", false, "list the tasks each play would run, then exit")
	fs.BoolVar(&f.listTags, "list-tags", false, "list the tags each play's tasks have, then exit")
	fs.StringVar(&f.startAt, "start-at-task", "", "start the playbook at the first task whose name matches `NAME` (a glob)")
	fs.BoolVar(&f.syntaxCheck, "syntax-check", false, "check the playbooks' syntax, then exit")
	fs.StringVar(&f.jobID, "job-id", "", "the run's job ID (default: $TALLY_JOB_ID, else a new UUIDv7)")
	fs.StringVar(&f.artifacts, "artifacts", "", "write the run's events, stats, status and rc under `DIR`/<job_id>/")
	fs.CountVarP(&f.verbose, "verbose", "v", "more output (repeatable: -vvv)")
	fs.StringArrayVar(&f.vault.IDs, "vault-id", nil, "a vault password as `LABEL@SOURCE` or SOURCE: a file, an executable, or prompt (repeatable)")
	fs.StringArrayVar(&f.vault.PasswordFiles, "vault-password-file", nil, "read the vault password from this `FILE`, or run it if executable (repeatable; also --vault-pass-file)")
	fs.BoolVar(&f.vault.AskVaultPass, "ask-vault-password", false, "ask for the vault password on the terminal (also --ask-vault-pass)")
	// ansible-playbook's other spellings of the vault flags
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name {
		case "vault-pass-file":
			name = "vault-password-file"
		case "ask-vault-pass":
			name = "ask-vault-password"
		}
		return pflag.NormalizedName(name)
	})
	addCallbackFlags(fs, &f.callbacks)
	addEngineFlags(fs, &f)
	engine, err := engineOf(args)
	if err != nil {
		errorf(stderr, err)
		return RCBadOptions
	}
	var ansibleArgs []string
	if engine == "ansible" {
		// ansible-playbook gets the flags tally does not implement, untouched.
		args, ansibleArgs = splitEngineArgs(fs, args)
	} else {
		addNotYetFlags(fs)
	}
	if rc, done := parseFlags(fs, args, stderr); done {
		return rc
	}
	switch {
	case fs.NArg() == 0:
		return usageFailed(fs, errors.New("the following arguments are required: PLAYBOOK"), stderr)
	case fs.Changed("forks") && f.forks < 1:
		return usageFailed(fs, errors.New("the number of processes (--forks) must be >= 1"), stderr)
	}
	if f.vault.AskVaultPass && len(f.vault.PasswordFiles) > 0 {
		errorf(stderr, errors.New("--ask-vault-password and --vault-password-file are mutually exclusive"))
		return RCBadOptions
	}
	if engine == "ansible" {
		return runAnsible(f, ansibleArgs, fs.Args(), stdout, stderr)
	}
	return run(f, fs, fs.Args(), stdout, stderr)
}

func errorf(stderr io.Writer, err error) {
	fmt.Fprintf(stderr, "ERROR! %v\n", err)
}

func run(f runFlags, fs *pflag.FlagSet, playbookPaths []string, stdout, stderr io.Writer) int {
	var warnMu sync.Mutex // plugins warn from their own goroutines
	warn := func(msg string) {
		warnMu.Lock()
		defer warnMu.Unlock()
		fmt.Fprintf(stderr, "[WARNING]: %s\n", msg)
	}
	for _, p := range playbookPaths {
		if st, err := os.Stat(p); err != nil {
			errorf(stderr, fmt.Errorf("the playbook: %s could not be found", p))
			return executor.RCError
		} else if !st.Mode().IsRegular() {
			errorf(stderr, fmt.Errorf("the playbook: %s does not appear to be a file", p))
			return executor.RCError
		}
	}
	cfg, err := config.Read(os.Getenv, warn)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	f.fillFrom(fs, cfg)
	if f.syntaxCheck || f.listHosts || f.listTasks || f.listTags {
		in, rc, err := load(f, cfg, playbookPaths, warn)
		if err != nil {
			errorf(stderr, err)
			fmt.Fprint(stderr, engineHint(err))
			return rc
		}
		if f.syntaxCheck {
			for _, pb := range in.playbooks {
				fmt.Fprintf(stdout, "\nplaybook: %s\n", pb.Path)
			}
			return executor.RCOK
		}
		return list(stdout, stderr, in, f)
	}

	jobID, err := newJobID(f.jobID)
	if err != nil {
		errorf(stderr, err)
		return RCBadOptions
	}
	sshOpts, becomePass, err := sshOptions(f, cfg)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	rec, err := startRecord(f, cfg, jobID, playbookPaths, stdout, stderr, warn)
	if err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	defer rec.plugins.Close()
	col := rec.col

	// From here every run is recorded: an error before the first task still reaches the
	// plugins and the artifacts, as a run that started and ended in error.
	in, rc, err := load(f, cfg, playbookPaths, warn)
	if err != nil {
		col.Emit(&event.Event{Event: event.PlaybookOnStart, Data: event.Data{Playbook: playbookPaths[0]}})
		col.FinishError(rc, err)
		errorf(stderr, err)
		fmt.Fprint(stderr, engineHint(err))
		return rc
	}

	ctx, cancel := interruptible(stderr)
	defer cancel()

	x := executor.New(executor.Config{
		Inventory:      in.inventory,
		Forks:          f.forks,
		ExtraVars:      in.extraVars,
		Tags:           f.tags,
		SkipTags:       f.skipTags,
		RemoteUser:     f.user,
		Connection:     f.connection,
		Become:         f.become,
		BecomeUser:     f.becomeUser,
		BecomeMethod:   f.becomeMethod,
		BecomePass:     becomePass,
		Verbosity:      f.verbose,
		AnsibleManaged: cfg.AnsibleManaged,
		Check:          f.check,
		Diff:           f.diff,
		StartAt:        f.startAt,
		ForceHandlers:  f.forceHandle,
		Emitter:        col,
		Connect:        executor.SSHConnector(sshOpts),
		Vault:          in.vault,
		Prompt:         prompter(stdout),
		Warn:           warn,
		RefreshInventory: func() (*inventory.Inventory, error) {
			inv, _, err := loadInventory(f, in, warn)
			return inv, err
		},
	})
	out := x.Run(ctx, in.playbooks)
	if out.Err != nil {
		col.FinishError(out.RC, out.Err)
		errorf(stderr, out.Err)
		fmt.Fprint(stderr, engineHint(out.Err))
	} else {
		col.Finish(out.Status, out.RC)
	}
	if !x.StartReached() {
		fmt.Fprintf(stderr, " [ERROR]: No matching task \"%s\" found. Note: --start-at-task can only follow static includes.\n", f.startAt)
	}
	if err := rec.plugins.Err(); err != nil {
		errorf(stderr, err)
		return executor.RCError
	}
	return out.RC
}

// record is where a run's events go: the collector and, behind it, the plugins and artifacts.
type record struct {
	col     *collector.Collector
	plugins *pluginhost.Run
}

// startRecord starts the record of job jobID, whichever engine runs it: the plugins,
// the artifacts writer and the collector that feeds them. Close the plugins after the
// collector's Finish.
func startRecord(f runFlags, cfg *config.Config, jobID string, playbookPaths []string, stdout, stderr io.Writer, warn func(string)) (*record, error) {
	plugins, err := startCallbacks(context.Background(), cfg, f.callbacks, playbookPaths, jobID,
		wire.CommandLine{Limit: f.limit, Tags: f.tags, SkipTags: f.skipTags},
		display.Options{Verbosity: f.verbose, DisplaySkippedHosts: true, DisplayOKHosts: true, Color: colorWanted(stdout)},
		stdout, stderr, warn)
	if err != nil {
		return nil, err
	}
	callbacks := plugins.Callbacks()
	if f.artifacts != "" {
		aw, err := artifacts.New(f.artifacts, jobID)
		if err != nil {
			plugins.Close()
			return nil, err
		}
		callbacks = append(callbacks, aw)
	}
	return &record{col: collector.New(jobID, callbacks, collector.WithWarnings(warn)), plugins: plugins}, nil
}

// interruptible returns the run's context: the first SIGINT or SIGTERM cancels it, for an
// orderly end that still makes the final stats call; a second exits at once with 99. A SIGINT
// that the terminal sent to tally's whole process group (Ctrl-C) is the cancel cause
// bridge.ErrTerminalInterrupt: ansible-playbook, in that group too, has had it already.
func interruptible(stderr io.Writer) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		var sig os.Signal
		select {
		case sig = <-sigs:
		case <-ctx.Done():
			signal.Stop(sigs)
			return
		}
		fmt.Fprintln(stderr, "[ERROR]: User interrupted execution")
		var cause error
		if sig == os.Interrupt && terminalForeground() {
			cause = bridge.ErrTerminalInterrupt
		}
		cancel(cause)
		<-sigs // a second signal gives up on the orderly end
		os.Exit(executor.RCInterrupted)
	}()
	return ctx, func() { signal.Stop(sigs); cancel(nil) }
}

// terminalForeground reports whether tally's process group is the foreground group of the
// terminal on its standard input, output or error: where a Ctrl-C goes to the whole group.
func terminalForeground() bool {
	for fd := range 3 {
		if pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil {
			return pgrp == unix.Getpgrp()
		}
	}
	return false
}

// loaded is what a run reads before its first task.
type loaded struct {
	playbooks []*playbook.Playbook
	inventory *inventory.Inventory
	extraVars map[string]any
	vault     *vault.Keyring
}

// load reads the playbooks, the inventory with the limit applied, and the extra variables. An
// error comes with the run's exit code, as ansible-playbook's: 4 for a file that cannot be
// parsed, 1 otherwise.
func load(f runFlags, cfg *config.Config, playbookPaths []string, warn func(string)) (loaded, int, error) {
	var in loaded
	var err error
	if in.vault, err = vaultKeys(f.vault, os.Getenv, warn); err != nil {
		return in, executor.RCError, err
	}
	// Role names and import_role's arguments are templated with the extra vars.
	if in.extraVars, err = parseExtraVars(f.extraVars, in.vault); err != nil {
		return in, executor.RCError, err
	}
	opts := roleOptions(cfg, playbookPaths)
	opts.Vault, opts.ExtraVars = in.vault, in.extraVars
	for _, p := range playbookPaths {
		pb, err := playbook.LoadWith(p, opts)
		if err != nil {
			var perr *playbook.Error
			if !errors.As(err, &perr) {
				return in, executor.RCError, err // a vault error, as Ansible's exit code for it
			}
			return in, executor.RCUnreachable, err
		}
		in.playbooks = append(in.playbooks, pb)
	}
	if f.syntaxCheck {
		return in, executor.RCOK, nil
	}
	inv, rc, err := loadInventory(f, in, warn)
	if err != nil {
		return in, rc, err
	}
	in.inventory = inv
	empty := len(inv.Hosts()) == 0
	if empty {
		warn("provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'")
	}
	// As ansible-playbook, a limit that leaves no host of a non-empty inventory is an error: a
	// typo in a CI job's limit must not pass as a run that did nothing.
	if hosts, err := inv.Select("all"); err != nil {
		return in, executor.RCError, err
	} else if len(hosts) == 0 && !empty {
		return in, executor.RCError, errors.New("Specified inventory, host pattern and/or --limit leaves us with no hosts to target.")
	}
	return in, executor.RCOK, nil
}

// loadInventory reads the inventory's sources with the playbooks' group_vars and host_vars and
// the limit: before the run, and again for meta: refresh_inventory. An error comes with the
// run's exit code.
func loadInventory(f runFlags, in loaded, warn func(string)) (*inventory.Inventory, int, error) {
	inv, err := inventory.LoadWith(f.inventories, inventory.Options{Warn: warn, Vault: in.vault})
	if err != nil {
		return nil, executor.RCUnreachable, err
	}
	for _, pb := range in.playbooks {
		if err := inv.AddVarsDir(filepath.Dir(pb.Path)); err != nil {
			return nil, executor.RCUnreachable, err
		}
	}
	if f.limit != "" {
		if err := inv.Limit(f.limit); err != nil {
			return nil, executor.RCError, err
		}
	}
	return inv, executor.RCOK, nil
}

// fillFrom gives the flags the command line left unset their value from the configuration
// (tally's file, then Ansible's: config.Read).
func (f *runFlags) fillFrom(fs *pflag.FlagSet, cfg *config.Config) {
	str := func(flag string, dst *string, v string) {
		if !fs.Changed(flag) && v != "" {
			*dst = v
		}
	}
	str("user", &f.user, cfg.RemoteUser)
	str("connection", &f.connection, cfg.Connection)
	str("private-key", &f.privateKey, cfg.PrivateKeyFile)
	str("ssh-common-args", &f.commonArgs, cfg.SSHCommonArgs)
	str("ssh-extra-args", &f.extraArgs, cfg.SSHExtraArgs)
	str("become-user", &f.becomeUser, cfg.BecomeUser)
	str("become-method", &f.becomeMethod, cfg.BecomeMethod)
	if !fs.Changed("inventory") {
		f.inventories = cfg.Inventory
	}
	if !fs.Changed("forks") {
		f.forks = cmp.Or(cfg.Forks, 5)
	}
	if !fs.Changed("become") && cfg.Become != nil {
		f.become = *cfg.Become
	}
}

// sshOptions gathers the run-wide SSH settings from the flags, the environment and the
// configuration (config.Read), in that order, asking for passwords when -k or -K say so.
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
	if v := os.Getenv("TALLY_HOST_KEY_CHECKING"); v != "" {
		check, ok := config.ParseBool(v)
		if !ok {
			return opts, "", fmt.Errorf("TALLY_HOST_KEY_CHECKING=%q: want true or false", v)
		}
		opts.NoHostKeyChecking = !check
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

// vaultKeys reads the vault passwords the flags name, after those of the environment:
// $TALLY_VAULT_IDENTITY_LIST (else $ANSIBLE_VAULT_IDENTITY_LIST, comma-separated
// LABEL@SOURCE) and $TALLY_VAULT_PASSWORD_FILE (else $ANSIBLE_VAULT_PASSWORD_FILE), as
// ansible-playbook does.
func vaultKeys(src vault.Sources, getenv func(string) string, warn func(string)) (*vault.Keyring, error) {
	if ids := envFirst(getenv, "TALLY_VAULT_IDENTITY_LIST", "ANSIBLE_VAULT_IDENTITY_LIST"); ids != "" {
		var list []string
		for _, id := range strings.Split(ids, ",") {
			if id = strings.TrimSpace(id); id != "" {
				list = append(list, id)
			}
		}
		src.IDs = append(list, src.IDs...)
	}
	if file := envFirst(getenv, "TALLY_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE"); file != "" {
		src.PasswordFiles = append(src.PasswordFiles, file)
	}
	return vault.Load(src, connection.PromptPassword, warn)
}

// envFirst is the value of the first of names that is set.
func envFirst(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// parseExtraVars reads -e values as ansible-playbook does: @file (a vars file, vault
// encrypted or not), a JSON or YAML mapping, or key=value pairs (values stay strings).
func parseExtraVars(values []string, keys *vault.Keyring) (map[string]any, error) {
	out := map[string]any{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		var m map[string]any
		switch {
		case strings.HasPrefix(v, "@"):
			var err error
			if m, err = playbook.LoadVarsFile(v[1:], playbook.Options{Vault: keys}); err != nil {
				return nil, fmt.Errorf("extra vars: %w", err)
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

// prompter asks vars_prompt questions when standard input is a terminal, as Ansible does:
// private answers on the terminal without echo, others on standard input; nil otherwise.
func prompter(stdout io.Writer) executor.Prompter {
	if !connection.IsTerminal(os.Stdin) {
		return nil
	}
	in := bufio.NewReader(os.Stdin)
	return func(msg string, private bool) (string, error) {
		if private {
			return connection.PromptPassword(msg)
		}
		fmt.Fprint(stdout, msg)
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("read the answer: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
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
