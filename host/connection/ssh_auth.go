package connection

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// defaultKeyFiles are the keys ssh tries when no key file is given, in its order.
var defaultKeyFiles = []string{"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ed25519"}

// sshAuth holds the credentials for logging in to a host and its jump hosts, and what they
// were, for the message when none worked.
type sshAuth struct {
	signers  []ssh.Signer // the key files, then ssh-agent's keys, then the default keys
	offered  []string     // where the signers came from
	unusable []string     // keys that could not be used, and why
	password string
	agent    net.Conn // nil: no agent
}

// newSSHAuth loads the public keys to offer as ssh does: the key files given, then the keys
// of the ssh-agent at SSH_AUTH_SOCK, then ~/.ssh/id_* if no key file was given.
// IdentitiesOnly keeps the given files only.
func newSSHAuth(t *sshTarget) *sshAuth {
	a := &sshAuth{password: t.password}
	for _, f := range t.keyFiles {
		a.addKeyFile(f, true)
	}
	if t.identitiesOnly {
		return a
	}
	a.addAgent()
	if len(t.keyFiles) == 0 {
		for _, f := range defaultKeyFiles {
			a.addKeyFile(expandHome(f), false)
		}
	}
	return a
}

// addKeyFile adds the private key in path. A key that cannot be used is noted rather than an
// error, as with ssh: another key, or ssh-agent holding this one, may still log in.
func (a *sshAuth) addKeyFile(path string, given bool) {
	pem, err := os.ReadFile(path)
	if err != nil {
		if given || !errors.Is(err, fs.ErrNotExist) {
			a.unusable = append(a.unusable, fmt.Sprintf("read private key: %v", err))
		}
		return
	}
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		a.unusable = append(a.unusable, fmt.Sprintf("private key %s needs a passphrase: add it to ssh-agent with ssh-add", path))
		return
	case err != nil:
		a.unusable = append(a.unusable, fmt.Sprintf("private key %s: %v", path, err))
		return
	}
	a.add(signer, path)
}

func (a *sshAuth) add(signer ssh.Signer, from string) {
	blob := string(signer.PublicKey().Marshal())
	for _, s := range a.signers {
		if string(s.PublicKey().Marshal()) == blob {
			return
		}
	}
	a.signers = append(a.signers, signer)
	a.offered = append(a.offered, from)
}

// addAgent adds the keys of the running ssh-agent. No agent, or one that fails, is no error.
func (a *sshAuth) addAgent() {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		a.unusable = append(a.unusable, fmt.Sprintf("ssh-agent: %v", err))
		return
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		a.unusable = append(a.unusable, fmt.Sprintf("ssh-agent: %v", err))
		return
	}
	a.agent = conn
	for _, s := range signers {
		a.add(s, "ssh-agent")
	}
}

// close lets go of ssh-agent, once every login that may need it is done.
func (a *sshAuth) close() {
	if a.agent != nil {
		a.agent.Close()
	}
}

// methods returns the ways to log in, in ssh's order: public keys, then the password, which
// only the target itself is given (never its jump hosts).
func (a *sshAuth) methods(withPassword bool) []ssh.AuthMethod {
	var m []ssh.AuthMethod
	if len(a.signers) > 0 {
		m = append(m, ssh.PublicKeys(a.signers...))
	}
	if withPassword && a.password != "" {
		pw := a.password
		m = append(m, ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = pw
			}
			return answers, nil
		}), ssh.Password(pw))
	}
	return m
}

// denied describes a failed login to e: what was offered, and how to give what is missing.
func (a *sshAuth) denied(e sshEndpoint, withPassword bool, err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "ssh: %s: permission denied", e)
	if len(a.offered) > 0 {
		fmt.Fprintf(&b, "; keys offered: %s", summarize(a.offered))
	} else {
		b.WriteString("; no usable key")
	}
	if withPassword && a.password != "" {
		b.WriteString("; a password was tried")
	}
	for _, u := range a.unusable {
		b.WriteString("; " + u)
	}
	b.WriteString(" (give a key with --private-key or ansible_ssh_private_key_file, or a password with ansible_password)")
	return fmt.Errorf("%s: %w", b.String(), err)
}

// summarize lists sources, counting repeats: "/k, 2 from ssh-agent".
func summarize(sources []string) string {
	var out []string
	count := map[string]int{}
	for _, s := range sources {
		if count[s]++; count[s] == 1 {
			out = append(out, s)
		}
	}
	for i, s := range out {
		if count[s] > 1 {
			out[i] = fmt.Sprintf("%d from %s", count[s], s)
		}
	}
	return strings.Join(out, ", ")
}

// hostKeys checks host keys against known_hosts files as ssh does, with the strictness of
// StrictHostKeyChecking: "yes" refuses unknown hosts, "accept-new" records them, "no" lets
// them in. A key that differs from the known one is refused whatever the strictness, where
// ssh would only warn: a user turning checking off means to reach new hosts, not to let a
// changed key in unnoticed.
type hostKeys struct {
	strict string   // "yes", "no" or "accept-new"
	files  []string // the known_hosts files that exist
	learn  string   // where accept-new records a new host's key; "": nowhere
	check  ssh.HostKeyCallback
}

