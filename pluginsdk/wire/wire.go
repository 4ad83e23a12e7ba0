// Package wire is the binary encoding of tally's plugin ABI (docs/abi.md): the host encodes
// events and settings with it, and plugins decode them with the same code, compiled to
// WebAssembly. It depends on the standard library and the event schema only.
//
// Everything on the wire is a value: a kind byte, then the kind's payload. Numbers are
// little-endian. Lists, maps and records carry their size in bytes, so a reader skips what it
// does not know in one step; records name their fields with one-byte tags, so a field added
// later is skipped by older readers.
package wire

import (
	"errors"
	"fmt"
)

// ABIVersion is the version of the plugin ABI: the exports, the imports and this encoding. A
// module declares the version it implements by exporting a function named ABIMarker +
// version ("tally_abi_version_1").
const ABIVersion = 1

// ABIMarker is the prefix of the export that declares a module's ABI version.
const ABIMarker = "tally_abi_version_"

// Kind is the first byte of a value.
type Kind byte

// The kinds of value.
const (
	Null   Kind = 0 // no payload
	False  Kind = 1 // no payload
	True   Kind = 2 // no payload
	Int    Kind = 3 // int64, 8 bytes
	Float  Kind = 4 // float64 (IEEE 754), 8 bytes
	String Kind = 5 // u32 length, then UTF-8 bytes
	List   Kind = 6 // u32 size of the rest, u32 count, then count values
	Map    Kind = 7 // u32 size of the rest, u32 count, then count times (u32 key length, key bytes, value)
	Record Kind = 8 // u32 size of the rest, then fields (u8 tag, value) until the size is used
)

// Tags of an event record's fields. Fields appear in increasing tag order, and unset fields
// are left out; a later revision of the ABI adds fields only with tags above all of these, so
// a reader may stop at the last tag it knows and skip the rest of the record. Times are Int
// values of nanoseconds since the Unix epoch.
const (
	TagJobID      = 1  // String
	TagSeq        = 2  // Int
	TagUUID       = 3  // String
	TagParentUUID = 4  // String
	TagCreated    = 5  // Int (time)
	TagEvent      = 6  // String: the event type
	TagPlaybook   = 7  // String
	TagPlay       = 8  // String
	TagPattern    = 9  // String: play_pattern
	TagHost       = 10 // String
	TagTask       = 11 // Record: task fields below
	TagCond       = 12 // True: is_conditional
	TagIgnoreErr  = 13 // True: ignore_errors
	TagRescued    = 14 // True
	TagIgnoreUnr  = 15 // True: ignore_unreachable
	TagHandler    = 16 // String
	TagIncluded   = 17 // String
	TagStart      = 18 // Int (time)
	TagEnd        = 19 // Int (time)
	TagDuration   = 20 // Float: seconds
	TagResult     = 21 // Map: res
	TagStats      = 22 // Record: stats fields below
)

// Tags of a task record, in the same order rules.
const (
	TagTaskName   = 1 // String
	TagTaskAction = 2 // String
	TagTaskPath   = 3 // String: file:line
	TagTaskUUID   = 4 // String
	TagTaskTags   = 5 // List of String
	TagTaskArgs   = 6 // Map
)

// Tags of a stats record, in the same order rules.
const (
	TagStatsStatus = 1 // String
	TagStatsRC     = 2 // Int
	TagStatsStart  = 3 // Int (time)
	TagStatsEnd    = 4 // Int (time)
	TagStatsHosts  = 5 // Map: host -> Record of host counters below
	TagStatsCustom = 6 // Map: host -> Map (custom_stats)
	TagStatsGlobal = 7 // Map (global_custom_stats)
	TagStatsMsg    = 8 // String (message), only when set
)

// Tags of a host's counters in stats, each an Int.
const (
	TagHostOK = 1 + iota
	TagHostChanged
	TagHostFailures
	TagHostUnreachable
	TagHostSkipped
	TagHostRescued
	TagHostIgnored
	TagHostProcessed
)

// Tags of the settings record the host passes to tally_configure.
const (
	TagConfigJobID     = 1 // String
	TagConfigOptions   = 2 // Map: option name -> value of the option's type (lists are Lists of String)
	TagConfigVerbosity = 3 // Int: the number of -v flags
	TagConfigColor     = 4 // True: the terminal wants colour
	TagConfigLimit     = 5 // String: the command line's --limit
	TagConfigTags      = 6 // List of String: its --tags
	TagConfigSkipTags  = 7 // List of String: its --skip-tags
)

// Config is the payload of tally_configure: what the host tells a plugin before the first
// event.
type Config struct {
	JobID     string
	Options   map[string]any // set options only, of their declared type
	Verbosity int
	Color     bool
	CommandLine
}

// CommandLine is what the run's command line chose of the hosts and tasks: --limit, --tags,
// --skip-tags, as given (empty when not given).
type CommandLine struct {
	Limit          string
	Tags, SkipTags []string
}

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt payload")

func corrupt(off int, format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrCorrupt, off, fmt.Sprintf(format, args...))
}
