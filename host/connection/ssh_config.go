package connection

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SSHOptions are the run-wide SSH settings, from the command line and configuration: each is
// a default that a host's connection variables override. The zero value is Ansible's
// defaults: port 22, the local user name, host keys checked against ~/.ssh/known_hosts, a
// 10 s connect timeout.
type SSHOptions struct {
	User           string // -u, remote_user; empty: the user tally runs as
	Port           int    // remote_port; 0: 22
	PrivateKeyFile string // --private-key, private_key_file
	Password       string // -k, the login password
	// Timeout bounds the TCP connect, the SSH handshake and the login to each host (and to
	// each jump host) (--timeout, timeout); 0: 10 s.
	Timeout time.Duration
	// NoHostKeyChecking lets in hosts whose key is not known, as host_key_checking = False
	// or ANSIBLE_HOST_KEY_CHECKING=False do; a key that differs from a known one is still
	// refused. Checking is on by default.
	NoHostKeyChecking bool
	// KnownHostsFile replaces ~/.ssh/known_hosts as the file of known host keys.
	KnownHostsFile string
	// SSHArgs, CommonArgs and ExtraArgs are ssh command-line options as Ansible passes them
	// to ssh (ssh_args, --ssh-common-args, --ssh-extra-args); see DialSSH for the ones read.
	SSHArgs, CommonArgs, ExtraArgs string
	// KeepaliveInterval is how often an idle or busy connection is probed
	// (ServerAliveInterval); 0: 15 s, negative: never.
	KeepaliveInterval time.Duration
	// KeepaliveCountMax is how many intervals a probe may go unanswered before the host is
	// declared unreachable (ServerAliveCountMax); 0: 3.
	KeepaliveCountMax int
	// MaxSessions caps the sessions open at once on one connection, one of them kept for
	// file transfers (SFTP); 0: 8, below sshd's default MaxSessions of 10.
	MaxSessions int
}

const (
	defaultSSHTimeout     = 10 * time.Second
	defaultKeepalive      = 15 * time.Second
	defaultKeepaliveCount = 3
	defaultMaxSessions    = 8
)

// sshTarget is everything needed to reach one host: the connection variables, ssh options
// and run-wide defaults resolved.
type sshTarget struct {
	endpoint         sshEndpoint
	password         string
	keyFiles         []string
	identitiesOnly   bool     // only keyFiles: no agent keys, no default keys
	strict           string   // StrictHostKeyChecking: "yes", "no" or "accept-new"
	userKnownHosts   []string // accept-new records new keys in the first
	globalKnownHosts []string
	jumps            []sshEndpoint // ProxyJump hosts, first to last
	timeout          time.Duration
	keepalive        time.Duration // 0: off
	keepaliveMax     int
	maxSessions      int
}

// sshEndpoint is one host to log in to: the target or a jump host.
type sshEndpoint struct {
	user, host string
	port       int
}

