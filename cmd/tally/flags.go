package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// RCUsage is the exit code of a command line that cannot be parsed (an unknown flag, a bad
// value, a missing argument), as ansible-playbook's argument parser exits.
const RCUsage = 2

// RCBadOptions is the exit code of options that parse but cannot be used (an invalid job ID),
// as ansible-playbook's AnsibleOptionsError.
const RCBadOptions = 5

// notYet are the flags of ansible-playbook that tally does not implement yet. They are
// declared, hidden, so that using one says so instead of "unknown flag". Implementing one means
// deleting its row here and declaring the real flag in runCommand.
var notYet = []struct {
	long, short string
	value       bool // takes a value
}{
	{"step", "", false},
	{"flush-cache", "", false},
	{"become-password-file", "", true},
	{"connection-password-file", "", true},
	{"module-path", "M", true},
	{"scp-extra-args", "", true},
	{"sftp-extra-args", "", true},
}

// notYetValue swallows a flag of notYet: whether it was given is what counts (Changed).
type notYetValue struct{ bool bool }

func (v *notYetValue) String() string   { return "" }
func (v *notYetValue) Set(string) error { return nil }
func (v *notYetValue) Type() string {
	if v.bool {
		return "bool"
	}
	return "string"
}

// addNotYetFlags declares the hidden flags of notYet on fs.
func addNotYetFlags(fs *pflag.FlagSet) {
	for _, f := range notYet {
		fl := fs.VarPF(&notYetValue{bool: !f.value}, f.long, f.short, "not supported yet")
		if !f.value {
			fl.NoOptDefVal = "true"
		}
		fl.Hidden = true
	}
}

// notYetGiven returns the error for the first flag of notYet that the command line gave.
func notYetGiven(fs *pflag.FlagSet) error {
	for _, f := range notYet {
		if fs.Changed(f.long) {
			return fmt.Errorf("tally does not support --%s yet", f.long)
		}
	}
	return nil
}

// notYetList names the flags of notYet, for --help.
func notYetList() string {
	var names []string
	for _, f := range notYet {
		names = append(names, "--"+f.long)
	}
	return strings.Join(names, ", ")
}

// usageError is a mistake on the command line: it is printed with the command's usage, and the
// command exits RCUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// parseFlags parses args into fs, which prints its usage with fs.Usage. It returns done when
// the command must end now, with rc: 0 after --help, RCUsage after a mistake, which it has
// printed with the usage as ansible-playbook does.
func parseFlags(fs *pflag.FlagSet, args []string, stderr io.Writer) (rc int, done bool) {
	fs.SetOutput(io.Discard) // pflag's own message is printed by usageFailed, once
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) { // pflag has printed the usage
		return 0, true
	}
	if err == nil {
		err = notYetGiven(fs)
	}
	if err != nil {
		return usageFailed(fs, err, stderr), true
	}
	return 0, false
}

// usageFailed prints the usage of fs and err after it, as argparse does, and returns RCUsage.
func usageFailed(fs *pflag.FlagSet, err error, stderr io.Writer) int {
	fs.Usage()
	fmt.Fprintf(stderr, "%s: error: %v\n", fs.Name(), err)
	return RCUsage
}
