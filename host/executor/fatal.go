package executor

import (
	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// fatal reports whether outcome o of task c, a failure or an unreachable host, ends the play
// for every host: as Ansible's linear strategy, when the task is any_errors_fatal or
// run_once, and not ignore_errors.
func (r *playRun) fatal(c *compiled, o *outcome, runOnce bool) bool {
	return (runOnce || r.flag(c.anyErrorsFatal, o.vars)) && !r.flag(c.ignoreErrors, o.vars)
}

// haltFatal ends the play for every active host of the batch but those in a rescue or always
// section, which finish it first (Ansible's linear strategy leaves hosts in those states
// alone); the playbook ends after the play.
func (r *playRun) haltFatal() {
	r.breakPlay = true
	for _, h := range r.active(r.batch) {
		if !r.shielded[h.Name] {
			r.halted[h.Name] = true
		}
	}
	if len(r.active(r.batch)) == 0 {
		r.x.emit(&event.Event{ParentUUID: r.playID, Event: event.PlaybookOnNoHostsRemaining, Data: playData(r.pb, r.play)})
	}
}

// shielding runs fn with hosts in a rescue or always section, as far as any_errors_fatal is
// concerned; unshielding runs fn with them in a block's tasks. Each restores the hosts'
// previous state after fn.
func (r *playRun) shielding(hosts []*inventory.Host, fn func() error) error {
	return r.withShield(hosts, true, fn)
}

func (r *playRun) unshielding(hosts []*inventory.Host, fn func() error) error {
	return r.withShield(hosts, false, fn)
}

func (r *playRun) withShield(hosts []*inventory.Host, on bool, fn func() error) error {
	prev := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		prev[h.Name] = r.shielded[h.Name]
		r.shielded[h.Name] = on
	}
	err := fn()
	for name, was := range prev {
		r.shielded[name] = was
	}
	return err
}
