package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/spf13/pflag"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink"
)

const sinksUsage = `Usage:
  tally sinks flush [NAME...]   write the runs spooled for the sinks (all configured sinks by
                                default) while they could not take them (docs/sinks.md)

Flags:
%s`

// sinksCommand runs tally sinks and returns the exit code: 0, or 1 when a sink could not take
// its spooled runs (they stay in the spool) or the command line is wrong.
func sinksCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("tally sinks", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, sinksUsage, fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 1
	}
	if fs.Arg(0) != "flush" {
		fs.Usage()
		return 1
	}
	warn := func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
	cfg, err := config.Read(os.Getenv, warn)
	if err != nil {
		errorf(stderr, err)
		return 1
	}
	sinks := sink.WithDefault(cfg.Sinks, os.Getenv)
	names := fs.Args()[1:]
	if len(names) == 0 {
		names = slices.Sorted(maps.Keys(sinks))
	}
	spool := sink.DefaultSpool(os.Getenv)
	rc := 0
	for _, name := range names {
		c, ok := sinks[name]
		if !ok {
			errorf(stderr, fmt.Errorf("no sink named %q in the configuration", name))
			rc = 1
			continue
		}
		done, err := sink.Flush(context.Background(), name, c, spool, os.Getenv)
		fmt.Fprintf(stdout, "sink %s: %d spooled run(s) written\n", name, len(done))
		if err != nil {
			errorf(stderr, fmt.Errorf("sink %s: %w (the rest stay in %s)", name, err, spool.Dir))
			rc = 1
		}
	}
	return rc
}
