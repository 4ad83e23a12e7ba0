// Command sinker is testplugins.Sinker as a WebAssembly plugin.
package main

import (
	"github.com/tallyrun/tally/host/pluginhost/internal/testplugins"
	"github.com/tallyrun/tally/pluginsdk"
)

func init() { pluginsdk.Register(testplugins.SinkerMeta, &testplugins.Sinker{}) }

func main() {}
