// Package executor runs parsed playbooks against an inventory with Ansible's linear strategy:
// each task runs on every active host (at most Forks at a time) before the next task starts.
// It reports everything it does as events to an Emitter (the collector) and calls no callback
// itself.
//
// Within one task the hosts run in parallel and read only state that no goroutine changes
// during the task; what a task leaves behind (registered results, facts, failures,
// notifications) is applied once every host has finished it. That keeps the shared state
// single-writer without locks on the hot path.
package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/lookup"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// Exit codes of a run, as ansible-playbook's.
const (
	RCOK          = 0
	RCError       = 1
	RCFailed      = 2
	RCUnreachable = 4 // also a parse error
	RCInterrupted = 99
)

// Status words of a run, as the final stats call reports them.
const (
	StatusSuccessful  = "successful"
	StatusFailed      = "failed"
	StatusUnreachable = "unreachable"
	StatusInterrupted = "interrupted"
	StatusError       = "error"
)

// Emitter receives the events of a run. Emit must be safe for concurrent use.
type Emitter interface {
	Emit(e *event.Event)
}

// Connector opens a connection to a host described by its connection variables
// (ansible_connection, ansible_host, ansible_port, ansible_user, ...).
type Connector func(ctx context.Context, host string, vars map[string]any) (connection.Connection, error)

// Config is what a run needs besides the playbooks.
type Config struct {
	Inventory  *inventory.Inventory
	Forks      int            // at most this many hosts work at once; default 5
	ExtraVars  map[string]any // -e, highest precedence
	Tags       []string       // --tags; empty means all
	SkipTags   []string       // --skip-tags
	RemoteUser string         // -u
	Connection string         // -c; default "ssh", as Ansible's "smart"
	Become     bool           // -b
	BecomeUser string
	// BecomeMethod is --become-method: the method when neither play nor host sets one.
	BecomeMethod string
	BecomePass   string // -K; a host's ansible_become_password overrides it
	Verbosity    int
	// AnsibleManaged is ansible_managed in the template module; default "Ansible managed".
	AnsibleManaged string
	Check          bool   // --check: modules report what they would change, changing nothing
	Diff           bool   // --diff: modules report what they change as before/after ("diff")
	StartAt        string // --start-at-task: the name (a glob) of the task to start at
	// ForceHandlers runs notified handlers on hosts that failed, as --force-handlers; a
	// play's force_handlers keyword overrides it.
	ForceHandlers bool
	Emitter       Emitter
	// Connect opens connections; nil uses SSHConnector with Ansible's SSH defaults.
	Connect Connector
	// Vault opens vault-encrypted vars files and included task files; nil has no secrets.
	Vault *vault.Keyring
	// Prompt asks vars_prompt questions; nil: there is no terminal to ask on.
	Prompt Prompter
	// Warn receives warnings about the run (an inventory pattern that
	// matched nothing); nil drops them.
	Warn func(string)
	// RefreshInventory reads the inventory's sources again, with the limit, for meta:
	// refresh_inventory; nil refuses that meta task.
	RefreshInventory func() (*inventory.Inventory, error)
}

// Outcome is how a run ended.
type Outcome struct {
	RC     int
	Status string
	Err    error // a fatal error that ended the run early, if any
}

// Executor runs playbooks. It is used for one run, from one goroutine.
type Executor struct {
	cfg     Config
	tmpl    *template.Engine
	lookups *lookup.Registry
	conns   connCache
	omit    string

	// Host state that outlives a play, keyed by inventory host name. Written only between
	// tasks (see the package comment), but for the entry host adds, under hostsMu: a task may
	// look up a host outside the play (a delegate) while it runs on its hosts.
	hosts       map[string]*hostState
	hostsMu     sync.Mutex
	failed      map[string]bool // failed in some play: skipped by every later play
	unreachable map[string]bool
	playbookID  string
	roles       map[*playbook.Role]*roleState
	// handlerRoles are the roles whose handlers include_role has added to their play.
	handlerRoles map[*playbook.Role]bool
	started      bool // --start-at-task's task was reached
	// promptWarned: the warning that vars_prompt cannot ask was given.
	promptWarned bool
	// dynamic are the add_host and group_by changes made so far, which meta:
	// refresh_inventory makes again on the inventory it reads, as Ansible's.
	dynamic []func(*inventory.Inventory) (bool, error)
}

// hostState is what tally knows about a host beyond its inventory variables.
type hostState struct {
	inv     *inventory.Host
	invVars map[string]any // inventory variables, computed once
	facts   map[string]any // gathered facts (setup), without the ansible_ prefix
	// bareFacts are the facts of facts that a module returned without the ansible_ prefix:
	// variables under their own name.
	bareFacts map[string]bool
	setFacts  map[string]any // set_fact and registered results
	// included holds include_vars results (Ansible's vars cache), below set_fact.
	included map[string]any
	// hostvars caches this host's variables as other hosts see them through hostvars; nil
	// after a change.
	hostvars map[string]any
}

