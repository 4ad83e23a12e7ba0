package executor

import (
	"fmt"

	"github.com/tallyrun/tally/host/module"
)

// defaultPoll is Ansible's DEFAULT_POLL_INTERVAL: seconds between checks of an async task
// that sets no poll.
const defaultPoll = 15

// asyncSpec returns spec run as the task's async and poll keywords say: unchanged without
// async (or with async: 0), else as a job on the host (module.AsyncRun). Its module runs on
// the host then, even one that would run on the controller, as Ansible's async does.
func (r *playRun) asyncSpec(c *compiled, spec module.Spec, vars map[string]any) (module.Spec, error) {
	if c.task.Async == nil {
		return spec, nil
	}
	seconds, err := r.intKeyword("async", c.task.Async, vars)
	if err != nil || seconds <= 0 {
		return spec, err
	}
	poll := defaultPoll
	if c.task.Poll != nil {
		if poll, err = r.intKeyword("poll", c.task.Poll, vars); err != nil {
			return spec, err
		}
	}
	spec.Run = module.AsyncRun(c.action(), spec, seconds, poll, sleep)
	return spec, nil
}

// intKeyword renders a keyword that takes a whole number of seconds.
func (r *playRun) intKeyword(name string, v any, vars map[string]any) (int, error) {
	rendered, err := r.x.tmpl.Render(v, vars)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	f, err := toFloat(rendered)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return int(f), nil
}
