// Package benchutil measures what benchmarks report beside their time: the CPU time the
// process has used, which on a machine shared with other load says more than the wall time,
// and the peak growth of the heap.
package benchutil

import (
	"runtime/metrics"
	"syscall"
	"time"
)

// CPU is the CPU time this process has used, user and system.
func CPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// WatchHeap samples the size of the heap's objects (garbage not yet collected included) every
// millisecond until the returned stop is called, which gives the growth of its peak over its
// size when WatchHeap was called (0 if it never grew).
func WatchHeap() (stop func() uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	done, peak := make(chan struct{}), make(chan uint64, 1)
	go func() {
		var top uint64
		for {
			metrics.Read(s)
			if h := s[0].Value.Uint64(); h > base {
				top = max(top, h-base)
			}
			select {
			case <-done:
				peak <- top
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-peak
	}
}