// New returns an executor for one run.
func New(cfg Config) *Executor {
	if cfg.Forks <= 0 {
		cfg.Forks = 5
	}
	if cfg.Connection == "" {
		cfg.Connection = "ssh"
	}
	if cfg.Connect == nil {
		cfg.Connect = SSHConnector(connection.SSHOptions{})
	}
	if cfg.Warn == nil {
		cfg.Warn = func(string) {}
	}
	if cfg.AnsibleManaged == "" {
		cfg.AnsibleManaged = config.DefaultAnsibleManaged
	}
	tmpl := template.New()
	lookups := lookup.New(tmpl, cfg.Vault, cfg.AnsibleManaged, cfg.Warn)
	tmpl.SetLookups(lookups)
	return &Executor{
		cfg:          cfg,
		tmpl:         tmpl,
		lookups:      lookups,
		omit:         "__omit_place_holder__" + uuid.NewString(),
		hosts:        map[string]*hostState{},
		failed:       map[string]bool{},
		unreachable:  map[string]bool{},
		roles:        map[*playbook.Role]*roleState{},
		handlerRoles: map[*playbook.Role]bool{},
	}
}

// Run runs the playbooks one after the other, as ansible-playbook does, and closes every
// connection it opened. Cancelling ctx interrupts the run: running commands are stopped, no
// new task starts, and the outcome is RCInterrupted.
func (x *Executor) Run(ctx context.Context, pbs []*playbook.Playbook) Outcome {
	defer x.conns.closeAll()
	rc := RCOK
	for _, pb := range pbs {
		x.playbookID = uuid.NewString()
		x.emit(&event.Event{UUID: x.playbookID, Event: event.PlaybookOnStart, Data: event.Data{Playbook: pb.Path}})
		var err error
		rc, err = x.runPlaybook(ctx, pb)
		if ctx.Err() != nil {
			return Outcome{RC: RCInterrupted, Status: StatusInterrupted}
		}
		if err != nil {
			var perr *playbook.Error
			if errors.As(err, &perr) {
				return Outcome{RC: RCUnreachable, Status: StatusError, Err: err}
			}
			return Outcome{RC: RCError, Status: StatusError, Err: err}
		}
		if rc != RCOK {
			break
		}
	}
	switch rc {
	case RCOK:
		return Outcome{RC: rc, Status: StatusSuccessful}
	case RCUnreachable:
		return Outcome{RC: rc, Status: StatusUnreachable}
	default:
		return Outcome{RC: rc, Status: StatusFailed}
	}
}

// runPlaybook runs the plays of one playbook, returning ansible-playbook's exit code for it.
func (x *Executor) runPlaybook(ctx context.Context, pb *playbook.Playbook) (int, error) {
	rc := RCOK
	for _, play := range pb.Plays {
		var stop bool
		var err error
		rc, stop, err = x.runPlay(ctx, pb, play)
		if err != nil || stop || ctx.Err() != nil {
			return rc, err
		}
	}
	return rc, nil
}

// resultRC is the exit code the hosts' state gives, as Ansible's strategy computes it.
func (x *Executor) resultRC() int {
	switch {
	case len(x.unreachable) > 0:
		return RCUnreachable
	case len(x.failed) > 0:
		return RCFailed
	}
	return RCOK
}

func (x *Executor) emit(e *event.Event) { x.cfg.Emitter.Emit(e) }

func (x *Executor) host(h *inventory.Host) *hostState {
	x.hostsMu.Lock()
	defer x.hostsMu.Unlock()
	hs := x.hosts[h.Name]
	if hs == nil {
		hs = &hostState{inv: h, invVars: x.cfg.Inventory.HostVars(h), facts: map[string]any{}, setFacts: map[string]any{}, included: map[string]any{}}
		x.hosts[h.Name] = hs
	}
	return hs
}

// connCache keeps one connection per host for the whole run.
type connCache struct {
	mu    sync.Mutex
	conns map[string]*lazyConn
}

type lazyConn struct {
	once sync.Once
	conn connection.Connection
	err  error
}

// get returns the connection for key, opening it with open on first use. A failed open is
// remembered: the host stays unreachable for the run.
func (c *connCache) get(key string, open func() (connection.Connection, error)) (connection.Connection, error) {
	c.mu.Lock()
	if c.conns == nil {
		c.conns = map[string]*lazyConn{}
	}
	lc := c.conns[key]
	if lc == nil {
		lc = &lazyConn{}
		c.conns[key] = lc
	}
	c.mu.Unlock()
	lc.once.Do(func() { lc.conn, lc.err = open() })
	return lc.conn, lc.err
}

// reset closes key's connection, if open, so that the next task opens a new one (meta:
// reset_connection). Only between tasks: a task may be using it.
func (c *connCache) reset(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc := c.conns[key]; lc != nil {
		if lc.conn != nil {
			lc.conn.Close()
		}
		delete(c.conns, key)
	}
}

func (c *connCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, lc := range c.conns {
		if lc.conn != nil {
			lc.conn.Close()
		}
	}
}

// SSHConnector returns the Connector that opens what ansible_connection names: "local" runs
// commands on this machine, "ssh" (and Ansible's "smart" and "paramiko") connect over SSH with
// opts as the run-wide defaults.
func SSHConnector(opts connection.SSHOptions) Connector {
	return func(ctx context.Context, host string, vars map[string]any) (connection.Connection, error) {
		kind, _ := vars["ansible_connection"].(string)
		switch kind {
		case "local":
			return connection.NewLocal(host), nil
		case "ssh", "smart", "paramiko", "":
			c, err := connection.DialSSH(ctx, host, vars, opts)
			if err != nil {
				return nil, err // not a nil *SSH in a non-nil Connection
			}
			return c, nil
		}
		return nil, &connection.UnreachableError{Host: host, Err: fmt.Errorf("connection type %q is not supported (tally has local and ssh)", kind)}
	}
}