func (e sshEndpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

func (e sshEndpoint) String() string {
	return fmt.Sprintf("%s@%s port %d", e.user, e.host, e.port)
}

// sshVars lists the connection variables of each setting, in the order Ansible's ssh plugin
// reads them.
var sshVars = struct {
	host, port, user, key, password, hostKeyChecking, timeout, sshArgs, commonArgs, extraArgs []string
}{
	host:            []string{"ansible_host", "ansible_ssh_host"},
	port:            []string{"ansible_port", "ansible_ssh_port"},
	user:            []string{"ansible_user", "ansible_ssh_user"},
	key:             []string{"ansible_private_key_file", "ansible_ssh_private_key_file"},
	password:        []string{"ansible_password", "ansible_ssh_pass", "ansible_ssh_password"},
	hostKeyChecking: []string{"ansible_host_key_checking", "ansible_ssh_host_key_checking"},
	timeout:         []string{"ansible_ssh_timeout"},
	sshArgs:         []string{"ansible_ssh_args"},
	commonArgs:      []string{"ansible_ssh_common_args"},
	extraArgs:       []string{"ansible_ssh_extra_args"},
}

// sshOptionSet collects ssh options as ssh does: the first value given for an option is the
// one used, except for IdentityFile, whose values add up.
type sshOptionSet struct {
	values     map[string]string // lower-case option name to value
	identities []string
}

func (o *sshOptionSet) set(name, value string) {
	name = strings.ToLower(name)
	if name == "identityfile" {
		o.identities = append(o.identities, value)
		return
	}
	if _, ok := o.values[name]; !ok {
		o.values[name] = value
	}
}

// resolveSSHTarget reads a host's connection variables over opts. Options are taken in the
// order Ansible puts them on ssh's command line, where the first one wins: ssh_args, then
// host key checking, port, key, user and timeout from variables and flags, then the common
// and extra args.
func resolveSSHTarget(name string, vars map[string]any, opts SSHOptions) (*sshTarget, error) {
	o := &sshOptionSet{values: map[string]string{}}
	add := func(names []string, dflt string) error {
		args, _ := varString(vars, names, dflt)
		if err := parseSSHArgs(args, o); err != nil {
			return fmt.Errorf("%s: %w", names[0], err)
		}
		return nil
	}
	if err := add(sshVars.sshArgs, opts.SSHArgs); err != nil {
		return nil, err
	}
	check := !opts.NoHostKeyChecking
	if s, ok := varString(vars, sshVars.hostKeyChecking, ""); ok {
		b, err := parseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sshVars.hostKeyChecking[0], err)
		}
		check = b
	}
	if !check {
		o.set("StrictHostKeyChecking", "no")
	}
	var port string
	if opts.Port != 0 {
		port = strconv.Itoa(opts.Port)
	}
	if port, ok := varString(vars, sshVars.port, port); ok {
		o.set("Port", port)
	}
	if key, ok := varString(vars, sshVars.key, opts.PrivateKeyFile); ok && key != "" {
		o.set("IdentityFile", key)
	}
	if u, ok := varString(vars, sshVars.user, opts.User); ok && u != "" {
		o.set("User", u)
	}
	timeout := opts.Timeout
	if s, ok := varString(vars, sshVars.timeout, ""); ok {
		secs, err := strconv.Atoi(s)
		if err != nil || secs <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive number of seconds", sshVars.timeout[0], s)
		}
		timeout = time.Duration(secs) * time.Second
	}
	if timeout > 0 {
		o.set("ConnectTimeout", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	}
	if err := add(sshVars.commonArgs, opts.CommonArgs); err != nil {
		return nil, err
	}
	if err := add(sshVars.extraArgs, opts.ExtraArgs); err != nil {
		return nil, err
	}

	host, _ := varString(vars, sshVars.host, name)
	password, _ := varString(vars, sshVars.password, opts.Password)
	t := &sshTarget{password: password, maxSessions: opts.MaxSessions}
	if t.maxSessions <= 0 {
		t.maxSessions = defaultMaxSessions
	}
	if err := o.resolve(t, host, opts); err != nil {
		return nil, err
	}
	return t, nil
}