// learnMu serializes appends to known_hosts files by the hosts of a run.
var learnMu sync.Mutex

func newHostKeys(t *sshTarget) (*hostKeys, error) {
	h := &hostKeys{strict: t.strict}
	if len(t.userKnownHosts) > 0 {
		h.learn = t.userKnownHosts[0]
	}
	for _, f := range append(append([]string(nil), t.userKnownHosts...), t.globalKnownHosts...) {
		if _, err := os.Stat(f); err == nil {
			h.files = append(h.files, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("known hosts: %w", err)
		}
	}
	if len(h.files) > 0 {
		check, err := knownhosts.New(h.files...)
		if err != nil {
			return nil, fmt.Errorf("read known hosts: %w", err)
		}
		h.check = check
	}
	return h, nil
}

// config returns the host key callback for the host at addr and the host key algorithms to
// ask it for: those of the keys known for it, so that a host known by one kind of key is not
// refused for showing another.
func (h *hostKeys) config(addr string) (ssh.HostKeyCallback, []string) {
	var algos []string
	for _, k := range h.known(addr) {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			algos = append(algos, t)
		}
	}
	return h.verify, algos
}

// known returns the keys the known_hosts files hold for addr.
func (h *hostKeys) known(addr string) []knownhosts.KnownKey {
	if h.check == nil {
		return nil
	}
	// No host has this key: the check fails and lists the keys it wanted.
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if errors.As(h.check(addr, &net.TCPAddr{IP: net.IPv4zero}, probe), &ke) {
		return ke.Want
	}
	return nil
}

func (h *hostKeys) verify(addr string, remote net.Addr, key ssh.PublicKey) error {
	err := error(&knownhosts.KeyError{})
	if h.check != nil {
		err = h.check(addr, remote, key)
	}
	var ke *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ke) && len(ke.Want) == 0:
		switch h.strict {
		case "no":
			return nil
		case "accept-new":
			return h.record(addr, key)
		}
		return &hostKeyError{addr: addr, key: key, files: h.files}
	case errors.As(err, &ke):
		return &hostKeyError{addr: addr, key: key, files: h.files, want: ke.Want, checkingOff: h.strict == "no"}
	case errors.As(err, &revoked):
		return fmt.Errorf("host key verification failed: the %s key of %s is revoked (%s:%d)",
			key.Type(), knownhosts.Normalize(addr), revoked.Revoked.Filename, revoked.Revoked.Line)
	}
	return fmt.Errorf("host key verification failed: %w", err)
}

// record appends the key of a new host to the user's known_hosts file, as accept-new does.
func (h *hostKeys) record(addr string, key ssh.PublicKey) error {
	if h.learn == "" {
		return nil
	}
	learnMu.Lock()
	defer learnMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(h.learn), 0o700); err != nil {
		return fmt.Errorf("record the host key of %s: %w", addr, err)
	}
	f, err := os.OpenFile(h.learn, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("record the host key of %s: %w", addr, err)
	}
	_, err = fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(addr)}, key))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("record the host key of %s in %s: %w", addr, h.learn, err)
	}
	return nil
}

// hostKeyError is a host key that is unknown (want is empty) or differs from the known ones.
type hostKeyError struct {
	addr  string
	key   ssh.PublicKey
	files []string
	want  []knownhosts.KnownKey
	// checkingOff: a changed key refused though host key checking is off
	checkingOff bool
}

func (e *hostKeyError) Error() string {
	host := knownhosts.Normalize(e.addr)
	offered := e.key.Type() + " " + ssh.FingerprintSHA256(e.key)
	if len(e.want) == 0 {
		h, port, _ := net.SplitHostPort(e.addr)
		files := "none exists"
		if len(e.files) > 0 {
			files = strings.Join(e.files, ", ")
		}
		return fmt.Sprintf("host key verification failed: no host key is known for %s (known hosts files: %s). "+
			"It offers %s: check that fingerprint, then add the key with `ssh-keyscan -p %s %s >> ~/.ssh/known_hosts`, "+
			"or turn checking off (host_key_checking = False, ANSIBLE_HOST_KEY_CHECKING=False or -o StrictHostKeyChecking=no)",
			host, files, offered, port, h)
	}
	w := e.want[0]
	msg := fmt.Sprintf("host key verification failed: the host key of %s has changed: it offers %s, but %s:%d holds %s %s. "+
		"Someone could be intercepting the connection, or the host was reinstalled; if the change is expected, "+
		"remove the old key with `ssh-keygen -R '%s' -f %s`",
		host, offered, w.Filename, w.Line, w.Key.Type(), ssh.FingerprintSHA256(w.Key), host, w.Filename)
	if e.checkingOff {
		msg += " (turning host key checking off lets unknown hosts in, not changed keys)"
	}
	return msg
}
