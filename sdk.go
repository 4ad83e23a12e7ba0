// Package tally holds the source of tally's plugin SDK, for `tally plugin new`: a plugin
// project outside this repository gets its own copy of the SDK, so that it builds with the Go
// toolchain alone, offline. The SDK itself is package pluginsdk.
package tally

import "embed"

// SDK is the source of pluginsdk and its packages (standard library only), as
// pluginsdk/..., with their tests' data.
//
//go:embed pluginsdk
var SDK embed.FS