// resolve fills t from the collected options and the defaults for what they leave unset.
func (o *sshOptionSet) resolve(t *sshTarget, host string, opts SSHOptions) error {
	var err error
	v := o.values
	if _, ok := v["proxycommand"]; ok && !strings.EqualFold(v["proxycommand"], "none") {
		return errors.New("ssh option ProxyCommand is not supported: use ProxyJump (-J) instead")
	}
	t.endpoint.host = host
	if t.endpoint.port, err = parsePort(v["port"], 22); err != nil {
		return err
	}
	if t.endpoint.user = unquote(v["user"]); t.endpoint.user == "" {
		if t.endpoint.user, err = localUser(); err != nil {
			return err
		}
	}
	for _, k := range o.identities {
		t.keyFiles = append(t.keyFiles, expandHome(unquote(k)))
	}
	if s, ok := v["identitiesonly"]; ok {
		if t.identitiesOnly, err = parseBool(s); err != nil {
			return fmt.Errorf("ssh option IdentitiesOnly: %w", err)
		}
	}
	switch s := strings.ToLower(unquote(v["stricthostkeychecking"])); s {
	case "", "yes", "true", "ask":
		t.strict = "yes" // asking needs a terminal per host: refuse instead, as batch mode does
	case "no", "false", "off":
		t.strict = "no"
	case "accept-new":
		t.strict = s
	default:
		return fmt.Errorf("ssh option StrictHostKeyChecking: unknown value %q (use yes, no or accept-new)", s)
	}
	t.userKnownHosts, t.globalKnownHosts = o.knownHostsFiles(opts.KnownHostsFile)
	if t.jumps, err = parseProxyJump(unquote(v["proxyjump"])); err != nil {
		return err
	}
	if t.timeout, err = parseSeconds("ConnectTimeout", v["connecttimeout"]); err != nil {
		return err
	}
	if t.timeout == 0 {
		t.timeout = defaultSSHTimeout
	}
	t.keepalive = opts.KeepaliveInterval
	switch {
	case t.keepalive == 0:
		t.keepalive = defaultKeepalive
	case t.keepalive < 0:
		t.keepalive = 0
	}
	if s, ok := v["serveraliveinterval"]; ok {
		if t.keepalive, err = parseSeconds("ServerAliveInterval", s); err != nil {
			return err
		}
	}
	t.keepaliveMax = opts.KeepaliveCountMax
	if t.keepaliveMax <= 0 {
		t.keepaliveMax = defaultKeepaliveCount
	}
	if s, ok := v["serveralivecountmax"]; ok {
		if t.keepaliveMax, err = strconv.Atoi(unquote(s)); err != nil || t.keepaliveMax <= 0 {
			return fmt.Errorf("ssh option ServerAliveCountMax: %q is not a positive number", s)
		}
	}
	return nil
}

// knownHostsFiles returns the known_hosts files to check, as ssh reads them: the user files
// (UserKnownHostsFile, else the given default, else ~/.ssh/known_hosts), then the global
// ones (GlobalKnownHostsFile, else /etc/ssh/ssh_known_hosts). "none" and /dev/null stand for
// no file.
func (o *sshOptionSet) knownHostsFiles(userDefault string) (user, global []string) {
	files := func(option, dflt string) []string {
		s, ok := o.values[option]
		if !ok {
			s = Quote(dflt)
		}
		words, _ := splitShellWords(s) // checked when the options were parsed
		var files []string
		for _, w := range words {
			if w != "none" && w != os.DevNull {
				files = append(files, expandHome(w))
			}
		}
		return files
	}
	if userDefault == "" {
		userDefault = "~/.ssh/known_hosts"
	}
	return files("userknownhostsfile", userDefault), files("globalknownhostsfile", "/etc/ssh/ssh_known_hosts")
}

// sshArgFlags are ssh's one-letter options that take an argument (from its getopt string).
const sshArgFlags = "bceilmopBDEFIJLOPQRSWw"

