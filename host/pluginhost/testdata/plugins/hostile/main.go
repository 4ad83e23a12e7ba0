// Command hostile is testplugins.Hostile as a WebAssembly plugin.
package main

import (
	"github.com/tallyrun/tally/host/pluginhost/internal/testplugins"
	"github.com/tallyrun/tally/pluginsdk"
)

func init() { pluginsdk.Register(testplugins.HostileMeta, &testplugins.Hostile{}) }

func main() {}
