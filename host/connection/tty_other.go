//go:build !linux

package connection

import "os"

// IsTerminal reports whether f is a terminal; tally prompts on Linux only, so elsewhere it is
// never one.
func IsTerminal(f *os.File) bool { return false }