// parseSSHArgs adds to o the options of an ssh command line (Ansible's ssh_args,
// ssh_common_args, ssh_extra_args): -o, -p, -l, -i and -J. Other options do not change how
// tally connects and are ignored, as are ControlMaster and ControlPersist: the connection
// is kept for the whole run anyway.
func parseSSHArgs(args string, o *sshOptionSet) error {
	words, err := splitShellWords(args)
	if err != nil {
		return err
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if len(w) < 2 || w[0] != '-' {
			continue // not an option: ssh would take it for the host or the command
		}
		for j := 1; j < len(w); j++ {
			flag := w[j]
			if !strings.ContainsRune(sshArgFlags, rune(flag)) {
				continue
			}
			arg := w[j+1:]
			if arg == "" {
				if i+1 == len(words) {
					return fmt.Errorf("ssh option -%c needs an argument", flag)
				}
				i++
				arg = words[i]
			}
			if err := setSSHFlag(o, flag, arg); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

func setSSHFlag(o *sshOptionSet, flag byte, arg string) error {
	switch flag {
	case 'o':
		name, value, err := splitSSHOption(arg)
		if err != nil {
			return err
		}
		o.set(name, value)
	case 'p':
		o.set("Port", arg)
	case 'l':
		o.set("User", arg)
	case 'i':
		o.set("IdentityFile", arg)
	case 'J':
		o.set("ProxyJump", arg)
	}
	return nil
}

// splitSSHOption splits "Name=value", "Name value" or "Name = value" as ssh reads -o.
func splitSSHOption(s string) (name, value string, err error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t=")
	if i <= 0 {
		return "", "", fmt.Errorf("ssh option -o %q: want Name=value", s)
	}
	name, value = s[:i], strings.TrimLeft(s[i:], " \t")
	value = strings.TrimLeft(strings.TrimPrefix(value, "="), " \t")
	if _, err := splitShellWords(value); err != nil {
		return "", "", fmt.Errorf("ssh option %s: %w", name, err)
	}
	return name, value, nil
}

// parseProxyJump parses ProxyJump's comma-separated [user@]host[:port] list; "none" or empty
// means none.
func parseProxyJump(s string) ([]sshEndpoint, error) {
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	var hops []sshEndpoint
	for _, spec := range strings.Split(s, ",") {
		hop, err := parseJumpHost(strings.TrimPrefix(spec, "ssh://"))
		if err != nil {
			return nil, fmt.Errorf("ssh option ProxyJump %q: %w", s, err)
		}
		hops = append(hops, hop)
	}
	return hops, nil
}

func parseJumpHost(spec string) (sshEndpoint, error) {
	var e sshEndpoint
	if i := strings.LastIndexByte(spec, '@'); i >= 0 {
		e.user, spec = spec[:i], spec[i+1:]
	}
	e.host, e.port = spec, 22
	if h, p, err := net.SplitHostPort(spec); err == nil {
		if e.port, err = parsePort(p, 22); err != nil {
			return e, err
		}
		e.host = h
	} else if strings.HasPrefix(spec, "[") && strings.HasSuffix(spec, "]") {
		e.host = spec[1 : len(spec)-1]
	}
	if e.host == "" || strings.ContainsAny(e.host, "[]/ ") {
		return e, fmt.Errorf("bad jump host %q", spec)
	}
	if e.user == "" {
		// ssh logs in to a jump host as the local user unless ssh_config says otherwise.
		u, err := localUser()
		if err != nil {
			return e, err
		}
		e.user = u
	}
	return e, nil
}

func parsePort(s string, dflt int) (int, error) {
	s = unquote(s)
	if s == "" {
		return dflt, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("bad port %q: want a number from 1 to 65535", s)
	}
	return p, nil
}

// parseSeconds parses an ssh time option, a number of seconds; empty is 0.
func parseSeconds(option, s string) (time.Duration, error) {
	s = unquote(s)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("ssh option %s: %q is not a number of seconds", option, s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// parseBool parses a boolean as Ansible's boolean() does.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(unquote(s))) {
	case "y", "yes", "on", "1", "true", "t", "1.0":
		return true, nil
	case "n", "no", "off", "0", "false", "f", "0.0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (use yes or no)", s)
}

// varString returns the first of names set in vars, as a string; dflt, false if none is.
func varString(vars map[string]any, names []string, dflt string) (string, bool) {
	for _, n := range names {
		if v, ok := vars[n]; ok && v != nil {
			return fmt.Sprint(v), true
		}
	}
	return dflt, dflt != ""
}

// unquote removes the double quotes ssh allows around an option's value, as in
// -o User="bob", which Ansible itself passes.
func unquote(s string) string {
	if w, err := splitShellWords(s); err == nil && len(w) == 1 {
		return w[0]
	}
	return strings.TrimSpace(s)
}

func expandHome(path string) string {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	return filepath.Join(home, path[1:])
}

func localUser() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("no remote user given and the local user is unknown: %w", err)
	}
	return u.Username, nil
}

// splitShellWords splits s into words as Python's shlex.split, which Ansible applies to ssh
// arguments: blanks separate words, quotes and backslashes protect them.
func splitShellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
			continue
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("%q ends with a backslash", s)
			}
			i++
			w.WriteByte(s[i])
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == '\\' || s[j+1] == '"') {
					j++
				}
				w.WriteByte(s[j])
			}
			if j == len(s) {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			i = j
		default:
			w.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
