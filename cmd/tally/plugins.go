package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/pluginhost"
)

const pluginsUsage = `Usage:
  tally plugins list [flags]              the callback plugins found (./callback_plugins first), with their type, version, use (stdout, enabled), file, and the files they shadow
  tally plugins inspect [flags] NAME      a plugin's metadata, options, events and capabilities
  tally plugins warm [flags] [NAME...]    compile the named plugins (default: every one found) into the cache, so that the next run starts them at once
  tally plugins check [flags] FILE.wasm   check a module against the plugin ABI, for plugin authors (dir options get temporary directories, sink options a file sink in one)

Flags:
%s`

// pluginsCommand runs tally plugins and returns the exit code: 0, 1 when a plugin could not be
// found, loaded or checked, RCUsage when the command line is wrong.
func pluginsCommand(args []string, stdout, stderr io.Writer) int {
	var flags pluginhost.Flags
	var playbooks []string
	fs := pflag.NewFlagSet("tally plugins", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringArrayVar(&playbooks, "playbook", nil, "also search the callback_plugins directory next to this playbook, first (repeatable)")
	addCallbackFlags(fs, &flags)
	fs.Usage = func() { fmt.Fprintf(stderr, pluginsUsage, fs.FlagUsages()) }
	if rc, done := parseFlags(fs, args, stderr); done {
		return rc
	}
	sub, rest := fs.Arg(0), fs.Args()[min(1, fs.NArg()):]
	want := map[string]int{"list": 0, "inspect": 1, "check": 1, "warm": -1}
	if n, ok := want[sub]; sub == "" {
		return usageFailed(fs, errors.New("want a command: list, inspect, check or warm"), stderr)
	} else if !ok {
		return usageFailed(fs, fmt.Errorf("unknown command %q: want list, inspect, check or warm", sub), stderr)
	} else if n >= 0 && len(rest) != n {
		return usageFailed(fs, fmt.Errorf("%s takes %d arguments, not %d", sub, n, len(rest)), stderr)
	}
	warn := func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
	cfg, err := config.Read(os.Getenv, warn)
	if err != nil {
		errorf(stderr, err)
		return 1
	}
	s, err := pluginSettings(cfg, flags, playbooks)
	if err != nil {
		errorf(stderr, err)
		return 1
	}
	if len(playbooks) == 0 {
		s.Path = withProjectPlugins(s.Path)
	}
	h, err := pluginhost.New(s, stderr, warn)
	if err != nil {
		errorf(stderr, err)
		return 1
	}
	defer h.Close()
	ctx := context.Background()
	switch sub {
	case "list":
		err = listPlugins(ctx, h, stdout)
	case "inspect":
		err = inspectPlugin(ctx, h, rest[0], stdout)
	case "check":
		err = h.Check(ctx, rest[0], stdout)
	case "warm":
		err = warmPlugins(ctx, h, rest, stdout)
	}
	if err != nil {
		if sub != "check" { // check has printed its failure
			errorf(stderr, err)
		}
		return 1
	}
	return 0
}

func listPlugins(ctx context.Context, h *pluginhost.Host, w io.Writer) error {
	listings, err := h.List(ctx)
	if err != nil {
		return err
	}
	return pluginhost.WriteList(w, listings, h.Settings())
}

func inspectPlugin(ctx context.Context, h *pluginhost.Host, name string, w io.Writer) error {
	found, err := pluginhost.Discover(h.Settings().Path)
	if err != nil {
		return err
	}
	for _, f := range found {
		if f.Name == name {
			d, err := h.Describe(ctx, f.Path)
			if err != nil {
				return err
			}
			return pluginhost.WriteInspect(w, d, f.Shadows)
		}
	}
	return fmt.Errorf("no callback plugin %q in %v", name, h.Settings().Path)
}

// warmPlugins compiles the plugins called names, or every plugin found when there are none,
// into the compilation cache, saying which on w.
func warmPlugins(ctx context.Context, h *pluginhost.Host, names []string, w io.Writer) error {
	found, err := pluginhost.Discover(h.Settings().Path)
	if err != nil {
		return err
	}
	byName := map[string]string{}
	for _, f := range found {
		byName[f.Name] = f.Path
	}
	if len(names) == 0 {
		for _, f := range found {
			names = append(names, f.Name)
		}
	}
	var errs []error
	for _, name := range names {
		path, ok := byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("no callback plugin %q in %v", name, h.Settings().Path))
			continue
		}
		if err := h.Warm(ctx, path); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(w, "warm: %s (%s)\n", name, path)
	}
	return errors.Join(errs...)
}
