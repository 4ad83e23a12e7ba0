package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/tallyrun/tally/host/config"
)

// maxMessage is the most of a plugin's error message a warning shows.
const maxMessage = 2048

// instance is one running instance of a plugin's module. Calls into it are made one at a time.
type instance struct {
	mod       api.Module
	limits    config.Limits
	interrupt api.MutableGlobal
	log       *pluginLog
	stop      chan struct{} // closed when a call overruns its time limit, to end its sleep

	mu      sync.Mutex // guards running and expired against the time limit's timer
	running bool
	expired bool
}

// call calls fn under the time limit: when the limit passes, the timer sets the module's
// interrupt global, and the module's next loop traps.
func (in *instance) call(ctx context.Context, fn api.Function, params ...uint64) (uint64, error) {
	in.mu.Lock()
	in.running = true
	in.mu.Unlock()
	in.log.newCall()
	timer := time.AfterFunc(in.limits.Timeout, in.expire)
	res, err := fn.Call(ctx, params...)
	timer.Stop()
	in.mu.Lock()
	in.running = false
	expired := in.expired
	in.mu.Unlock()
	switch {
	case expired:
		return 0, fmt.Errorf("it ran longer than its time limit of %v and was stopped", in.limits.Timeout)
	case err != nil:
		return 0, in.trap(err)
	case len(res) == 0:
		return 0, nil
	}
	return res[0], nil
}

func (in *instance) expire() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.running && !in.expired {
		in.interrupt.Set(1)
		in.expired = true
		close(in.stop)
	}
}

// sleep is the plugin's clock sleep (WASI's poll_oneoff): a real one, so that a sleeping
// plugin takes no CPU, which the time limit ends. Then the plugin's next loop traps.
func (in *instance) sleep(ns int64) {
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-in.stop:
	}
}

// trap describes a call that did not return: the module trapped, exited or broke a limit.
func (in *instance) trap(err error) error {
	oom := in.outOfMemory()
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		if oom {
			return fmt.Errorf("it ran out of memory (its limit is %s) and exited with code %d (see its output in the log)", formatSize(in.limits.Memory), exit.ExitCode())
		}
		return fmt.Errorf("it exited with code %d (see its output in the log)", exit.ExitCode())
	}
	// wazero adds the WebAssembly stack trace after the first line.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if oom {
		return fmt.Errorf("it ran out of memory (its limit is %s): %s", formatSize(in.limits.Memory), msg)
	}
	return fmt.Errorf("it crashed: %s", msg)
}

// outOfMemory reports whether a call that did not return ran out of memory: its memory came
// near the limit, or its runtime said so before it gave up (the Go runtime gives up well
// below the limit when its next arena does not fit).
func (in *instance) outOfMemory() bool {
	return int64(in.mod.Memory().Size()) > in.limits.Memory*3/4 || in.log.saidOutOfMemory
}

// send writes payload into a buffer the module allocates (tally_alloc) and calls fn with it.
func (in *instance) send(ctx context.Context, fn api.Function, payload []byte) error {
	ptr, err := in.call(ctx, in.mod.ExportedFunction(exportAlloc), uint64(len(payload)))
	if err != nil {
		return fmt.Errorf("%s: %w", exportAlloc, err)
	}
	if !in.mod.Memory().Write(uint32(ptr), payload) {
		return fmt.Errorf("%s returned a buffer outside its memory", exportAlloc)
	}
	res, err := in.call(ctx, fn, ptr, uint64(len(payload)))
	if err != nil {
		return err
	}
	return in.status(res)
}

// status turns a call's result into an error: zero is success, anything else locates the
// module's error message.
func (in *instance) status(res uint64) error {
	msg, err := in.read(res)
	if err != nil {
		return err
	}
	if msg == nil {
		return nil
	}
	if len(msg) > maxMessage {
		msg = append(msg[:maxMessage:maxMessage], "..."...)
	}
	return fmt.Errorf("it returned an error: %s", appendEscaped(nil, msg))
}

// read returns the bytes a result locates: address in the high 32 bits, length in the low
// ones; nil for zero.
func (in *instance) read(res uint64) ([]byte, error) {
	if res == 0 {
		return nil, nil
	}
	ptr, n := uint32(res>>32), uint32(res)
	data, ok := in.mod.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("it returned garbage: %d bytes at %d are outside its memory", n, ptr)
	}
	return append([]byte(nil), data...), nil
}

// progress returns the seq of the event the plugin says it is handling, if it says.
func (p *Plugin) progress() (uint64, bool) {
	if p.Meta.Progress == 0 || p.inst == nil {
		return 0, false
	}
	return p.inst.mod.Memory().ReadUint64Le(p.Meta.Progress)
}
