package executor

import (
	"context"
	"fmt"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/template"
)

// Strategies tally runs a play with (the play's strategy keyword).
const (
	strategyLinear     = "linear"
	strategyFree       = "free"
	strategyHostPinned = "host_pinned"
)

// strategy renders the play's strategy keyword; "" is linear, as Ansible's default.
func (r *playRun) strategy() (string, error) {
	if r.play.Strategy == "" {
		return strategyLinear, nil
	}
	v, err := r.x.tmpl.Render(r.play.Strategy, r.x.patternVars(r.vars))
	if err != nil {
		return "", fmt.Errorf("%s: strategy: %w", r.play.Pos, err)
	}
	switch s := fmt.Sprint(v); s {
	case strategyLinear, strategyFree, strategyHostPinned:
		return s, nil
	default:
		return "", fmt.Errorf("%s: Invalid play strategy specified: %s", r.play.Pos, s)
	}
}

// runSection runs one section (pre_tasks, tasks or post_tasks) of the batch. Linear runs
// each task on every host before the next; free and host_pinned let each host go through
// the whole section without waiting for the others. tally runs those hosts one after the
// other, which is one of the orders Ansible's free strategy may take: each host's results
// are the same, only the interleaving of events differs.
func (r *playRun) runSection(ctx context.Context, tasks []*compiled, strategy string) error {
	if strategy == strategyLinear {
		_, err := r.runList(ctx, tasks, r.active(r.batch), false)
		return err
	}
	for _, h := range r.active(r.batch) {
		if ctx.Err() != nil || r.stopped {
			return nil
		}
		if _, err := r.runList(ctx, tasks, []*inventory.Host{h}, false); err != nil {
			return err
		}
	}
	return nil
}

// forceHandlers reports whether handlers run on hosts that failed (the play's force_handlers
// keyword, else --force-handlers).
func (r *playRun) forceHandlers() (bool, error) {
	if r.play.ForceHandlers == nil {
		return r.x.cfg.ForceHandlers, nil
	}
	v, err := r.x.tmpl.Render(r.play.ForceHandlers, r.x.patternVars(r.vars))
	if err != nil {
		return false, fmt.Errorf("%s: force_handlers: %w", r.play.Pos, err)
	}
	return template.Bool(v)
}
