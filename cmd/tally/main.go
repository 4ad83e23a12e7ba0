// Command tally runs Ansible playbooks and keeps one ordered record of every run.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `tally runs Ansible playbooks and keeps one ordered record of every run.

Usage:
  tally run [flags] PLAYBOOK...       run playbooks (the flags of ansible-playbook)
  tally plugins COMMAND               the callback plugins: list, inspect, check, warm (compile ahead)
  tally plugin new NAME               make a plugin project (Go or C) that builds as it is
  tally sinks flush [NAME...]         write the runs spooled while a sink was down
  tally runs list|show                the runs the db plugin recorded (docs/sinks.md)
  tally version                       print the version
  tally help                          print this help

Run 'tally run --help', 'tally plugins --help' and 'tally plugin --help' for their flags.
A mistake on the command line exits 2, after the usage (README.md lists the exit codes).
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(mainRC(os.Args[1:], os.Stdout, os.Stderr))
}

// mainRC runs the command line args and returns the exit code.
func mainRC(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return RCUsage
	}
	switch args[0] {
	case "run":
		return runCommand(args[1:], stdout, stderr)
	case "plugins":
		return pluginsCommand(args[1:], stdout, stderr)
	case "plugin":
		return pluginCommand(args[1:], stdout, stderr)
	case "sinks":
		return sinksCommand(args[1:], stdout, stderr)
	case "runs":
		return runsCommand(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "tally %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "%stally: error: unknown command %q\n", usage, args[0])
	return RCUsage
}
